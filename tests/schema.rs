//! The hashicorp/aws 6.x schema test: every resource type, data source, provider argument,
//! resource argument and nested block (dynamic blocks included) in the modules and in every
//! example's generated tree exists in the schema of hashicorp/aws 6.x, and every required
//! argument and block is present. No 6.x provider binary is reachable from our machines, so the
//! schema comes from the npm package `@cdktn/provider-aws` (generated from hashicorp/aws
//! 6.66.0), reduced by `scripts/install-aws-schema.sh` to `aws-schema.json` (`FANIN_AWS_SCHEMA`).
//! Without it the test is skipped loudly on a developer machine and fails in CI.
//!
//! Deprecations are not in that schema; the engine tests check them on the provider the
//! machine has (`validate` reports no warning).

mod common;

use hcl::{Block, BlockLabel, Body};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Schema {
    provider_version: String,
    provider: SchemaBlock,
    resources: BTreeMap<String, SchemaBlock>,
    data_sources: BTreeMap<String, SchemaBlock>,
}

#[derive(Deserialize, Default)]
struct SchemaBlock {
    #[serde(default)]
    arguments: BTreeMap<String, Argument>,
    #[serde(default)]
    blocks: BTreeMap<String, SchemaBlock>,
    #[serde(default)]
    required: bool,
    /// The provider declares it as an attribute of object type (`name = {...}`), which the
    /// package types like a block.
    #[serde(default)]
    nested_attribute: bool,
    /// The package does not tell what is inside (its generator cut the schema off there).
    #[serde(default)]
    opaque: bool,
}

#[derive(Deserialize)]
struct Argument {
    required: bool,
}

/// Meta-arguments and meta-blocks of the language, valid in every resource or data block
/// whatever the provider's schema says.
const RESOURCE_META_ARGUMENTS: &[&str] = &["count", "for_each", "provider", "depends_on"];
const RESOURCE_META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];
const PROVIDER_META_ARGUMENTS: &[&str] = &["alias", "version"];

fn load_schema() -> Option<Schema> {
    let path = common::required_tool("FANIN_AWS_SCHEMA", "hashicorp/aws 6.x schema")?;
    let text = fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read the schema {}: {e}", path.display()));
    let schema: Schema = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not an aws-schema.json: {e}", path.display()));
    assert!(
        schema.provider_version.starts_with("6."),
        "the schema is of hashicorp/aws {}, not 6.x",
        schema.provider_version
    );
    assert!(
        schema.resources.len() > 1000 && schema.data_sources.len() > 300,
        "the schema looks truncated: {} resources, {} data sources",
        schema.resources.len(),
        schema.data_sources.len()
    );
    Some(schema)
}

fn label(label: &BlockLabel) -> &str {
    match label {
        BlockLabel::String(s) => s,
        BlockLabel::Identifier(i) => i.as_str(),
    }
}

/// What one run of the checker saw.
#[derive(Default)]
struct Report {
    /// Every problem, as `file: where: what`.
    problems: Vec<String>,
    /// `resource TYPE` / `data TYPE` / `provider aws`, with how many blocks of each were checked.
    checked: BTreeMap<String, usize>,
}

/// Checks every top-level block of one `.tf` file against the schema.
fn check_file(schema: &Schema, file: &str, text: &str, report: &mut Report) {
    let body = hcl::parse(text).unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
    for block in body.blocks() {
        let kind = block.identifier.as_str();
        let labels: Vec<&str> = block.labels.iter().map(label).collect();
        match (kind, labels.as_slice()) {
            ("resource", [ty, name]) | ("data", [ty, name]) => {
                let (table, mode) = if kind == "resource" {
                    (&schema.resources, "resource")
                } else {
                    (&schema.data_sources, "data source")
                };
                *report.checked.entry(format!("{kind} {ty}")).or_default() += 1;
                let at = format!("{file}: {kind} {ty}.{name}");
                match table.get(*ty) {
                    Some(expected) => check_body(
                        &block.body,
                        expected,
                        RESOURCE_META_ARGUMENTS,
                        RESOURCE_META_BLOCKS,
                        &at,
                        report,
                    ),
                    None => report.problems.push(format!(
                        "{at}: no {mode} `{ty}` in hashicorp/aws {}",
                        schema.provider_version
                    )),
                }
            }
            ("provider", [name]) => {
                *report
                    .checked
                    .entry(format!("provider {name}"))
                    .or_default() += 1;
                let at = format!("{file}: provider {name}");
                if *name == "aws" {
                    check_body(
                        &block.body,
                        &schema.provider,
                        PROVIDER_META_ARGUMENTS,
                        &[],
                        &at,
                        report,
                    );
                } else {
                    report
                        .problems
                        .push(format!("{at}: a provider other than aws"));
                }
            }
            // The language's own blocks (terraform, module, variable, output, locals, moved,
            // removed) are the engine's business: the engine tests validate them.
            _ => {}
        }
    }
}

