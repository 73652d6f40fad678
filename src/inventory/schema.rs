//! The inventory's JSON Schema, for editors (Taplo for TOML, the YAML language server,
//! JSON editors): made from the same tables of fields the loader reads with, and from the
//! same rules it checks text with, so that it cannot drift from what `fanin check` accepts.
//!
//! The schema states each field's own rule as far as JSON Schema can (draft-07, the draft
//! Taplo and the YAML language server both read): its type, its pattern or its choices, its
//! lengths, list counts, required and unknown fields; and the rules across fields that
//! draft-07 can state (regions and role ARNs in the hub's partition, one way to reach an
//! account, a lock for the state, filters only with the sources they filter, and, stated
//! once per known region, the home region only in `hub.region` and a retired region out of
//! use), each made from the data the loader's own check uses. It accepts every inventory the
//! loader accepts. The rules that compare values that are not from a closed list (an account
//! listed twice, a member named like the hub, a role in another account, names equal but for
//! case) and what a custom pattern's JSON text holds are `fanin check`'s alone: JSON Schema
//! has no keyword that compares two values of an instance.

use super::checks::{self, TextSchema};
use super::fields::{FieldSpec, Kind, Section};
use super::{SUPPORTED_VERSION, read, sections};
use crate::regions;
use serde_json::{Map, Value, json};

/// The JSON Schema (draft-07) of an inventory of this version.
pub fn json_schema() -> Value {
    let all = sections();
    let (top, rest) = all
        .split_first()
        .expect("the top level's table comes first");
    let mut schema = Map::new();
    schema.insert(
        "$schema".into(),
        json!("http://json-schema.org/draft-07/schema#"),
    );
    schema.insert(
        "title".into(),
        json!(format!("fanin inventory, version {SUPPORTED_VERSION}")),
    );
    schema.insert(
        "description".into(),
        json!(
            "The accounts whose IAM Access Analyzer findings fanin forwards to one hub. Rules that compare values (each account once, a role in its own account) are checked by `fanin check`."
        ),
    );
    schema.extend(object(top));
    let mut whole = in_the_hubs_partition();
    whole.extend(home_region_not_retired_by_members_without_regions());
    schema.insert("allOf".into(), Value::Array(whole));
    let definitions: Map<String, Value> = rest
        .iter()
        .map(|section| {
            (
                definition_name(section.path),
                Value::Object(object(section)),
            )
        })
        .collect();
    schema.insert("definitions".into(), Value::Object(definitions));
    Value::Object(schema)
}

/// A section as an object schema: its fields, those required, no others.
fn object(section: &Section) -> Map<String, Value> {
    let properties: Map<String, Value> = section
        .fields
        .iter()
        .map(|field| (field.name.to_string(), property(field)))
        .collect();
    let required: Vec<&str> = section
        .fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name)
        .collect();
    let mut object = Map::new();
    object.insert("type".into(), json!("object"));
    object.insert("properties".into(), Value::Object(properties));
    if !required.is_empty() {
        object.insert("required".into(), json!(required));
    }
    object.insert("additionalProperties".into(), json!(false));
    let rules = across_fields(section);
    if !rules.is_empty() {
        object.insert("allOf".into(), Value::Array(rules));
    }
    object
}

/// The rules across the fields of one section that draft-07 can state, each as the loader
/// checks it (`read.rs`: `one_way_to_reach`, `backend`, `filters_meet_their_sources`).
fn across_fields(section: &Section) -> Vec<Value> {
    let has = |name: &str| section.fields.iter().any(|f| f.name == name);
    let mut rules = Vec::new();
    if has("role_arn") && has("profile") {
        rules.push(json!({ "not": { "required": ["role_arn", "profile"] } }));
    }
    if has("use_lockfile") && has("dynamodb_table") {
        rules.push(json!({
            "if": {
                "properties": { "use_lockfile": { "const": false } },
                "required": ["use_lockfile"],
            },
            "then": { "required": ["dynamodb_table"] },
        }));
    }
    if has("regions") && has("retired_regions") {
        rules.extend(retired_regions_out_of_use());
    }
    if section.path == "hub" {
        rules.extend(home_region_only_in_region());
    }
    if section.path == "findings" {
        // Without `sources` only external access is forwarded: the Access Analyzer filters
        // then filter it, and `min_severity` filters nothing.
        for filter in ["statuses", "resource_types"] {
            rules.push(json!({
                "if": {
                    "properties": { filter: { "minItems": 1 } },
                    "required": [filter],
                },
                "then": {
                    "properties": {
                        "sources": { "contains": { "enum": read::ACCESS_ANALYZER_SOURCES } },
                    },
                },
            }));
        }
        rules.push(json!({
            "if": { "required": ["min_severity"] },
            "then": {
                "properties": {
                    "sources": { "contains": { "enum": read::SEVERITY_SOURCES } },
                },
                "required": ["sources"],
            },
        }));
    }
    rules
}

