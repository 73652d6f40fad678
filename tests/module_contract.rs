//! What the Rust code assumes about modules/hub and modules/spoke, checked against the
//! modules' own .tf files parsed with hcl-rs: the arguments the renderer passes are the
//! modules' variables (every required one included), the outputs the root reads exist, the
//! version limits are the same, and the names and policy the model computes for the bus
//! quota are the ones the hub module writes. The modules' README tables of inputs and
//! outputs are generated from variables.tf and outputs.tf here (terraform-docs' markdown
//! table layout, between its markers); `UPDATE_GOLDEN=1` rewrites them.

use fanin::generated::GeneratedFile;
use hcl::{Block, Body, Expression, ObjectKey};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const MODULES: [&str; 2] = ["hub", "spoke"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn parse(path: &Path) -> Body {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    hcl::parse(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

fn module_file(module: &str, file: &str) -> Body {
    parse(&repo().join("modules").join(module).join(file))
}

fn blocks<'a>(body: &'a Body, identifier: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    body.blocks().filter(move |b| b.identifier() == identifier)
}

fn label(block: &Block, i: usize) -> &str {
    block.labels()[i].as_str()
}

fn attribute<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn string(expr: &Expression) -> String {
    match expr {
        Expression::String(s) => s.clone(),
        Expression::TemplateExpr(t) => t.to_string(),
        other => panic!("expected a string, found {other:?}"),
    }
}

/// One variable of a module, as its variables.tf declares it.
struct Variable {
    name: String,
    description: String,
    type_: String,
    default: Option<String>,
}

fn variables(module: &str) -> Vec<Variable> {
    let body = module_file(module, "variables.tf");
    blocks(&body, "variable")
        .map(|v| Variable {
            name: label(v, 0).to_string(),
            description: string(attribute(v.body(), "description").expect("a description")),
            type_: attribute(v.body(), "type").expect("a type").to_string(),
            default: attribute(v.body(), "default").map(ToString::to_string),
        })
        .collect()
}

/// `(name, description)` of every output of a module.
fn outputs(module: &str) -> Vec<(String, String)> {
    let body = module_file(module, "outputs.tf");
    blocks(&body, "output")
        .map(|o| {
            let description = attribute(o.body(), "description").expect("a description");
            (label(o, 0).to_string(), string(description))
        })
        .collect()
}

/// Trees generated from inventories that between them use every option the renderer has.
fn rendered_trees() -> Vec<(String, Vec<GeneratedFile>)> {
    let dir = tempfile::tempdir().unwrap();
    let options = dir.path().join("options.toml");
    std::fs::write(
        &options,
        r#"version = 1
[settings]
dead_letter_queue_encryption = "sse-kms"
create_analyzer = false
[hub]
account_id = "111111111111"
region = "eu-west-1"
regions = ["us-east-1"]
intake_bus = "default"
[notify]
emails = ["secops@example.com"]
encrypt_topic = false
[members.prod]
account_id = "222222222222"
regions = ["eu-west-1", "eu-central-1"]
"#,
    )
    .unwrap();
    let mut inventories: Vec<PathBuf> = ["minimal", "multi-region", "stacks"]
        .iter()
        .map(|e| repo().join("examples").join(e).join("fanin.toml"))
        .collect();
    inventories.push(options);
    inventories
        .iter()
        .map(|path| {
            let files = fanin::generate(path).unwrap_or_else(|d| panic!("{path:?}: {d}"));
            (path.display().to_string(), files)
        })
        .collect()
}

/// Every root's directory and parsed main.tf (one root, or one per stack).
fn root_mains(files: &[GeneratedFile]) -> Vec<(String, Body)> {
    let roots = fanin::engine::roots(files.iter().map(|f| f.path.as_str()));
    assert!(!roots.is_empty());
    roots
        .into_iter()
        .map(|root| {
            let path = fanin::model::root_path(&root, "main.tf");
            let main = files.iter().find(|f| f.path == path).expect("main.tf");
            let body = hcl::parse(std::str::from_utf8(&main.contents).unwrap()).unwrap();
            (root, body)
        })
        .collect()
}

/// The module a `module` block calls: `./modules/hub`, `../../modules/hub` -> `hub`.
fn called_module(block: &Block) -> String {
    let source = string(attribute(block.body(), "source").expect("a source"));
    let relative = source.trim_start_matches("./").trim_start_matches("../");
    relative
        .strip_prefix("modules/")
        .unwrap_or_else(|| panic!("unexpected source {source}"))
        .to_string()
}

#[test]
fn the_renderer_passes_the_modules_variables() {
    for (inventory, files) in rendered_trees() {
        let mut called = BTreeSet::new();
        for (_, main) in root_mains(&files) {
            for block in blocks(&main, "module") {
                let module = called_module(block);
                called.insert(module.clone());
                let declared = variables(&module);
                let passed: BTreeSet<&str> = block
                    .body()
                    .attributes()
                    .map(|a| a.key())
                    .filter(|k| !["source", "providers"].contains(k))
                    .collect();
                for name in &passed {
                    assert!(
                        declared.iter().any(|v| v.name == *name),
                        "{inventory}: module {} passes `{name}`, which modules/{module}/variables.tf does not declare",
                        label(block, 0)
                    );
                }
                for v in declared.iter().filter(|v| v.default.is_none()) {
                    assert!(
                        passed.contains(v.name.as_str()),
                        "{inventory}: module {} does not pass the required variable `{}` of modules/{module}",
                        label(block, 0),
                        v.name
                    );
                }
            }
        }
        assert_eq!(
            called,
            BTreeSet::from(MODULES.map(String::from)),
            "{inventory}"
        );
    }
}

/// Every `module.<name>.<output>` the root reads is an output of the module it names.
#[test]
fn the_root_reads_only_outputs_the_modules_have() {
    let reference = |text: &str| -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("module.") {
            rest = &rest[at + "module.".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || "_-.".contains(c)))
                .unwrap_or(rest.len());
            let mut parts = rest[..end].split('.');
            if let (Some(name), Some(output)) = (parts.next(), parts.next()) {
                found.push((name.to_string(), output.to_string()));
            }
        }
        found
    };
    for (inventory, files) in rendered_trees() {
        let mut read = 0;
        for (root, main) in root_mains(&files) {
            let module_of = |name: &str| {
                blocks(&main, "module")
                    .find(|b| label(b, 0) == name)
                    .map(called_module)
            };
            let in_root = |path: &str| match path.rsplit_once('/') {
                Some((dir, _)) => dir == root,
                None => root.is_empty(),
            };
            for file in files
                .iter()
                .filter(|f| in_root(&f.path) && f.path.ends_with(".tf"))
            {
                for (name, output) in reference(std::str::from_utf8(&file.contents).unwrap()) {
                    // `moved` blocks name module addresses only.
                    let Some(module) = module_of(&name) else {
                        continue;
                    };
                    read += 1;
                    assert!(
                        outputs(&module).iter().any(|(o, _)| *o == output),
                        "{inventory}: {} reads module.{name}.{output}, not an output of modules/{module}",
                        file.path
                    );
                }
            }
        }
        assert!(read > 0, "{inventory}: no module output read");
    }
}

