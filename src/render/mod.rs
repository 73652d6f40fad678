//! Rendering: the generated tree as file paths and bytes, printed from the model alone.

pub mod deploy_role;
pub mod hcl;
mod orchestration;
pub mod state_moves;
mod tree_readme;

use crate::generated::{self, GeneratedFile};
use crate::model::{Access, ArchiveRule, Backend, Layout, Model, MoveRecord, Stack, root_path};
use crate::modules;
use hcl::{Block, Expr, Text};

/// The engine floor of the generated root: the modules' own (`required_version` in
/// modules/*/versions.tf, checked by a test).
pub const ENGINE_VERSIONS: &str = ">= 1.10.0";

/// The hashicorp/aws versions of the generated root: the modules' own (checked by a test).
pub const AWS_PROVIDER_VERSIONS: &str = ">= 4.21.0, < 7.0.0";

/// The whole tree but the manifest, sorted by path: the roots, the tree's README, the deploy
/// role's instructions and the modules. `moves` are the renames still kept.
pub fn render(model: &Model, moves: &[MoveRecord]) -> Vec<GeneratedFile> {
    let mut files = Vec::new();
    for stack in &model.stacks {
        files.extend(stack_files(model, stack, moves));
    }
    if model.layout == Layout::Stacks {
        files.push(orchestration::stack_list(model));
    }
    files.push(deploy_role::readme(&model.deploy_role));
    files.push(tree_readme::readme(model));
    files.extend(modules::FILES.iter().map(|(path, contents)| GeneratedFile {
        path: path.to_string(),
        contents: contents.to_vec(),
    }));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The files of one root: versions, providers, modules and outputs; `moved` blocks of kept
/// renames (single layout); the backend when the inventory has one; the orchestrator's
/// stack file (stacks layout).
fn stack_files(model: &Model, stack: &Stack, moves: &[MoveRecord]) -> Vec<GeneratedFile> {
    let path = |name: &str| root_path(&stack.dir, name);
    let mut files = vec![
        root_file(path("versions.tf"), [versions()]),
        root_file(path("providers.tf"), providers(model, stack)),
        root_file(path("main.tf"), modules_blocks(model, stack)),
        root_file(path("outputs.tf"), outputs(model, stack)),
    ];
    if stack.hub {
        let moved = moved_blocks(model, moves);
        if !moved.is_empty() {
            files.push(root_file(path("moves.tf"), moved));
        }
    }
    if let Some(backend) = &model.backend {
        files.push(root_file(
            path("backend.tf"),
            [backend_block(backend, stack)],
        ));
    }
    if model.layout == Layout::Stacks {
        files.push(root_file(
            path(orchestration::TERRAMATE_FILE),
            [orchestration::terramate_stack(stack)],
        ));
    }
    files
}

/// The S3 backend, written as the S3 backend documentation of Terraform and OpenTofu gives
/// it (`assume_role` as an object, `use_lockfile` for S3-native locking, both 1.10+).
fn backend_block<'a>(backend: &'a Backend, stack: &Stack) -> Block<'a> {
    let mut s3 = Block::new("backend", &["s3"])
        .attr("bucket", str(&backend.bucket))
        .attr("key", str(backend.key_for(stack)))
        .attr("region", str(&backend.region))
        .attr("encrypt", Expr::Bool(true));
    if backend.use_lockfile {
        s3 = s3.attr("use_lockfile", Expr::Bool(true));
    }
    if let Some(table) = &backend.dynamodb_table {
        s3 = s3.attr("dynamodb_table", str(table));
    }
    if let Some(profile) = &backend.profile {
        s3 = s3.attr("profile", str(profile));
    }
    if let Some(role_arn) = &backend.role_arn {
        s3 = s3.attr(
            "assume_role",
            Expr::Map(vec![("role_arn".into(), str(role_arn))]),
        );
    }
    Block::new("terraform", &[]).block(s3)
}

/// A root's file, its blocks printed one by one as `blocks` yields them.
fn root_file<'a>(path: String, blocks: impl IntoIterator<Item = Block<'a>>) -> GeneratedFile {
    GeneratedFile {
        path,
        contents: hcl::file(generated::ROOT_FILE, blocks).into_bytes(),
    }
}

fn str<'a>(s: impl Into<Text<'a>>) -> Expr<'a> {
    Expr::Str(s.into())
}