// JSON Schema cannot compare two values of an instance, but a region is one of the known
// ones (the region rule is an enum): a rule that compares regions is stated once per region.

/// A retired region is not also in `regions` (`rules.rs`: `retired_regions_out_of_use`).
fn retired_regions_out_of_use() -> Vec<Value> {
    regions::all()
        .map(|region| {
            json!({
                "not": {
                    "properties": {
                        "regions": { "contains": { "const": region } },
                        "retired_regions": { "contains": { "const": region } },
                    },
                    "required": ["regions", "retired_regions"],
                },
            })
        })
        .collect()
}

/// The hub's home region is neither in `hub.regions` (which lists the others) nor retired
/// (`rules.rs`: `hub_regions_without_home`, `retired_regions_out_of_use`).
fn home_region_only_in_region() -> Vec<Value> {
    regions::all()
        .map(|region| {
            let elsewhere = json!({ "not": { "contains": { "const": region } } });
            json!({
                "if": { "properties": { "region": { "const": region } }, "required": ["region"] },
                "then": { "properties": { "regions": elsewhere, "retired_regions": elsewhere } },
            })
        })
        .collect()
}

/// A member without `regions` uses the hub's home region, so it cannot retire it
/// (`rules.rs`: `retired_regions_out_of_use`).
fn home_region_not_retired_by_members_without_regions() -> Vec<Value> {
    regions::all()
        .map(|region| {
            let member = json!({
                "if": { "not": { "required": ["regions"] } },
                "then": {
                    "properties": {
                        "retired_regions": { "not": { "contains": { "const": region } } },
                    },
                },
            });
            when_the_hubs_region_is(
                json!({ "const": region }),
                json!({ "properties": { "members": { "additionalProperties": member } } }),
            )
        })
        .collect()
}

/// EventBridge cannot deliver across partitions, and a role of another partition cannot be
/// assumed from the hub's (`rules.rs`: `regions_in_hub_partition`,
/// `role_arns_match_account_and_partition`): one rule per partition, keyed on the hub's
/// home region.
fn in_the_hubs_partition() -> Vec<Value> {
    regions::partitions()
        .into_iter()
        .map(|partition| {
            let names = regions::names_in(partition);
            let regions = json!({ "items": { "enum": names } });
            let account = json!({
                "properties": {
                    "regions": regions,
                    "retired_regions": regions,
                    "role_arn": { "pattern": format!("^arn:{partition}:") },
                },
            });
            when_the_hubs_region_is(
                json!({ "enum": names }),
                json!({
                    "properties": {
                        "hub": account,
                        "members": { "additionalProperties": account },
                    },
                }),
            )
        })
        .collect()
}

/// The whole inventory's rule `then` for when `hub.region` matches `region`.
fn when_the_hubs_region_is(region: Value, then: Value) -> Value {
    json!({
        "if": {
            "properties": {
                "hub": { "properties": { "region": region }, "required": ["region"] },
            },
            "required": ["hub"],
        },
        "then": then,
    })
}

fn property(field: &FieldSpec) -> Value {
    let mut schema = match value(&field.kind) {
        Value::Object(map) => map,
        _ => unreachable!("every kind is an object schema"),
    };
    let description: Vec<&str> = field.doc.iter().map(|line| line.trim()).collect();
    if !description.is_empty() {
        schema.insert("description".into(), json!(description.join(" ")));
    }
    Value::Object(schema)
}