#[test]
fn the_roots_version_limits_are_the_modules() {
    for module in MODULES {
        let versions = module_file(module, "versions.tf");
        let terraform = blocks(&versions, "terraform").next().expect("terraform");
        let required = attribute(terraform.body(), "required_version").expect("required_version");
        assert_eq!(string(required), fanin::render::ENGINE_VERSIONS, "{module}");
        let providers = blocks(terraform.body(), "required_providers")
            .next()
            .expect("required_providers");
        let Some(Expression::Object(aws)) = attribute(providers.body(), "aws") else {
            panic!("{module}: required_providers.aws is not an object");
        };
        let version = aws
            .iter()
            .find(|(k, _)| matches!(k, ObjectKey::Identifier(i) if i.as_str() == "version"))
            .map(|(_, v)| string(v))
            .expect("aws version");
        assert_eq!(version, fanin::render::AWS_PROVIDER_VERSIONS, "{module}");
        let readme =
            std::fs::read_to_string(repo().join("modules").join(module).join("README.md")).unwrap();
        for limit in [fanin::render::ENGINE_VERSIONS, &version] {
            assert!(
                readme.contains(limit),
                "{module}/README.md does not say {limit}"
            );
        }
    }
}

/// The model checks the intake bus policy against EventBridge's quota by writing it as the
/// hub module does: same bus name, same statement, same principals.
#[test]
fn the_models_bus_policy_is_the_hub_modules() {
    let main = module_file("hub", "main.tf");
    let resource = |kind: &str, name: &str| {
        blocks(&main, "resource")
            .find(|b| label(b, 0) == kind && label(b, 1) == name)
            .unwrap_or_else(|| panic!("no {kind}.{name} in modules/hub/main.tf"))
    };
    let bus_name = string(
        attribute(
            resource("aws_cloudwatch_event_bus", "intake").body(),
            "name",
        )
        .unwrap(),
    );
    // Every intake bus's policy is the one document `local.intake_bus_policies` writes.
    for (name, key) in [("intake", "[\"1\"]"), ("additional_intake", "[each.key]")] {
        let policy = attribute(
            resource("aws_cloudwatch_event_bus_policy", name).body(),
            "policy",
        )
        .unwrap_or_else(|| panic!("no policy in aws_cloudwatch_event_bus_policy.{name}"));
        assert_eq!(
            policy.to_string(),
            format!("local.intake_bus_policies{key}"),
            "{name}"
        );
    }
    let policies = blocks(&main, "locals")
        .find_map(|b| attribute(b.body(), "intake_bus_policies"))
        .expect("local.intake_bus_policies");
    let Expression::ForExpr(per_bus) = policies else {
        panic!("intake_bus_policies is not a for expression over the buses");
    };
    let Expression::FuncCall(call) = &per_bus.value_expr else {
        panic!("the bus policy is not a jsonencode call");
    };
    assert_eq!(call.name.to_string(), "jsonencode");
    let Expression::Object(document) = &call.args[0] else {
        panic!("jsonencode of something else than an object");
    };
    let field = |object: &hcl::Object<ObjectKey, Expression>, key: &str| -> Expression {
        object
            .iter()
            .find(|(k, _)| matches!(k, ObjectKey::Identifier(i) if i.as_str() == key))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {key}"))
    };
    let Expression::Array(statements) = field(document, "Statement") else {
        panic!("Statement is not a list");
    };
    assert_eq!(statements.len(), 1, "one statement for every member");
    let Expression::Object(statement) = &statements[0] else {
        panic!("a statement that is not an object");
    };
    let Expression::Object(principal) = field(statement, "Principal") else {
        panic!("Principal is not an object");
    };
    let Expression::ForExpr(members) = field(&principal, "AWS") else {
        panic!("Principal.AWS is not a for expression over the members");
    };
    let principal_template = string(&members.value_expr);
    let key_var = members.value_var.to_string();

    for inventory in ["minimal", "multi-region"] {
        let model = fanin::model::load(&repo().join("examples").join(inventory).join("fanin.toml"))
            .unwrap();
        let partition = model.partition;
        let expected_bus = bus_name.replace("${var.name_prefix}", &model.name_prefix);
        assert_eq!(
            model.intake_buses[0].arn,
            format!(
                "arn:{partition}:events:{}:{}:event-bus/{expected_bus}",
                model.hub.region, model.hub.account_id
            )
        );
        let policy: serde_json::Value = serde_json::from_str(&fanin::model::bus_policy(
            model.partition,
            &model.intake_buses[0].arn,
            &model.intake_buses[0].members,
        ))
        .unwrap();
        let statement_value = |key: &str| string(&field(statement, key));
        let expected = serde_json::json!({
            "Version": string(&field(document, "Version")),
            "Statement": [{
                "Sid": statement_value("Sid"),
                "Effect": statement_value("Effect"),
                "Action": statement_value("Action"),
                "Resource": model.intake_buses[0].arn,
                "Principal": {"AWS": model.intake_buses[0].members.iter().map(|id| {
                    principal_template
                        .replace("${data.aws_partition.current.partition}", partition)
                        .replace(&format!("${{{key_var}}}"), id)
                }).collect::<Vec<_>>()},
            }],
        });
        assert_eq!(policy, expected, "{inventory}");
    }
}