/// One block body against its schema: arguments and nested blocks (plain or `dynamic`) must
/// exist, required ones must be there.
fn check_body(
    body: &Body,
    schema: &SchemaBlock,
    meta_arguments: &[&str],
    meta_blocks: &[&str],
    at: &str,
    report: &mut Report,
) {
    for attribute in body.attributes() {
        let key = attribute.key.as_str();
        let object_attribute = schema.blocks.get(key).is_some_and(|b| b.nested_attribute);
        if schema.arguments.contains_key(key) || meta_arguments.contains(&key) || object_attribute {
            continue;
        }
        let what = if schema.blocks.contains_key(key) {
            "is a nested block, not an argument"
        } else {
            "is not an argument"
        };
        report.problems.push(format!("{at}: `{key}` {what}"));
    }
    let mut present: Vec<&str> = body.attributes().map(|a| a.key.as_str()).collect();
    for block in body.blocks() {
        let (name, content, dynamic) = match nested(block) {
            Ok(found) => found,
            Err(problem) => {
                report.problems.push(format!("{at}: {problem}"));
                continue;
            }
        };
        present.push(name);
        if meta_blocks.contains(&name) && !dynamic {
            continue;
        }
        let kind = if dynamic { "dynamic block" } else { "block" };
        match schema.blocks.get(name) {
            Some(nested_schema) if nested_schema.nested_attribute => report.problems.push(format!(
                "{at}: `{name}` is an attribute of object type, written `{name} = {{...}}`"
            )),
            Some(nested_schema) if nested_schema.opaque => {}
            Some(nested_schema) => match content {
                Some(content) => check_body(
                    content,
                    nested_schema,
                    &[],
                    &[],
                    &format!("{at}.{name}"),
                    report,
                ),
                None => report
                    .problems
                    .push(format!("{at}: dynamic block `{name}` has no content block")),
            },
            None => {
                let what = if schema.arguments.contains_key(name) {
                    "is an argument, not a nested block"
                } else {
                    "is not a nested block"
                };
                report
                    .problems
                    .push(format!("{at}: {kind} `{name}` {what}"));
            }
        }
    }
    for (name, argument) in &schema.arguments {
        if argument.required && !present.contains(&name.as_str()) {
            report
                .problems
                .push(format!("{at}: the required argument `{name}` is missing"));
        }
    }
    for (name, block) in &schema.blocks {
        if block.required && !present.contains(&name.as_str()) {
            report
                .problems
                .push(format!("{at}: the required block `{name}` is missing"));
        }
    }
}

/// A nested block's name and the body to check: the block itself, or the `content` of a
/// `dynamic "name"` block (whose own arguments are the language's).
fn nested(block: &Block) -> Result<(&str, Option<&Body>, bool), String> {
    let identifier = block.identifier.as_str();
    if identifier != "dynamic" {
        return Ok((identifier, Some(&block.body), false));
    }
    let [name] = block.labels.as_slice() else {
        return Err("a dynamic block needs exactly one label".to_string());
    };
    for attribute in block.body.attributes() {
        if !matches!(attribute.key.as_str(), "for_each" | "iterator" | "labels") {
            return Err(format!(
                "dynamic `{}`: `{}` is not an argument of a dynamic block",
                label(name),
                attribute.key.as_str()
            ));
        }
    }
    let content = block
        .body
        .blocks()
        .find(|b| b.identifier.as_str() == "content")
        .map(|b| &b.body);
    Ok((label(name), content, true))
}

/// Every `.tf` file under `dir`, by path relative to `dir`, sorted.
fn tf_files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = common::read_tree(dir)
        .into_keys()
        .filter(|p| p.ends_with(".tf"))
        .map(|p| (p.clone(), dir.join(&p)))
        .collect();
    found.sort();
    found
}

/// Checks the repository's modules and every example's freshly generated tree.
fn check_everything(schema: &Schema) -> Report {
    let mut report = Report::default();
    for (relative, path) in tf_files(&common::repo().join("modules")) {
        let text = fs::read_to_string(&path).unwrap();
        check_file(schema, &format!("modules/{relative}"), &text, &mut report);
    }
    for example in common::examples() {
        let name = common::example_name(&example);
        let temp = tempfile::tempdir().unwrap();
        let out = temp.path().join("tree");
        common::generate(&example.join("fanin.toml"), &out);
        for (relative, path) in tf_files(&out) {
            let text = fs::read_to_string(&path).unwrap();
            check_file(
                schema,
                &format!("examples/{name} tree: {relative}"),
                &text,
                &mut report,
            );
        }
    }
    report
}