fn value(kind: &Kind) -> Value {
    match kind {
        Kind::Version => json!({ "type": "integer", "const": SUPPORTED_VERSION }),
        Kind::Text(text) => string(text),
        Kind::Choice(choices) => json!({ "type": "string", "enum": choices }),
        Kind::Flag => json!({ "type": "boolean" }),
        Kind::Count => json!({ "type": "integer", "minimum": 1 }),
        Kind::Days(days) => json!({ "type": "integer", "enum": days }),
        Kind::TextList {
            item,
            each_once,
            min_items,
            max_items,
        } => {
            let mut list = json!({ "type": "array", "items": string(item) });
            if *each_once {
                list["uniqueItems"] = json!(true);
            }
            if *min_items > 0 {
                list["minItems"] = json!(min_items);
            }
            if let Some(max) = max_items {
                list["maxItems"] = json!(max);
            }
            list
        }
        Kind::Regions { at_least_one } => {
            let mut list = json!({
                "type": "array",
                "items": string(&checks::REGION.schema),
                "uniqueItems": true,
            });
            if *at_least_one {
                list["minItems"] = json!(1);
            }
            list
        }
        Kind::Section(path) => reference(path),
        Kind::Keyed {
            section,
            key,
            each_not_empty,
        } => {
            let mut each = reference(section);
            if *each_not_empty {
                each = json!({ "allOf": [each], "minProperties": 1 });
            }
            json!({
                "type": "object",
                "propertyNames": string(key),
                "additionalProperties": each,
                "minProperties": 1,
            })
        }
        Kind::Sections(path) => json!({ "type": "array", "items": reference(path) }),
        Kind::NamedTexts { key, value } => json!({
            "type": "object",
            "propertyNames": string(key),
            "additionalProperties": string(value),
        }),
        Kind::Tags => json!({
            "type": "object",
            "propertyNames": string(&checks::TAG_KEY.schema),
            "additionalProperties": string(&checks::TAG_VALUE.schema),
            "maxProperties": read::MAX_TAGS,
        }),
    }
}

fn string(text: &TextSchema) -> Value {
    let mut schema = json!({ "type": "string" });
    if let Some(values) = text.values {
        schema["enum"] = json!(values);
    }
    if let Some(pattern) = text.pattern {
        schema["pattern"] = json!(pattern);
    }
    if let Some(min) = text.min_length {
        schema["minLength"] = json!(min);
    }
    if let Some(max) = text.max_length {
        schema["maxLength"] = json!(max);
    }
    if let Some(pattern) = text.not_pattern {
        schema["not"] = json!({ "pattern": pattern });
    }
    schema
}

fn reference(path: &str) -> Value {
    json!({ "$ref": format!("#/definitions/{}", definition_name(path)) })
}