/// The tree's README names the hub's findings queue and log group by the model's names: the
/// hub module must give them the same.
#[test]
fn the_models_destination_names_are_the_hub_modules() {
    let main = module_file("hub", "main.tf");
    let name_of = |kind: &str, name: &str| {
        let resource = blocks(&main, "resource")
            .find(|b| label(b, 0) == kind && label(b, 1) == name)
            .unwrap_or_else(|| panic!("no {kind}.{name} in modules/hub/main.tf"));
        attribute(resource.body(), "name")
            .unwrap_or_else(|| panic!("{kind}.{name} has no name"))
            .clone()
    };
    let queue = string(&name_of("aws_sqs_queue", "findings"));
    assert_eq!(
        name_of("aws_cloudwatch_log_group", "findings").to_string(),
        "local.findings_log_group_name"
    );
    let log_group = string(
        blocks(&main, "locals")
            .find_map(|b| attribute(b.body(), "findings_log_group_name"))
            .expect("local.findings_log_group_name"),
    );

    let inventory = r#"version = 1
[settings]
name_prefix = "sec-team"
[hub]
account_id = "111111111111"
region     = "eu-west-1"
[notify]
queue    = true
log_days = 30
[members.prod]
account_id = "222222222222"
"#;
    let path = Path::new("fanin.toml");
    let parsed = fanin::inventory::parse(inventory, fanin::inventory::Format::Toml, path).unwrap();
    let hub = fanin::model::build(&parsed, path).unwrap().hub;
    let named = |template: &str| template.replace("${var.name_prefix}", "sec-team");
    assert_eq!(hub.findings_queue.as_deref(), Some(named(&queue).as_str()));
    assert_eq!(
        hub.findings_log.map(|log| log.group_name),
        Some(named(&log_group))
    );
}

