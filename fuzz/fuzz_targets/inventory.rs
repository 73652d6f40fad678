//! The inventory loader on arbitrary input, two ways:
//!
//! 1. the input as inventory text in every format (TOML, YAML, JSON);
//! 2. the input's lines as field values spliced into a valid inventory (written by the toml and
//!    serde_json writers), so that hostile text gets past the checks and reaches the renderer.
//!
//! Then the model and the rendered tree. It must never panic; a refusal is a non-empty list
//! of diagnostics naming the file, one line each, with no control or bidi character from the
//! input; an accepted inventory renders root `.tf` files that parse as HCL, hold no live `${`
//! or `%{` and no template, call or operator (inventory text turned into code), and in which
//! every spliced value is a string literal equal to what was written.

#![no_main]

use fanin::inventory::{self, Format};
use hcl::{Body, Expression, ObjectKey, Structure};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use toml::{Table, Value};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (format, name) in [
        (Format::Toml, "fuzz.toml"),
        (Format::Yaml, "fuzz.yaml"),
        (Format::Json, "fuzz.json"),
    ] {
        check(text, format, name, &[]);
    }
    let (doc, literals) = spliced(text);
    let toml = toml::to_string(&doc).expect("a table serializes as TOML");
    check(&toml, Format::Toml, "spliced.toml", &literals);
    let json = serde_json::to_string(&doc).expect("a table serializes as JSON");
    check(&json, Format::Json, "spliced.json", &literals);
});

/// A valid inventory with the input's lines as values: the first character of a line picks
/// the field, the rest is the value. Also returns the values that must come out as literals
/// when the inventory is accepted.
fn spliced(text: &str) -> (Table, Vec<String>) {
    fn table<'a>(t: &'a mut Table, key: &str) -> &'a mut Table {
        match t.entry(key).or_insert_with(|| Value::Table(Table::new())) {
            Value::Table(t) => t,
            _ => unreachable!("only tables are inserted under these keys"),
        }
    }
    fn push(t: &mut Table, key: &str, value: &str) {
        if let Value::Array(items) = t.entry(key).or_insert_with(|| Value::Array(Vec::new())) {
            items.push(Value::String(value.to_string()));
        }
    }
    let s = |v: &str| Value::String(v.to_string());

    let mut doc = Table::new();
    doc.insert("version".into(), Value::Integer(1));
    let hub = table(&mut doc, "hub");
    hub.insert("account_id".into(), s("111111111111"));
    hub.insert("region".into(), s("us-east-1"));
    let mut member = Table::new();
    member.insert("account_id".into(), s("222222222222"));
    let mut member_key = "prod".to_string();
    let mut literals = Vec::new();

    for line in text.lines().take(16) {
        let mut chars = line.chars();
        let Some(field) = chars.next() else { continue };
        let value = chars.as_str();
        match field as u32 % 12 {
            0 => {
                table(&mut doc, "hub").insert("profile".into(), s(value));
                literals.push(value.to_string());
            }
            1 => {
                member.remove("role_arn");
                member.insert("profile".into(), s(value));
                literals.push(value.to_string());
            }
            2 => {
                push(table(&mut doc, "notify"), "emails", value);
                literals.push(value.to_string());
            }
            3 => {
                let (k, v) = value.split_once('\t').unwrap_or((value, ""));
                table(&mut doc, "tags").insert(k.to_string(), s(v));
                literals.push(k.to_string());
                literals.push(v.to_string());
            }
            4 => {
                table(&mut doc, "notify").insert("topic_name".into(), s(value));
                literals.push(value.to_string());
            }
            5 => {
                table(&mut doc, "settings").insert("external_id".into(), s(value));
            }
            6 => member_key = value.to_string(),
            7 => {
                table(&mut doc, "hub").insert("name".into(), s(value));
            }
            8 => {
                table(&mut doc, "settings").insert("name_prefix".into(), s(value));
            }
            9 => {
                table(&mut doc, "settings").insert("role_name".into(), s(value));
            }
            10 => {
                member.remove("profile");
                member.insert("role_arn".into(), s(value));
            }
            _ => push(&mut member, "regions", value),
        }
    }
    table(&mut doc, "members").insert(member_key, Value::Table(member));
    // A topic name given twice, or a profile replaced, leaves an earlier value out.
    let written = |v: &String| {
        let profiles = [
            doc.get("hub"),
            doc.get("members")
                .and_then(|m| m.as_table()?.values().next()),
        ];
        profiles
            .iter()
            .flatten()
            .any(|t| t.get("profile").and_then(Value::as_str) == Some(v))
            || doc.get("notify").is_some_and(|n| {
                n.get("topic_name").and_then(Value::as_str) == Some(v)
                    || n.get("emails")
                        .and_then(Value::as_array)
                        .is_some_and(|e| e.iter().any(|e| e.as_str() == Some(v)))
            })
            || doc
                .get("tags")
                .and_then(Value::as_table)
                .is_some_and(|t| t.iter().any(|(k, x)| k == v || x.as_str() == Some(v)))
    };
    literals.retain(|v| written(v));
    (doc, literals)
}

