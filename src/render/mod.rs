//! Rendering: the generated tree as file paths and bytes, printed from the model alone.

pub mod deploy_role;
pub mod hcl;

use crate::generated::{self, GeneratedFile};
use crate::model::{Access, Model, MoveRecord};
use crate::modules;
use hcl::{Block, Expr};

/// The engine floor of the generated root: the modules' own (`required_version` in
/// modules/*/versions.tf, checked by a test).
pub const ENGINE_VERSIONS: &str = ">= 1.10.0";

/// The hashicorp/aws versions of the generated root: the modules' own (checked by a test).
pub const AWS_PROVIDER_VERSIONS: &str = ">= 3.69.0, < 7.0.0";

/// The whole tree but the manifest, sorted by path. `moves` are the renames still kept.
pub fn render(model: &Model, moves: &[MoveRecord]) -> Vec<GeneratedFile> {
    let mut files = vec![
        root_file("versions.tf", &[versions()]),
        root_file("providers.tf", &providers(model)),
        root_file("main.tf", &modules_blocks(model)),
        root_file("outputs.tf", &outputs(model)),
    ];
    let moved = moved_blocks(model, moves);
    if !moved.is_empty() {
        files.push(root_file("moves.tf", &moved));
    }
    files.push(deploy_role::readme(&model.deploy_role));
    files.extend(modules::FILES.iter().map(|(path, contents)| GeneratedFile {
        path: path.to_string(),
        contents: contents.to_vec(),
    }));
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn root_file(path: &str, blocks: &[Block]) -> GeneratedFile {
    GeneratedFile {
        path: path.to_string(),
        contents: hcl::file(generated::ROOT_FILE, blocks).into_bytes(),
    }
}

fn str(s: &str) -> Expr {
    Expr::Str(s.to_string())
}

fn reference(s: &str) -> Expr {
    Expr::Ref(s.to_string())
}

fn versions() -> Block {
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

fn providers(model: &Model) -> Vec<Block> {
    model
        .providers
        .iter()
        .map(|p| {
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
                    .map(|(k, v)| (k.clone(), str(v)))
                    .collect();
                block = block
                    .blank()
                    .block(Block::new("default_tags", &[]).attr("tags", Expr::Map(tags)));
            }
            block
        })
        .collect()
}

fn providers_map(alias: &str) -> Expr {
    Expr::Map(vec![("aws".into(), reference(&format!("aws.{alias}")))])
}

fn modules_blocks(model: &Model) -> Vec<Block> {
    let hub = &model.hub;
    let mut blocks = vec![
        Block::new("module", &["hub"])
            .attr("source", str("./modules/hub"))
            .attr("providers", providers_map(&hub.provider_alias))
            .blank()
            .attr("name_prefix", str(&model.name_prefix))
            .attr("account_id", str(&hub.account_id))
            .attr("region", str(&hub.region))
            .attr("use_default_bus", Expr::Bool(hub.use_default_bus))
            .attr("create_analyzer", Expr::Bool(hub.create_analyzer))
            .attr(
                "member_account_ids",
                Expr::List(model.member_account_ids.iter().map(|id| str(id)).collect()),
            )
            .attr("topic_name", str(&hub.topic_name))
            .attr(
                "notification_emails",
                Expr::List(hub.emails.iter().map(|e| str(e)).collect()),
            )
            .attr("encrypt_topic", Expr::Bool(hub.encrypt_topic))
            .attr("dead_letter_queue", Expr::Bool(model.dead_letter_queues))
            .attr(
                "dead_letter_queue_encryption",
                str(model.dead_letter_queue_encryption.module_value()),
            ),
    ];
    for spoke in &model.spokes {
        // hub_bus_arn comes from the hub's output, which waits for the member permissions:
        // EventBridge checks a target on another account's bus when the target is created.
        blocks.push(
            Block::new("module", &[&spoke.module_name])
                .attr("source", str("./modules/spoke"))
                .attr("providers", providers_map(&spoke.provider_alias))
                .blank()
                .attr("name_prefix", str(&model.name_prefix))
                .attr("account_id", str(&spoke.account_id))
                .attr("region", str(&spoke.region))
                .attr("hub_bus_arn", reference("module.hub.intake_bus_arn"))
                .attr("create_analyzer", Expr::Bool(spoke.create_analyzer))
                .attr("dead_letter_queue", Expr::Bool(model.dead_letter_queues))
                .attr(
                    "dead_letter_queue_encryption",
                    str(model.dead_letter_queue_encryption.module_value()),
                ),
        );
    }
    blocks
}

fn outputs(model: &Model) -> Vec<Block> {
    let output = |name: &str, description: &str, value: Expr| {
        Block::new("output", &[name])
            .attr("description", str(description))
            .attr("value", value)
    };
    let spoke_map = |attribute: &str| {
        Expr::Map(
            model
                .spokes
                .iter()
                .map(|s| {
                    (
                        s.provider_alias.clone(),
                        reference(&format!("module.{}.{attribute}", s.module_name)),
                    )
                })
                .collect(),
        )
    };
    vec![
        output(
            "topic_arn",
            "SNS topic that receives every account's Access Analyzer findings.",
            reference("module.hub.topic_arn"),
        ),
        output(
            "intake_bus_arn",
            "Event bus in the hub that member accounts forward findings to.",
            reference("module.hub.intake_bus_arn"),
        ),
        output(
            "spoke_rule_arns",
            "Forwarding rule of each spoke, by provider alias (account key and region).",
            spoke_map("rule_arn"),
        ),
        output(
            "spoke_role_arns",
            "Role each spoke's rule uses to put events on the intake bus, by provider alias.",
            spoke_map("role_arn"),
        ),
    ]
}

/// One `moved` block per spoke of a kept rename, so that a renamed key moves the spoke's
/// resources instead of destroying and recreating them (the model decides which).
fn moved_blocks(model: &Model, moves: &[MoveRecord]) -> Vec<Block> {
    model
        .spoke_moves(moves)
        .into_iter()
        .map(|(from, to)| {
            Block::new("moved", &[])
                .attr("from", reference(&format!("module.{from}")))
                .attr("to", reference(&format!("module.{to}")))
        })
        .collect()
}