/// The values a module variable's validation allows: the list of its `contains([...], ...)`.
fn allowed_by_validation(module: &str, variable: &str) -> Vec<String> {
    let body = module_file(module, "variables.tf");
    let block = blocks(&body, "variable")
        .find(|v| label(v, 0) == variable)
        .unwrap_or_else(|| panic!("no variable {variable} in modules/{module}"));
    let condition = blocks(block.body(), "validation")
        .find_map(|v| attribute(v.body(), "condition"))
        .unwrap_or_else(|| panic!("{module}.{variable} has no validation"))
        .to_string();
    let list = condition
        .split_once("contains([")
        .and_then(|(_, rest)| rest.split_once(']'))
        .unwrap_or_else(|| panic!("{module}.{variable}: no contains([...]) in {condition}"))
        .0;
    list.split(',')
        .map(|item| item.trim().trim_matches('"').to_string())
        .collect()
}

/// A value the inventory accepts but a module refuses fails the plan of a tree fanin wrote;
/// one the module accepts but the inventory refuses is a choice module users have and
/// inventories lack. So each module's list is the loader's.
#[test]
fn the_modules_allow_the_values_the_inventory_allows() {
    let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let days: Vec<String> = fanin::inventory::LOG_RETENTION_DAYS
        .iter()
        .map(u64::to_string)
        .collect();
    let mut checked = vec![("hub", "findings_log_retention_days", days)];
    for module in ["hub", "spoke"] {
        checked.extend([
            (
                module,
                "finding_sources",
                strings(&fanin::inventory::FINDING_SOURCES),
            ),
            (
                module,
                "finding_statuses",
                strings(&fanin::inventory::FINDING_STATUSES),
            ),
            (
                module,
                "finding_min_severity",
                strings(&fanin::inventory::SEVERITIES),
            ),
        ]);
    }
    for (module, variable, inventory) in checked {
        assert_eq!(
            allowed_by_validation(module, variable),
            inventory,
            "modules/{module} variable {variable}"
        );
    }
}