fn check(text: &str, format: Format, name: &str, literals: &[String]) {
    let path = Path::new(name);
    let model = inventory::parse(text, format, path)
        .and_then(|inventory| fanin::model::build(&inventory, path));
    let model = match model {
        Ok(model) => model,
        Err(diagnostics) => {
            assert!(!diagnostics.0.is_empty(), "refused without a diagnostic");
            // One line per problem, each naming the file, and no character of the inventory
            // that a terminal would act on or hide.
            let message = diagnostics.to_string();
            let lines: Vec<&str> = message.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let count = i > 0 && i == lines.len() - 1 && line.ends_with(" problems found");
                assert!(
                    count || line.starts_with(&format!("error: {name}")),
                    "line {i} is not an error about {name}: {message:?}"
                );
                assert!(
                    !line.chars().any(|c| c.is_control()
                        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
                    "raw control or bidi character in: {line:?}"
                );
            }
            return;
        }
    };
    let mut strings = Vec::new();
    for file in fanin::render::render(&model, &[]) {
        // The modules are fixed text (with templates of their own); the root is rendered.
        if !file.path.ends_with(".tf") || file.path.contains('/') {
            continue;
        }
        let text = std::str::from_utf8(&file.contents).expect("the output is UTF-8");
        for (marker, escape) in [("${", b'$'), ("%{", b'%')] {
            for (i, _) in text.match_indices(marker) {
                assert!(
                    i > 0 && text.as_bytes()[i - 1] == escape,
                    "{}: live {marker} at byte {i}:\n{text}",
                    file.path
                );
            }
        }
        let body = hcl::parse(text)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}\n{text}", file.path));
        check_body(&body, &file.path, &mut strings);
    }
    for literal in literals {
        assert!(
            strings.contains(literal),
            "{literal:?} is not a string literal of the output ({name})"
        );
    }
}

fn check_body(body: &Body, path: &str, strings: &mut Vec<String>) {
    for structure in body.iter() {
        match structure {
            Structure::Attribute(a) => check_expr(&a.expr, path, strings),
            Structure::Block(b) => check_body(&b.body, path, strings),
        }
    }
}

fn check_expr(expr: &Expression, path: &str, strings: &mut Vec<String>) {
    match expr {
        Expression::String(s) => strings.push(s.clone()),
        Expression::Null
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::Variable(_)
        | Expression::Traversal(_) => {}
        Expression::Array(items) => items.iter().for_each(|e| check_expr(e, path, strings)),
        Expression::Object(object) => {
            for (k, v) in object.iter() {
                match k {
                    ObjectKey::Identifier(i) => strings.push(i.as_str().to_string()),
                    ObjectKey::Expression(Expression::String(s)) => strings.push(s.clone()),
                    other => panic!("{path}: object key {other:?}"),
                }
                check_expr(v, path, strings);
            }
        }
        other => panic!("{path}: inventory text became code: {other:?}"),
    }
}