fn reference<'a>(s: impl Into<Text<'a>>) -> Expr<'a> {
    Expr::Ref(s.into())
}

fn versions() -> Block<'static> {
    Block::new("terraform", &[])
        .attr("required_version", str(ENGINE_VERSIONS))
        .blank()
        .block(Block::new("required_providers", &[]).attr(
            "aws",
            Expr::Map(vec![
                ("source".into(), str("hashicorp/aws")),
                ("version".into(), str(AWS_PROVIDER_VERSIONS)),
            ]),
        ))
}

fn providers<'a>(model: &'a Model, stack: &'a Stack) -> impl Iterator<Item = Block<'a>> + 'a {
    stack.providers.iter().map(|p| {
        let mut block = Block::new("provider", &["aws"])
            .attr("alias", str(&p.alias))
            .attr("region", str(&p.region))
            // A wrong profile or role must never apply into another account.
            .attr("allowed_account_ids", Expr::List(vec![str(&p.account_id)]));
        match &p.access {
            Access::Profile(profile) => block = block.attr("profile", str(profile)),
            Access::AssumeRole {
                role_arn,
                external_id,
            } => {
                let mut assume = Block::new("assume_role", &[]).attr("role_arn", str(role_arn));
                if let Some(id) = external_id {
                    assume = assume.attr("external_id", str(id));
                }
                block = block.blank().block(assume);
            }
            Access::Ambient => {}
        }
        if !model.tags.is_empty() {
            let tags = model
                .tags
                .iter()
                .map(|(k, v)| (Text::from(k), str(v)))
                .collect();
            block = block
                .blank()
                .block(Block::new("default_tags", &[]).attr("tags", Expr::Map(tags)));
        }
        block
    })
}

fn providers_map(alias: &str) -> Expr<'_> {
    let provider = Expr::Member {
        object: "aws",
        name: alias,
        attribute: None,
    };
    Expr::Map(vec![("aws".into(), provider)])
}

fn modules_blocks<'a>(model: &'a Model, stack: &'a Stack) -> impl Iterator<Item = Block<'a>> + 'a {
    let source = |module: &str| format!("{}modules/{module}", stack.to_root());
    // The archive rules are written once per root, for every analyzer the root creates.
    let archives_here = !model.findings.archive_rules.is_empty()
        && ((stack.hub && model.hub.create_analyzer)
            || stack.spokes.iter().any(|s| s.create_analyzer));
    let locals = archives_here.then(|| archive_rules_local(&model.findings.archive_rules));
    let hub = stack.hub.then(|| hub_module(model, str(source("hub"))));
    let spoke_source = source("spoke");
    let spokes = stack.spokes.iter().map(move |spoke| {
        let block = Block::new("module", &[&spoke.module_name])
            .attr("source", str(spoke_source.clone()))
            .attr("providers", providers_map(&spoke.provider_alias))
            .blank()
            .attr("name_prefix", str(&model.name_prefix))
            .attr("account_id", str(&spoke.account_id))
            .attr("region", str(&spoke.region))
            .attr("hub_bus_arn", hub_bus_arn(stack, &spoke.intake_bus))
            .attr("create_analyzer", Expr::Bool(spoke.create_analyzer));
        findings_attrs(
            block,
            model,
            spoke.create_analyzer,
            spoke.create_unused_access_analyzer,
        )
        .attr("dead_letter_queue", Expr::Bool(model.dead_letter_queues))
        .attr(
            "dead_letter_queue_encryption",
            str(model.dead_letter_queue_encryption.module_value()),
        )
    });
    locals.into_iter().chain(hub).chain(spokes)
}