const BEGIN: &str = "<!-- BEGIN_TF_DOCS -->\n";
const END: &str = "<!-- END_TF_DOCS -->\n";

/// A table cell: one line, pipes escaped, `<name_prefix>` shown rather than read as HTML.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('|', "\\|")
        .replace('\n', "<br>")
}

/// The Inputs and Outputs sections of a module's README, as terraform-docs' markdown table
/// layout writes them (names unescaped, in file order).
fn docs(module: &str) -> String {
    let mut text = String::from("## Inputs\n\n");
    text.push_str("| Name | Description | Type | Default | Required |\n");
    text.push_str("|------|-------------|------|---------|:--------:|\n");
    for v in variables(module) {
        text.push_str(&format!(
            "| `{}` | {} | `{}` | {} | {} |\n",
            v.name,
            cell(&v.description),
            cell(&v.type_),
            v.default
                .as_ref()
                .map_or_else(|| "n/a".to_string(), |d| format!("`{}`", cell(d))),
            if v.default.is_none() { "yes" } else { "no" }
        ));
    }
    text.push_str("\n## Outputs\n\n| Name | Description |\n|------|-------------|\n");
    for (name, description) in outputs(module) {
        text.push_str(&format!("| `{name}` | {} |\n", cell(&description)));
    }
    text
}

#[test]
fn module_readme_tables_are_generated_from_the_tf_files() {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    for module in MODULES {
        let path = repo().join("modules").join(module).join("README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (Some(begin), Some(end)) = (readme.find(BEGIN), readme.find(END)) else {
            panic!("{path:?} has no {BEGIN:?} ... {END:?} section");
        };
        let generated = docs(module);
        let written = &readme[begin + BEGIN.len()..end];
        if update {
            let new = format!("{}{BEGIN}{generated}{}", &readme[..begin], &readme[end..]);
            std::fs::write(&path, new).unwrap();
        } else {
            assert_eq!(
                written, generated,
                "{path:?}: the tables differ from variables.tf/outputs.tf; run UPDATE_GOLDEN=1 cargo test --test module_contract"
            );
        }
    }
}

/// The hub and the spoke each stand alone, so each declares the finding sources' variables and
/// event patterns; they must be the same, or a hub would filter what its spokes forward
/// differently from what they were told.
#[test]
fn the_hub_and_the_spoke_filter_findings_alike() {
    let shared = [
        "finding_sources",
        "finding_statuses",
        "finding_resource_types",
        "finding_min_severity",
        "custom_event_patterns",
        "create_unused_access_analyzer",
    ];
    let declared = |module: &str| -> Vec<String> {
        let body = module_file(module, "variables.tf");
        shared
            .iter()
            .map(|name| {
                let block = blocks(&body, "variable")
                    .find(|v| label(v, 0) == *name)
                    .unwrap_or_else(|| panic!("{module} has no variable {name}"));
                hcl::format::to_string(block).unwrap()
            })
            .collect()
    };
    assert_eq!(declared("hub"), declared("spoke"));
    let patterns = |module: &str| -> String {
        let body = module_file(module, "main.tf");
        let block = blocks(&body, "locals")
            .find(|b| attribute(b.body(), "finding_event_patterns").is_some())
            .unwrap_or_else(|| panic!("{module} has no finding_event_patterns"));
        hcl::format::to_string(block).unwrap()
    };
    assert_eq!(patterns("hub"), patterns("spoke"));
}
