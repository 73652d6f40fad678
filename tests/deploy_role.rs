//! The deploy role (deploy-role/fanin-deploy-role.yaml) kept in step with the modules: every
//! resource type they create has a statement, the names they give fall under the statements'
//! name patterns, parliament (the IAM policy linter) finds nothing in any form of the policy,
//! cfn-lint nothing in the template, and the parameters generate prints for an inventory are
//! the template's own.
//!
//! The template's policy is read as CloudFormation would resolve it for given parameters:
//! `Fn::If` on its conditions, `Fn::Sub` and `Ref` (AWS::NoValue drops the element). The end-to-end
//! suite also checks that every call the engine makes is one the policy allows (tests/e2e).

mod common;

use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::process::{Command, Stdio};

const ACCOUNT: &str = "123456789012";

fn template() -> Value {
    let path = common::repo().join("deploy-role/fanin-deploy-role.yaml");
    let text = fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parameter values; the rest take the template's defaults.
fn parameters(template: &Value, given: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut values = BTreeMap::new();
    for (name, definition) in template["Parameters"].as_object().unwrap() {
        if let Some(default) = definition.get("Default") {
            values.insert(name.clone(), default.as_str().unwrap().to_string());
        }
    }
    for (name, value) in given {
        assert!(
            template["Parameters"].get(*name).is_some(),
            "no parameter {name}"
        );
        values.insert(name.to_string(), value.to_string());
    }
    values.insert("AWS::Partition".into(), "aws".into());
    values.insert("AWS::AccountId".into(), ACCOUNT.into());
    values
}

struct Resolver<'a> {
    template: &'a Value,
    values: BTreeMap<String, String>,
}

impl Resolver<'_> {
    fn condition(&self, name: &str) -> bool {
        let definition = &self.template["Conditions"][name];
        assert!(!definition.is_null(), "no condition {name}");
        self.truth(definition)
    }

    fn truth(&self, v: &Value) -> bool {
        let (function, args) = single(v).unwrap_or_else(|| panic!("not a condition: {v}"));
        match function {
            "Fn::Equals" => {
                let args = args.as_array().unwrap();
                self.resolve(&args[0]) == self.resolve(&args[1])
            }
            "Fn::Not" => !self.truth(&args.as_array().unwrap()[0]),
            "Fn::And" => args.as_array().unwrap().iter().all(|a| self.truth(a)),
            "Condition" => self.condition(args.as_str().unwrap()),
            other => panic!("condition function {other} not handled"),
        }
    }

    /// `None` for AWS::NoValue.
    fn resolve(&self, v: &Value) -> Option<Value> {
        if let Some((function, args)) = single(v) {
            match function {
                "Ref" => {
                    let name = args.as_str().unwrap();
                    if name == "AWS::NoValue" {
                        return None;
                    }
                    let value = self
                        .values
                        .get(name)
                        .unwrap_or_else(|| panic!("Ref {name}"));
                    return Some(Value::String(value.clone()));
                }
                "Fn::Sub" => {
                    let mut text = args.as_str().expect("Fn::Sub of a string").to_string();
                    for (name, value) in &self.values {
                        text = text.replace(&format!("${{{name}}}"), value);
                    }
                    assert!(!text.contains("${"), "unresolved Fn::Sub: {text}");
                    return Some(Value::String(text));
                }
                "Fn::If" => {
                    let args = args.as_array().unwrap();
                    let branch = if self.condition(args[0].as_str().unwrap()) {
                        &args[1]
                    } else {
                        &args[2]
                    };
                    return self.resolve(branch);
                }
                _ => {}
            }
        }
        Some(match v {
            Value::Array(items) => {
                Value::Array(items.iter().filter_map(|i| self.resolve(i)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .filter_map(|(k, v)| self.resolve(v).map(|v| (k.clone(), v)))
                    .collect::<Map<_, _>>(),
            ),
            other => other.clone(),
        })
    }
}

/// `{"Fn::X": args}` as `("Fn::X", args)`.
fn single(v: &Value) -> Option<(&str, &Value)> {
    let map = v.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (k, v) = map.iter().next()?;
    (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then_some((k.as_str(), v))
}

/// The role's permission policy as CloudFormation resolves it with these parameters.
fn policy(template: &Value, given: &[(&str, &str)]) -> Value {
    let resolver = Resolver {
        template,
        values: parameters(template, given),
    };
    let role = &template["Resources"]["DeployRole"]["Properties"];
    let policies = resolver.resolve(&role["Policies"]).unwrap();
    let policies = policies.as_array().unwrap();
    assert_eq!(policies.len(), 1, "one inline policy");
    policies[0]["PolicyDocument"].clone()
}

/// Every combination of the parameters that change the policy.
fn every_form(template: &Value) -> Vec<(String, Value)> {
    let mut forms = Vec::new();
    for kind in ["hub", "member"] {
        for keys in ["true", "false"] {
            for analyzer in ["true", "false"] {
                // Archive rules and the unused access analyzer with the analyzer; the hub's
                // archives and log group with either (each adds statements of its own, so
                // one more form each is enough).
                for (archive, unused, archives) in [
                    ("true", "true", "true"),
                    ("true", "false", "false"),
                    ("false", "true", "false"),
                    ("false", "false", "true"),
                ] {
                    for topic in ["", "custom-topic"] {
                        let given = [
                            ("AccountKind", kind),
                            ("ManagesKeys", keys),
                            ("CreatesAnalyzer", analyzer),
                            ("ManagesArchiveRules", archive),
                            ("CreatesUnusedAccessAnalyzer", unused),
                            ("KeepsArchives", archives),
                            ("KeepsFindingsLog", archives),
                            ("TopicName", topic),
                        ];
                        let name = format!(
                            "{kind}-keys_{keys}-analyzer_{analyzer}-archive_{archive}-unused_{unused}-archives_{archives}-topic_{}",
                            !topic.is_empty()
                        );
                        forms.push((name, policy(template, &given)));
                    }
                }
            }
        }
    }
    forms
}

fn sids(policy: &Value) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["Sid"]
                .as_str()
                .expect("every statement has a Sid")
                .to_string()
        })
        .collect()
}