/// A module's choice of findings: the unused access analyzer where it creates it, the
/// sources, statuses, resource types, severity and custom patterns its rules forward and,
/// where it creates the analyzer, the archive rules; none of them when the inventory makes
/// no choice (the module's defaults are the tree as it was before these choices existed).
fn findings_attrs<'a>(
    block: Block<'a>,
    model: &'a Model,
    creates_analyzer: bool,
    creates_unused_access_analyzer: bool,
) -> Block<'a> {
    let mut block = block;
    if creates_unused_access_analyzer {
        block = block.attr("create_unused_access_analyzer", Expr::Bool(true));
    }
    let findings = &model.findings;
    if findings.sources != ["external-access"] {
        let sources = findings.sources.iter().map(|s| str(*s)).collect();
        block = block.attr("finding_sources", Expr::List(sources));
    }
    if let Some(statuses) = &findings.statuses {
        let statuses = statuses.iter().map(|s| str(*s)).collect();
        block = block.attr("finding_statuses", Expr::List(statuses));
    }
    if let Some(types) = &findings.resource_types {
        let types = types.iter().map(str).collect();
        block = block.attr("finding_resource_types", Expr::List(types));
    }
    if let Some(severity) = findings.min_severity {
        block = block.attr("finding_min_severity", str(severity));
    }
    if !findings.custom_patterns.is_empty() {
        let patterns = findings
            .custom_patterns
            .iter()
            .map(|(name, pattern)| (Text::from(name), str(pattern)))
            .collect();
        block = block.attr("custom_event_patterns", Expr::Map(patterns));
    }
    if creates_analyzer && !model.findings.archive_rules.is_empty() {
        block = block.attr("archive_rules", reference("local.archive_rules"));
    }
    block
}

/// `locals { archive_rules = ... }`: rule name -> finding property -> comparisons, the shape
/// of CreateArchiveRule's filter and of the modules' `archive_rules`.
fn archive_rules_local(rules: &[ArchiveRule]) -> Block<'_> {
    fn values(list: &[String]) -> Expr<'_> {
        Expr::List(list.iter().map(str).collect())
    }
    let rules = rules
        .iter()
        .map(|rule| {
            let filter = rule
                .filter
                .iter()
                .map(|c| {
                    let mut comparisons = Vec::new();
                    for (name, list) in [("eq", &c.eq), ("neq", &c.neq), ("contains", &c.contains)]
                    {
                        if !list.is_empty() {
                            comparisons.push((Text::from(name), values(list)));
                        }
                    }
                    if let Some(exists) = c.exists {
                        comparisons.push(("exists".into(), Expr::Bool(exists)));
                    }
                    (Text::from(&c.property), Expr::Map(comparisons))
                })
                .collect();
            (Text::from(&rule.name), Expr::Map(filter))
        })
        .collect();
    Block::new("locals", &[]).attr("archive_rules", Expr::Map(rules))
}

/// The ARN a spoke targets: in the hub's root the hub's output, which waits for the bus
/// policies (EventBridge checks a target on another account's bus when the target is created,
/// so the policy must list the member first). A member's stack has no hub module: the ARN is
/// computed, and the orchestrator applies the hub's stack first.
fn hub_bus_arn<'a>(stack: &Stack, (number, arn): &'a (u32, String)) -> Expr<'a> {
    match number {
        _ if !stack.hub => str(arn),
        1 => reference("module.hub.intake_bus_arn"),
        n => reference(format!("module.hub.additional_intake_bus_arns[\"{n}\"]")),
    }
}

/// The hub module: its intake buses' members (the first bus's in `member_account_ids`, as
/// before there were several), topic, subscriptions and protections.
fn hub_module<'a>(model: &'a Model, source: Expr<'a>) -> Block<'a> {
    let hub = &model.hub;
    let ids = |members: &'a [String]| Expr::List(members.iter().map(str).collect());
    let (first, additional) = model
        .intake_buses
        .split_first()
        .expect("a model has its first intake bus");
    let mut block = Block::new("module", &["hub"])
        .attr("source", source)
        .attr("providers", providers_map(&hub.provider_alias))
        .blank()
        .attr("name_prefix", str(&model.name_prefix))
        .attr("account_id", str(&hub.account_id))
        .attr("region", str(&hub.region))
        .attr("use_default_bus", Expr::Bool(hub.use_default_bus))
        .attr("create_analyzer", Expr::Bool(hub.create_analyzer));
    block = findings_attrs(
        block,
        model,
        hub.create_analyzer,
        hub.create_unused_access_analyzer,
    )
    .attr("member_account_ids", ids(&first.members));
    if !additional.is_empty() {
        block = block.attr(
            "additional_intake_buses",
            Expr::Map(
                additional
                    .iter()
                    .map(|bus| (Text::from(bus.number.to_string()), ids(&bus.members)))
                    .collect(),
            ),
        );
    }
    block = block
        .attr("topic_name", str(&hub.topic_name))
        .attr(
            "notification_emails",
            Expr::List(hub.emails.iter().map(str).collect()),
        )
        .attr("encrypt_topic", Expr::Bool(hub.encrypt_topic))
        .attr("dead_letter_queue", Expr::Bool(model.dead_letter_queues))
        .attr(
            "dead_letter_queue_encryption",
            str(model.dead_letter_queue_encryption.module_value()),
        );
    // Only when asked for: trees without these choices stay byte for byte as before.
    if hub.findings_queue.is_some() {
        block = block.attr("findings_queue", Expr::Bool(true));
    }
    if hub.text_messages {
        block = block.attr("topic_message", str("text"));
    }
    if let Some(days) = hub.archive_days {
        block = block.attr("archive_retention_days", Expr::Number(days));
    }
    if let Some(log) = &hub.findings_log {
        block = block.attr("findings_log", Expr::Bool(true)).attr(
            "findings_log_retention_days",
            Expr::Number(log.retention_days),
        );
    }
    block
}

