//! What lets an orchestrator run the stacks layout: a Terramate `stack` block in every stack
//! (stable id, `after` ordering: https://terramate.io/docs/cli/reference/blocks/stack and
//! terramate-io/terramate docs/orchestration.md) and `stacks.json`, the stack list a CI matrix
//! reads.

use super::hcl::{Block, Expr};
use crate::generated::{self, GeneratedFile};
use crate::model::{Model, Stack};

/// The file Terramate finds a stack by (any `*.tm.hcl` holding a `stack` block).
pub const TERRAMATE_FILE: &str = "stack.tm.hcl";

/// The machine-readable stack list, at the tree's root.
pub const STACK_LIST: &str = "stacks.json";

/// `stack { ... }` for Terramate. `after` paths are relative to the stack, as Terramate
/// resolves them, so the tree can sit anywhere in a repository.
pub fn terramate_stack(stack: &Stack) -> Block<'_> {
    let (key, account_id) = stack
        .account
        .clone()
        .expect("a stack of the stacks layout is for one account");
    let role = if stack.hub { "hub" } else { "member" };
    let description = format!(
        "fanin {role} {key} ({account_id}): {}",
        regions(stack).join(", ")
    );
    let mut block = Block::new("stack", &[])
        .attr("id", Expr::Str((&stack.id).into()))
        .attr("name", Expr::Str(key.into()))
        .attr("description", Expr::Str(description.into()))
        .attr(
            "tags",
            Expr::List(vec![
                Expr::Str("fanin".into()),
                Expr::Str(format!("fanin-{role}").into()),
            ]),
        );
    if !stack.after.is_empty() {
        let after = stack
            .after
            .iter()
            .map(|dir| Expr::Str(format!("{}{dir}", stack.to_root()).into()))
            .collect();
        block = block.attr("after", Expr::List(after));
    }
    block
}

/// The regions a stack reaches (its providers'), sorted.
fn regions(stack: &Stack) -> Vec<String> {
    let mut regions: Vec<String> = stack.providers.iter().map(|p| p.region.clone()).collect();
    regions.sort();
    regions.dedup();
    regions
}

#[derive(serde::Serialize)]
struct ListedStack<'a> {
    path: &'a str,
    id: &'a str,
    name: &'a str,
    account_key: &'a str,
    account_id: &'a str,
    regions: Vec<String>,
    after: &'a [String],
}

/// `stacks.json`: every stack once, in the order they may run (the hub's first), with what
/// each must run after. Its first line is fanin's marker, as a JSON member.
pub fn stack_list(model: &Model) -> GeneratedFile {
    let listed: Vec<ListedStack<'_>> = model
        .stacks
        .iter()
        .map(|stack| {
            let (key, id) = stack
                .account
                .as_ref()
                .expect("a stack of the stacks layout is for one account");
            ListedStack {
                path: &stack.dir,
                id: &stack.id,
                name: &stack.name,
                account_key: key,
                account_id: id,
                regions: regions(stack),
                after: &stack.after,
            }
        })
        .collect();
    let body = serde_json::to_string_pretty(&listed).expect("the stack list serializes");
    GeneratedFile {
        path: STACK_LIST.to_string(),
        contents: format!("{}\n\"stacks\": {body}\n}}\n", generated::JSON_FILE).into_bytes(),
    }
}