/// A section's name among the definitions: its path without the placeholders,
/// `members.<key>` as `members`, `archive[].filter.<property>` as `archive.filter`.
fn definition_name(path: &str) -> String {
    path.split('.')
        .filter(|part| !part.starts_with('<'))
        .map(|part| part.trim_end_matches("[]"))
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::checks::{RULES, Rule};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    /// Rules whose schema cannot say everything (their doc comments say what is left to the
    /// check): for them the schema only has to accept every text the check accepts.
    const LOOSER: &[&str] = &[
        "role_arn",
        "email",
        "tag_key",
        "tag_value",
        "custom_pattern",
    ];

    /// Texts each rule accepts, to mutate from.
    fn seeds(rule: &str) -> Vec<String> {
        let seeds: &[&str] = match rule {
            "key" => &["prod", "a", "prod-eu_2"],
            "account_id" => &["123456789012"],
            "region" => &["eu-west-1", "us-gov-west-1", "cn-north-1"],
            "name_prefix" => &["fanin", "a-1"],
            "role_name" => &["fanin-deploy", "a+=,.@_-"],
            "role_arn" => &[
                "arn:aws:iam::111111111111:role/fanin",
                "arn:aws-cn:iam::111111111111:role/path/to/x",
            ],
            "external_id" => &["ab", "x+=,.@:/-_"],
            "profile" => &["prod", " a b ", "Prod.Admin"],
            "topic_name" => &["findings", "a_B-1"],
            "email" => &["secops@example.com", "a.b+c@mail.example.co"],
            "tag_key" => &["Owner", "Cost Center", "é"],
            "tag_value" => &["", "platform", "a:b/c=d+e-f@g"],
            "bucket" => &["acme-state", "a.b-c"],
            "state_key" => &["fanin/{stack}/terraform.tfstate", "{stack}", "a{stack}b/c"],
            "dynamodb_table" => &["locks", "a.b_c-d"],
            "finding_status" => &["ACTIVE", "ARCHIVED", "RESOLVED"],
            "finding_source" => &["external-access", "unused-access", "guardduty"],
            "severity" => &["LOW", "HIGH", "CRITICAL"],
            "resource_type" => &["AWS::S3::Bucket", "AWS::IAM::Role", "AWS::S3Express::A1"],
            "custom_pattern_name" => &["macie", "a", "inspector-2"],
            "custom_pattern" => &[
                r#"{"source": ["aws.macie"]}"#,
                r#"{"source":["my.app"],"detail-type":["Alert"],"detail":{"level":[{"numeric":[">=",3]}]}}"#,
            ],
            "archive_rule_name" => &["partner", "a.b_c-1"],
            "filter_key" => &["resourceType", "principal.AWS", "condition.aws:SourceIp"],
            "filter_value" => &["AWS::S3::Bucket", "true", "é ü"],
            "schema_reference" => &["./fanin.schema.json", "https://example.com/s.json", "é"],
            other => panic!("no seeds for the rule {other}: add some"),
        };
        seeds.iter().map(|s| s.to_string()).collect()
    }

    /// Characters at the edges of the rules: each class's members and neighbours, the
    /// placeholders, controls, non-ASCII letters and combining marks.
    const ALPHABET: &str = "aAzZ09_-.@:/+=,!#*'()`{|}~[]\\\"^$%& \t\n\u{7f}\u{85}éß\u{301}{stack}";

    fn edit() -> impl Strategy<Value = (usize, Option<char>, usize)> {
        let chars: Vec<char> = ALPHABET.chars().collect();
        (
            any::<usize>(),
            proptest::option::of(proptest::sample::select(chars)),
            0usize..4,
        )
    }

    /// Lengths at the rules' limits, and one past each.
    const LENGTHS: &[usize] = &[
        0, 1, 2, 3, 4, 6, 7, 12, 13, 20, 21, 39, 40, 41, 63, 64, 65, 128, 129, 254, 255, 256, 257,
        1000, 1001, 1224, 1225, 2048, 2049,
    ];

    /// A seed changed by a few edits: a character inserted, replaced or removed, or the
    /// text cut or padded with a character to a length at a limit.
    fn mutate(seed: &str, edits: &[(usize, Option<char>, usize)]) -> String {
        let mut chars: Vec<char> = seed.chars().collect();
        for (random, with, how) in edits {
            let at = random % (chars.len() + 1);
            match (how, with) {
                (0, Some(c)) => chars.insert(at, *c),
                (1, Some(c)) if at < chars.len() => chars[at] = *c,
                (2, Some(c)) => {
                    let length = LENGTHS[random % LENGTHS.len()];
                    let pad = chars
                        .last()
                        .copied()
                        .filter(|_| random % 2 == 0)
                        .unwrap_or(*c);
                    chars.resize(length, pad);
                }
                _ if at < chars.len() => {
                    chars.remove(at);
                }
                _ => {}
            }
        }
        chars.into_iter().collect()
    }

    fn validator(rule: &Rule) -> jsonschema::Validator {
        jsonschema::draft7::new(&string(&rule.schema)).expect("the rule's schema compiles")
    }

    #[test]
    fn each_rules_schema_agrees_with_its_check() {
        for (name, rule) in RULES {
            let schema = validator(rule);
            for seed in seeds(name) {
                assert!((rule.check)(&seed).is_ok(), "{name}: seed {seed:?} refused");
                assert!(
                    schema.is_valid(&json!(seed)),
                    "{name}: schema refuses {seed:?}"
                );
            }
            let mut runner = TestRunner::new(Config {
                cases: 2_000,
                ..Config::default()
            });
            let seeds = seeds(name);
            let texts = (
                proptest::sample::select(seeds),
                proptest::collection::vec(edit(), 0..4),
            )
                .prop_map(|(seed, edits)| mutate(&seed, &edits));
            let looser = LOOSER.contains(name);
            runner
                .run(&texts, |text| {
                    let checked = (rule.check)(&text).is_ok();
                    let schema_says = schema.is_valid(&json!(text));
                    if looser {
                        prop_assert!(
                            !checked || schema_says,
                            "{name}: schema refuses {text:?}, which the check accepts"
                        );
                    } else {
                        prop_assert_eq!(checked, schema_says, "{}: {:?}", name, text);
                    }
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn every_rule_has_a_name_and_seeds() {
        let mut names: Vec<&str> = RULES.iter().map(|(n, _)| *n).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
        for name in LOOSER {
            assert!(names.contains(name), "{name} is not a rule");
        }
    }
}