fn outputs<'a>(model: &Model, stack: &'a Stack) -> Vec<Block<'a>> {
    let output = |name: &'static str, description: Text<'static>, value: Expr<'a>| {
        Block::new("output", &[name])
            .attr("description", Expr::Str(description))
            .attr("value", value)
    };
    let spoke_map = |attribute: &'static str| {
        Expr::Map(
            stack
                .spokes
                .iter()
                .map(|s| {
                    let output = Expr::Member {
                        object: "module",
                        name: &s.module_name,
                        attribute: Some(attribute),
                    };
                    (Text::from(&s.provider_alias), output)
                })
                .collect(),
        )
    };
    let mut blocks = Vec::new();
    if stack.hub {
        blocks.push(output(
            "topic_arn",
            "SNS topic that receives every account's Access Analyzer findings.".into(),
            reference("module.hub.topic_arn"),
        ));
        blocks.push(output(
            "intake_bus_arn",
            "Event bus in the hub that member accounts forward findings to.".into(),
            reference("module.hub.intake_bus_arn"),
        ));
        if model.intake_buses.len() > 1 {
            blocks.push(output(
                "additional_intake_bus_arns",
                "Intake buses opened when the first was full, by number; each member forwards to one of them or to intake_bus_arn.".into(),
                reference("module.hub.additional_intake_bus_arns"),
            ));
        }
        if model.hub.findings_log.is_some() {
            blocks.push(output(
                "findings_log_group_name",
                "CloudWatch Logs group that also receives every finding's event, for Logs Insights."
                    .into(),
                reference("module.hub.findings_log_group_name"),
            ));
        }
        if model.hub.archive_days.is_some() {
            blocks.push(output(
                "archive_arns",
                "EventBridge archives of the buses with finding rules, by bus key, for replays."
                    .into(),
                reference("module.hub.archive_arns"),
            ));
        }
        if model.hub.findings_queue.is_some() {
            blocks.push(output(
                "findings_queue_url",
                "SQS queue that also receives every finding's event, for consumers that poll it."
                    .into(),
                reference("module.hub.findings_queue_url"),
            ));
            blocks.push(output(
                "findings_queue_arn",
                "ARN of that queue, for its consumers' IAM policies.".into(),
                reference("module.hub.findings_queue_arn"),
            ));
        }
    }
    // In a stack of its own, an account's aliases are its regions.
    let by = if stack.account.is_some() {
        "region"
    } else {
        "account key and region"
    };
    blocks.push(output(
        "spoke_rule_arns",
        format!("Forwarding rule of each spoke, by provider alias ({by}).").into(),
        spoke_map("rule_arn"),
    ));
    blocks.push(output(
        "spoke_role_arns",
        "Role each spoke's rule uses to put events on the intake bus, by provider alias.".into(),
        spoke_map("role_arn"),
    ));
    blocks
}

/// One `moved` block per spoke of a kept rename, so that a renamed key moves the spoke's
/// resources instead of destroying and recreating them (the model decides which).
fn moved_blocks(model: &Model, moves: &[MoveRecord]) -> Vec<Block<'static>> {
    model
        .spoke_moves(moves)
        .into_iter()
        .map(|(from, to)| {
            Block::new("moved", &[])
                .attr("from", reference(format!("module.{from}")))
                .attr("to", reference(format!("module.{to}")))
        })
        .collect()
}
