//! `fanin schema`: the inventory's JSON Schema for editors. It is valid draft-07, the binary
//! prints it, it describes every field of every section the loader reads (and no other), and
//! every inventory fanin ships or drafts is valid against it. tests/inventory_errors.rs holds
//! it to every refused inventory there, tests/hostile.rs to every accepted random one, and the
//! unit tests in src/inventory/schema.rs each text rule to its check.

mod common;

use common::{fanin, inventory_schema, schema_verdict};
use fanin::inventory::{self, Format, Kind, json_schema};
use serde_json::Value;
use std::fs;

#[test]
fn the_schema_is_valid_draft_07() {
    let schema = json_schema();
    assert!(
        jsonschema::draft7::meta::is_valid(&schema),
        "{:?}",
        jsonschema::draft7::meta::validate(&schema)
    );
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
}

#[test]
fn fanin_schema_prints_it() {
    let output = fanin().arg("schema").output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(printed, json_schema());
    assert!(output.stdout.ends_with(b"}\n"));
    // The same bytes every time: it is meant to be committed beside the inventory.
    let again = fanin().arg("schema").output().unwrap();
    assert_eq!(output.stdout, again.stdout);
}

/// Each section of the loader is one object of the schema with exactly its fields, the
/// required ones required, nothing else allowed.
#[test]
fn every_section_is_an_object_with_exactly_its_fields() {
    let schema = json_schema();
    let definitions = schema["definitions"].as_object().unwrap();
    let sections = inventory::sections();
    assert_eq!(definitions.len(), sections.len() - 1, "{definitions:?}");
    for section in &sections {
        let mut names = section.names();
        names.sort();
        // The top level is the schema itself; each other section the one definition with
        // exactly its fields.
        let object = if section.path.is_empty() {
            &schema
        } else {
            let found: Vec<&Value> = definitions
                .values()
                .filter(|d| fields_of(d) == names)
                .collect();
            assert_eq!(found.len(), 1, "{}: {found:?}", section.path);
            found[0]
        };
        assert_eq!(fields_of(object), names, "{}", section.path);
        assert_eq!(object["additionalProperties"], false, "{}", section.path);
        let required: Vec<&str> = section
            .fields
            .iter()
            .filter_map(|f| f.required.then_some(f.name))
            .collect();
        let written: Vec<&str> = object["required"]
            .as_array()
            .map(|r| r.iter().map(|v| v.as_str().unwrap()).collect())
            .unwrap_or_default();
        assert_eq!(written, required, "{}", section.path);
        for field in &section.fields {
            let property = &object["properties"][field.name];
            let expected = match &field.kind {
                Kind::Flag => "boolean",
                Kind::Count | Kind::Days(_) | Kind::Version => "integer",
                Kind::Text(_) | Kind::Choice(_) => "string",
                Kind::TextList { .. } | Kind::Regions { .. } | Kind::Sections(_) => "array",
                Kind::Keyed { .. } | Kind::Tags | Kind::NamedTexts { .. } => "object",
                Kind::Section(_) => {
                    assert!(
                        property["$ref"].is_string(),
                        "{}.{}",
                        section.path,
                        field.name
                    );
                    continue;
                }
            };
            assert_eq!(
                property["type"], expected,
                "{}.{}",
                section.path, field.name
            );
        }
    }
}

/// The names of an object schema's properties, sorted.
fn fields_of(object: &Value) -> Vec<&str> {
    let mut fields: Vec<&str> = object["properties"]
        .as_object()
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    fields.sort();
    fields
}