/// `aws_cloudwatch_event_rule` as a Sid prefix: `AwsCloudwatchEventRule`.
fn camel(resource_type: &str) -> String {
    resource_type
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Resource type -> the `name` (or `analyzer_name`) expressions the modules give them.
fn module_resources(module: &str) -> BTreeMap<String, Vec<String>> {
    let path = common::repo().join(format!("modules/{module}/main.tf"));
    let text = fs::read_to_string(&path).unwrap();
    let body = hcl::parse(&text).unwrap();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in body.blocks().filter(|b| b.identifier() == "resource") {
        let resource_type = block.labels()[0].as_str().to_string();
        let names = found.entry(resource_type).or_default();
        for attribute in block.body().attributes() {
            if ["name", "analyzer_name"].contains(&attribute.key()) {
                names.push(attribute.expr().to_string());
            }
        }
    }
    found
}

#[test]
fn every_resource_type_in_the_modules_has_a_statement_and_no_statement_is_stale() {
    let template = template();
    let all_on = [
        ("ManagesKeys", "true"),
        ("CreatesAnalyzer", "true"),
        ("ManagesArchiveRules", "true"),
        ("CreatesUnusedAccessAnalyzer", "true"),
        ("KeepsArchives", "true"),
        ("KeepsFindingsLog", "true"),
    ];
    let member = sids(&policy(
        &template,
        &[[("AccountKind", "member")].as_slice(), &all_on].concat(),
    ));
    let hub = sids(&policy(
        &template,
        &[[("AccountKind", "hub")].as_slice(), &all_on].concat(),
    ));
    let covers = |sids: &[String], resource_type: &str| {
        sids.iter().any(|s| s.starts_with(&camel(resource_type)))
    };

    let spoke_types = module_resources("spoke");
    let hub_types = module_resources("hub");
    for resource_type in spoke_types.keys() {
        assert!(
            covers(&member, resource_type),
            "no member statement for {resource_type}: {member:?}"
        );
        // The hub account runs spokes in hub.regions.
        assert!(
            covers(&hub, resource_type),
            "no hub statement for {resource_type}: {hub:?}"
        );
    }
    for resource_type in hub_types.keys() {
        assert!(
            covers(&hub, resource_type),
            "no hub statement for {resource_type}: {hub:?}"
        );
    }
    let all_types: BTreeSet<&String> = spoke_types.keys().chain(hub_types.keys()).collect();
    for sid in &hub {
        assert!(
            all_types.iter().any(|t| sid.starts_with(&camel(t))),
            "statement {sid} serves no resource type of the modules"
        );
    }
    // Hub-only grants stay out of member accounts.
    for resource_type in hub_types.keys().filter(|t| !spoke_types.contains_key(*t)) {
        assert!(
            !covers(&member, resource_type),
            "{resource_type} granted in members: {member:?}"
        );
    }
}

#[test]
fn the_names_the_modules_give_fall_under_the_name_patterns() {
    // Every statement scopes by "<NamePrefix>-..." (or the topic name): a resource named
    // otherwise would be denied on AWS, where no test here can see it.
    for module in ["hub", "spoke"] {
        for (resource_type, names) in module_resources(module) {
            for name in names {
                let scoped = name.starts_with("\"${var.name_prefix}-")
                    || name == "var.topic_name"
                    || (resource_type == "aws_iam_role_policy" && name.starts_with('"'))
                    // Archive rules live in the analyzer they are named after.
                    || (resource_type == "aws_accessanalyzer_archive_rule"
                        && name == "aws_accessanalyzer_analyzer.account[0].analyzer_name")
                    // "/aws/events/<prefix>-findings", a local: the key policy names it first.
                    || (resource_type == "aws_cloudwatch_log_group"
                        && name == "local.findings_log_group_name");
                assert!(
                    scoped,
                    "modules/{module}: {resource_type} named {name}, outside the role's patterns"
                );
            }
        }
    }
    let template = template();
    for (form, policy) in every_form(&template) {
        for statement in policy["Statement"].as_array().unwrap() {
            let resources = match &statement["Resource"] {
                Value::String(one) => vec![one.clone()],
                Value::Array(many) => many
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect(),
                other => panic!("{form}: Resource {other}"),
            };
            for resource in resources {
                let sid = statement["Sid"].as_str().unwrap();
                let named = resource.contains(":fanin-")
                    || resource.contains("/fanin-")
                    || resource.ends_with(":custom-topic")
                    || resource.ends_with("event-bus/default")
                    || resource.ends_with("/AWSServiceRoleForAccessAnalyzer")
                    || resource.ends_with(":key/*");
                let documented_star = resource == "*"
                    && [
                        "AwsKmsKeyCreate",
                        "AwsCloudwatchEventBusPolicy",
                        "AwsSnsTopicSubscriptionManage",
                        "AwsCloudwatchLogGroupRead",
                        "AwsCloudwatchLogResourcePolicy",
                    ]
                    .contains(&sid);
                assert!(named || documented_star, "{form}: {sid} grants {resource}");
                assert!(
                    resource == "*" || resource.contains(&format!(":{ACCOUNT}:")),
                    "{form}: {sid} reaches outside the account: {resource}"
                );
            }
        }
    }
}

/// A linter's output on `args`, with no stdin (parliament reads stdin when it is not a
/// terminal).
fn lint(tool: &std::path::Path, args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(tool)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()))
}