#[test]
fn modules_and_generated_trees_use_only_the_aws_6x_schema() {
    let Some(schema) = load_schema() else { return };
    let report = check_everything(&schema);
    assert!(
        report.problems.is_empty(),
        "not in hashicorp/aws {}:\n{}",
        schema.provider_version,
        report.problems.join("\n")
    );
    // Not vacuous: every kind of block the modules write was looked at.
    for kind in [
        "provider aws",
        "data aws_partition",
        "resource aws_cloudwatch_event_bus",
        "resource aws_cloudwatch_event_bus_policy",
        "resource aws_cloudwatch_event_rule",
        "resource aws_cloudwatch_event_target",
        "resource aws_iam_role",
        "resource aws_iam_role_policy",
        "resource aws_kms_key",
        "resource aws_sns_topic",
        "resource aws_sns_topic_policy",
        "resource aws_sns_topic_subscription",
        "resource aws_sqs_queue",
        "resource aws_sqs_queue_policy",
        "resource aws_accessanalyzer_analyzer",
    ] {
        assert!(
            report.checked.contains_key(kind),
            "{kind} was never checked; checked: {:?}",
            report.checked.keys().collect::<Vec<_>>()
        );
    }
    // The same blocks in the repository's modules and in each example tree's copy of them.
    let every_module_file_twice = report.checked["resource aws_cloudwatch_event_rule"];
    assert!(every_module_file_twice >= 2 * (1 + common::examples().len()));
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "schema: {} blocks checked against hashicorp/aws {}",
        report.checked.values().sum::<usize>(),
        schema.provider_version
    );
}

/// One mutation of a real module file and the problem it must produce.
struct Broken {
    file: &'static str,
    from: &'static str,
    to: &'static str,
    /// What the checker must report; `{v}` stands for the schema's provider version.
    problem: &'static str,
}

const BROKEN: &[Broken] = &[
    Broken {
        file: "modules/spoke/main.tf",
        from: "message_retention_seconds = 1209600",
        to: "message_retension_seconds = 1209600",
        problem: "resource aws_sqs_queue.dead_letter: `message_retension_seconds` is not an argument",
    },
    Broken {
        file: "modules/spoke/main.tf",
        from: "maximum_retry_attempts       = 185",
        to: "maximum_retry_atempts        = 185",
        problem: "resource aws_cloudwatch_event_target.hub_bus.retry_policy: `maximum_retry_atempts` is not an argument",
    },
    Broken {
        file: "modules/spoke/main.tf",
        from: "dynamic \"dead_letter_config\" {",
        to: "dynamic \"dead_letters_config\" {",
        problem: "resource aws_cloudwatch_event_target.hub_bus: dynamic block `dead_letters_config` is not a nested block",
    },
    Broken {
        file: "modules/spoke/main.tf",
        from: "retry_policy {",
        to: "retries {",
        problem: "resource aws_cloudwatch_event_target.hub_bus: block `retries` is not a nested block",
    },
    Broken {
        file: "modules/spoke/main.tf",
        from: "  rule           = aws_cloudwatch_event_rule.finding.name\n",
        to: "",
        problem: "resource aws_cloudwatch_event_target.hub_bus: the required argument `rule` is missing",
    },
    Broken {
        file: "modules/hub/main.tf",
        from: "resource \"aws_sns_topic_policy\" \"findings\"",
        to: "resource \"aws_sns_topics_policy\" \"findings\"",
        problem: "resource aws_sns_topics_policy.findings: no resource `aws_sns_topics_policy` in hashicorp/aws {v}",
    },
    Broken {
        file: "modules/hub/main.tf",
        from: "data \"aws_partition\" \"current\"",
        to: "data \"aws_partitions\" \"current\"",
        problem: "data aws_partitions.current: no data source `aws_partitions` in hashicorp/aws {v}",
    },
];

#[test]
fn a_broken_module_fails_the_schema_check() {
    let Some(schema) = load_schema() else { return };
    for broken in BROKEN {
        let text = fs::read_to_string(common::repo().join(broken.file)).unwrap();
        assert!(
            text.contains(broken.from),
            "{}: the fixture no longer finds {:?}",
            broken.file,
            broken.from
        );
        // The unbroken file passes...
        let mut report = Report::default();
        check_file(&schema, broken.file, &text, &mut report);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        // ...and the broken one fails with exactly the expected problem.
        let mut report = Report::default();
        check_file(
            &schema,
            broken.file,
            &text.replacen(broken.from, broken.to, 1),
            &mut report,
        );
        let problem = broken.problem.replace("{v}", &schema.provider_version);
        let want = format!("{}: {problem}", broken.file);
        assert_eq!(report.problems, [want], "mutation {:?}", broken.to);
    }
}

#[test]
fn a_provider_block_is_checked_too() {
    let Some(schema) = load_schema() else { return };
    let text = "provider \"aws\" {\n  alias  = \"x\"\n  region = \"eu-west-1\"\n  regoin = \"eu-west-1\"\n\n  assume_role {\n    role_arn = \"arn:aws:iam::111111111111:role/x\"\n  }\n}\n";
    let mut report = Report::default();
    check_file(&schema, "providers.tf", text, &mut report);
    assert_eq!(
        report.problems,
        ["providers.tf: provider aws: `regoin` is not an argument"]
    );
}