#[test]
fn every_example_inventory_is_valid() {
    let mut checked = 0;
    for dir in common::examples() {
        for (extension, format) in [
            ("toml", Format::Toml),
            ("yaml", Format::Yaml),
            ("json", Format::Json),
        ] {
            let path = dir.join(format!("fanin.{extension}"));
            let Ok(text) = fs::read_to_string(&path) else {
                continue;
            };
            if let Err(errors) = schema_verdict(&text, format) {
                panic!("{}:\n{}", path.display(), errors.join("\n"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} example inventories");
}

/// `fanin init` drafts, in each format, with and without the AWS config they come from.
#[test]
fn every_init_draft_is_valid() {
    let temp = tempfile::tempdir().unwrap();
    let config = common::repo().join("tests/fixtures/aws-config");
    for (extension, format) in [
        ("toml", Format::Toml),
        ("yaml", Format::Yaml),
        ("json", Format::Json),
    ] {
        for from_config in [false, true] {
            let path = temp.path().join(format!("{from_config}/fanin.{extension}"));
            let mut init = fanin();
            init.arg("init").arg(&path);
            if from_config {
                init.arg("--from-aws-config").arg(&config).args([
                    "--hub",
                    "security",
                    "--email",
                    "secops@example.com",
                ]);
            }
            let output = init.current_dir(temp.path()).output().unwrap();
            assert!(output.status.success(), "{output:?}");
            let text = fs::read_to_string(&path).unwrap();
            if let Err(errors) = schema_verdict(&text, format) {
                panic!("{}:\n{}\n{text}", path.display(), errors.join("\n"));
            }
        }
    }
}

/// The schema refuses what it states: a few refusals of each kind of keyword.
#[test]
fn it_refuses_what_it_states() {
    let valid = r#"
version = 1
[hub]
account_id = "111111111111"
region = "eu-west-1"
[members.prod]
account_id = "222222222222"
"#;
    assert_eq!(schema_verdict(valid, Format::Toml), Ok(()));
    for (broken, what) in [
        (valid.replace("version = 1", "version = 2"), "version"),
        (valid.replace("\"222222222222\"", "\"2222\""), "pattern"),
        (valid.replace("\"222222222222\"", "222222222222"), "type"),
        (valid.replace("prod]", "Prod]"), "member key"),
        (valid.replace("eu-west-1", "eu-west-9"), "region"),
        (valid.replace("[hub]", "[hub]\nzone = 1"), "unknown field"),
        (
            valid.replace("account_id = \"111111111111\"\n", ""),
            "required",
        ),
        (format!("{valid}regions = []\n"), "empty member regions"),
        (
            format!("{valid}regions = [\"eu-west-1\", \"eu-west-1\"]\n"),
            "a region twice",
        ),
        (format!("{valid}[findings]\nstatuses = []\n"), "no status"),
        (
            format!("{valid}[findings]\nstatuses = [\"OPEN\"]\n"),
            "status",
        ),
        (
            format!("{valid}[settings]\nlayout = \"forest\"\n"),
            "choice",
        ),
        (
            format!("{valid}[settings]\nbus_policy_quota = 0\n"),
            "count",
        ),
        (
            format!("{valid}[[archive]]\nname = \"a\"\nfilter = {{}}\n"),
            "empty filter",
        ),
        (
            format!("{valid}[[archive]]\nname = \"a\"\nfilter.x = {{ eq = [] }}\n"),
            "no value",
        ),
        (
            format!("{valid}[tags]\n\"aws:x\" = \"y\"\n"),
            "reserved tag",
        ),
        (
            valid.replace(
                "[members.prod]\naccount_id = \"222222222222\"\n",
                "[members]\n",
            ),
            "no member",
        ),
        // Across fields.
        (
            format!("{valid}regions = [\"cn-north-1\"]\n"),
            "a member region in another partition",
        ),
        (
            format!("{valid}role_arn = \"arn:aws-cn:iam::222222222222:role/fanin\"\n"),
            "a role ARN in another partition",
        ),
        (
            format!(
                "{valid}role_arn = \"arn:aws:iam::222222222222:role/fanin\"\nprofile = \"prod\"\n"
            ),
            "role_arn and profile",
        ),
        (
            format!(
                "{valid}[backend]\nbucket = \"acme-state\"\nregion = \"eu-west-1\"\nkey = \"{{stack}}\"\nuse_lockfile = false\n"
            ),
            "no lock",
        ),
        (
            format!("{valid}[findings]\nmin_severity = \"HIGH\"\n"),
            "a severity without its sources",
        ),
        (
            format!("{valid}[findings]\nsources = [\"guardduty\"]\nstatuses = [\"ACTIVE\"]\n"),
            "statuses without an Access Analyzer source",
        ),
    ] {
        assert!(
            schema_verdict(&broken, Format::Toml).is_err(),
            "{what}: accepted\n{broken}"
        );
    }
    // The same fields, where the rules across them hold.
    for (fine, what) in [
        (
            format!("{valid}role_arn = \"arn:aws:iam::222222222222:role/fanin\"\n"),
            "a role ARN in the hub's partition",
        ),
        (
            valid.replace("eu-west-1", "cn-north-1")
                + "regions = [\"cn-northwest-1\"]\nrole_arn = \"arn:aws-cn:iam::222222222222:role/fanin\"\n",
            "a China hub with China members",
        ),
        (
            format!(
                "{valid}[backend]\nbucket = \"acme-state\"\nregion = \"eu-west-1\"\nkey = \"{{stack}}\"\nuse_lockfile = false\ndynamodb_table = \"locks\"\n"
            ),
            "a DynamoDB lock",
        ),
        (
            format!(
                "{valid}[findings]\nsources = [\"security-hub\", \"internal-access\"]\nmin_severity = \"HIGH\"\nstatuses = [\"ACTIVE\"]\nresource_types = [\"AWS::S3::Bucket\"]\n"
            ),
            "filters with their sources",
        ),
        (
            format!("{valid}[findings]\nstatuses = [\"ACTIVE\"]\n"),
            "statuses of the default source",
        ),
    ] {
        let loaded = inventory::parse(&fine, Format::Toml, std::path::Path::new("fanin.toml"));
        assert!(loaded.is_ok(), "{what}: fanin refuses it\n{fine}");
        assert_eq!(
            schema_verdict(&fine, Format::Toml),
            Ok(()),
            "{what}\n{fine}"
        );
    }
    // And the compiled schema is the one this test file checks with.
    assert!(inventory_schema().is_valid(&common::inventory_value(valid, Format::Toml).unwrap()));
}

/// The lines that point Taplo and the YAML language server at the schema are comments to
/// fanin, and a JSON inventory's `"$schema"` key (JSON has no comments) is allowed and
/// ignored: the inventory loads as before, and is valid against the schema.
#[test]
fn the_editor_directives_load() {
    let minimal = common::repo().join("examples/minimal");
    for file in ["fanin.toml", "fanin.yaml", "fanin.json"] {
        let text = fs::read_to_string(minimal.join(file)).unwrap();
        let with = match file {
            "fanin.toml" => format!("#:schema ./fanin.schema.json\n{text}"),
            "fanin.yaml" => format!("# yaml-language-server: $schema=./fanin.schema.json\n{text}"),
            _ => text.replacen("{\n", "{\n  \"$schema\": \"./fanin.schema.json\",\n", 1),
        };
        let format = Format::from_path(std::path::Path::new(file)).unwrap();
        assert_ne!(with, text, "{file}");
        let path = std::path::Path::new(file);
        let loaded = |text: &str| {
            let inventory = inventory::parse(text, format, path).unwrap();
            // Positions aside: the directive moves every line down by one.
            let debug = format!("{inventory:?}");
            let mut parts = debug.split("line: ");
            let first = parts.next().unwrap().to_string();
            parts.fold(first, |out, part| {
                out + "line: _" + part.trim_start_matches(|c: char| c.is_ascii_digit())
            })
        };
        assert_eq!(loaded(&with), loaded(&text), "{file}");
        assert_eq!(schema_verdict(&with, format), Ok(()), "{file}");
    }
}