#[test]
fn parliament_finds_nothing_in_any_form_of_the_policy() {
    let Some(parliament) = common::required_tool("FANIN_PARLIAMENT", "parliament") else {
        return;
    };
    let template = template();
    let dir = tempfile::tempdir().unwrap();
    for (name, policy) in every_form(&template) {
        fs::write(
            dir.path().join(format!("{name}.json")),
            serde_json::to_string_pretty(&policy).unwrap(),
        )
        .unwrap();
    }
    let directory = ["--directory".as_ref(), dir.path().as_os_str()];
    let output = lint(&parliament, &directory);
    let findings = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && findings.trim().is_empty(),
        "parliament (exit {:?}):\n{findings}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    // And it does find something when there is something to find.
    fs::write(
        dir.path().join("broken.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutPermission", "Resource": "arn:aws:events:*:123456789012:event-bus/x"}]}"#,
    )
    .unwrap();
    let output = lint(&parliament, &directory);
    assert!(
        !output.stdout.is_empty(),
        "parliament found nothing in a broken policy"
    );
}

#[test]
fn cfn_lint_finds_nothing_in_the_template() {
    // The template is what users deploy and no test here can run CloudFormation: cfn-lint
    // checks it against CloudFormation's resource specification and IAM's action list.
    let Some(cfn_lint) = common::required_tool("FANIN_CFN_LINT", "cfn-lint") else {
        return;
    };
    let template = common::repo().join("deploy-role/fanin-deploy-role.yaml");
    let output = lint(&cfn_lint, &[template.as_os_str()]);
    assert!(
        output.status.success() && output.stdout.is_empty(),
        "cfn-lint (exit {:?}):\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // And it does find something when there is something to find.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    let text = fs::read_to_string(&template).unwrap();
    fs::write(
        &broken,
        text.replace("Action: iam:PassRole", "Action: iam:PassRol"),
    )
    .unwrap();
    let output = lint(&cfn_lint, &[broken.as_os_str()]);
    assert!(
        !output.status.success(),
        "cfn-lint accepted a misspelt action"
    );
}

#[test]
fn the_trust_policy_names_the_principal_and_the_external_id_only_when_set() {
    let template = template();
    let trust = |given: &[(&str, &str)]| {
        let resolver = Resolver {
            template: &template,
            values: parameters(&template, given),
        };
        resolver
            .resolve(&template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"])
            .unwrap()
    };
    let principal = "arn:aws:iam::999999999999:role/ci";
    let without = trust(&[("TrustedPrincipalArn", principal)]);
    let statement = &without["Statement"][0];
    assert_eq!(statement["Principal"]["AWS"], principal);
    assert_eq!(statement["Action"], "sts:AssumeRole");
    assert!(statement.get("Condition").is_none(), "{statement}");
    let with = trust(&[("TrustedPrincipalArn", principal), ("ExternalId", "abc")]);
    assert_eq!(
        with["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"],
        "abc"
    );
}

#[test]
fn generate_prints_the_templates_own_parameters_for_every_account() {
    let template = template();
    for example in common::examples() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tree");
        common::generate(&example.join("fanin.toml"), &out);
        let readme = fs::read_to_string(out.join("deploy-role/README.md")).unwrap();
        let mut commands = 0;
        for block in readme.split("```sh\n").skip(1) {
            let command = block.split("```").next().unwrap();
            commands += 1;
            assert!(
                command.contains("--template-file deploy-role/fanin-deploy-role.yaml"),
                "{command}"
            );
            let overrides = command.split("--parameter-overrides").nth(1).unwrap();
            for word in overrides.split_whitespace().filter(|w| *w != "\\") {
                let (name, value) = word.split_once('=').unwrap_or_else(|| panic!("{word}"));
                let definition = &template["Parameters"][name];
                assert!(
                    !definition.is_null(),
                    "{name} is not a parameter of the template"
                );
                if let Some(allowed) = definition.get("AllowedValues") {
                    assert!(
                        allowed.as_array().unwrap().iter().any(|a| a == value),
                        "{name}={value}"
                    );
                }
            }
        }
        assert!(
            commands >= 2,
            "{}: a command for the hub and the members:\n{readme}",
            example.display()
        );
        // Every account of the inventory is named.
        let manifest = fs::read_to_string(out.join("fanin-manifest.toml")).unwrap();
        for line in manifest.lines().filter(|l| l.starts_with("[accounts.")) {
            let id = line.trim_start_matches("[accounts.").trim_end_matches(']');
            assert!(
                readme.contains(&format!("({id})")),
                "account {id} missing:\n{readme}"
            );
        }
    }
}
