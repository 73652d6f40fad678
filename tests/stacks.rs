//! The stacks layout without an engine: the orchestrator files (Terramate's `stack` blocks and
//! `stacks.json`) parsed and their order checked, each stack one account's, stable
//! directories and state keys across renames, changes confined to the stacks they concern,
//! and a switch of layout refused unless forced.

mod common;

use common::{Workspace, read_tree, repo};
use hcl::{Body, Expression};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Tree = BTreeMap<String, Vec<u8>>;

fn text(tree: &Tree, path: &str) -> String {
    String::from_utf8(tree[path].clone()).unwrap_or_else(|_| panic!("{path} is not UTF-8"))
}

fn parse(tree: &Tree, path: &str) -> Body {
    hcl::parse(&text(tree, path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn string_attr(body: &Body, key: &str) -> Option<String> {
    body.attributes()
        .find(|a| a.key() == key)
        .map(|a| match a.expr() {
            Expression::String(s) => s.clone(),
            other => panic!("{key} is not a string: {other:?}"),
        })
}

fn strings_attr(body: &Body, key: &str) -> Vec<String> {
    match body.attributes().find(|a| a.key() == key).map(|a| a.expr()) {
        None => Vec::new(),
        Some(Expression::Array(items)) => items
            .iter()
            .map(|e| match e {
                Expression::String(s) => s.clone(),
                other => panic!("{key} holds {other:?}"),
            })
            .collect(),
        Some(other) => panic!("{key} is not a list: {other:?}"),
    }
}

/// `dir/relative` with `..` resolved, as Terramate resolves `after` paths.
fn resolve(dir: &str, relative: &str) -> String {
    let mut parts: Vec<&str> = dir.split('/').collect();
    for part in relative.split('/') {
        match part {
            ".." => {
                parts.pop().expect("a path above the tree");
            }
            "." | "" => {}
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// One Terramate stack as its `stack.tm.hcl` declares it.
struct TerramateStack {
    dir: String,
    id: String,
    after: Vec<String>,
}

fn terramate_stacks(tree: &Tree) -> Vec<TerramateStack> {
    tree.keys()
        .filter(|p| p.ends_with(".tm.hcl"))
        .map(|path| {
            let dir = path.rsplit_once('/').map_or("", |(d, _)| d).to_string();
            let body = parse(tree, path);
            let blocks: Vec<_> = body.blocks().collect();
            assert_eq!(blocks.len(), 1, "{path}: one stack block");
            assert_eq!(blocks[0].identifier(), "stack", "{path}");
            let stack = blocks[0].body();
            TerramateStack {
                id: string_attr(stack, "id").unwrap_or_else(|| panic!("{path}: no id")),
                after: strings_attr(stack, "after")
                    .iter()
                    .map(|a| resolve(&dir, a))
                    .collect(),
                dir,
            }
        })
        .collect()
}

fn generated(inventory: &Path) -> Tree {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    common::generate(inventory, &out);
    read_tree(&out)
}

/// The account id every provider of the root in `dir` is pinned to.
fn accounts_of_root(tree: &Tree, dir: &str) -> BTreeSet<String> {
    parse(tree, &format!("{dir}/providers.tf"))
        .blocks()
        .flat_map(|b| strings_attr(b.body(), "allowed_account_ids"))
        .collect()
}

#[test]
fn terramate_runs_the_hub_first_and_every_stack_once() {
    let tree = generated(&repo().join("examples/stacks/fanin.toml"));
    let roots = fanin::engine::roots(tree.keys().map(String::as_str));
    let stacks = terramate_stacks(&tree);

    let dirs: Vec<&str> = stacks.iter().map(|s| s.dir.as_str()).collect();
    assert_eq!(dirs, roots, "one Terramate stack per root, and no other");
    let ids: BTreeSet<&str> = stacks.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), stacks.len(), "stack ids are unique");
    for id in &ids {
        assert!(
            id.len() <= 64
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{id}: not a Terramate stack id"
        );
    }

    // The hub's stack is the one with the hub module; it runs after nothing, and every
    // other stack runs after it and after nothing else.
    let hub: Vec<&TerramateStack> = stacks
        .iter()
        .filter(|s| text(&tree, &format!("{}/main.tf", s.dir)).contains("module \"hub\""))
        .collect();
    assert_eq!(hub.len(), 1, "one stack holds the hub");
    let hub = hub[0];
    assert!(hub.after.is_empty(), "the hub runs after {:?}", hub.after);
    for stack in stacks.iter().filter(|s| s.dir != hub.dir) {
        assert_eq!(stack.after, std::slice::from_ref(&hub.dir), "{}", stack.dir);
        assert!(
            roots.contains(&stack.after[0]),
            "{}: after a stack that is not",
            stack.dir
        );
    }

    // Each stack is one account's: member stacks hold only their own providers.
    let inventory = common::load_toml(&repo().join("examples/stacks/fanin.toml"));
    let mut seen = BTreeSet::new();
    for stack in &stacks {
        let accounts = accounts_of_root(&tree, &stack.dir);
        assert_eq!(accounts.len(), 1, "{}: accounts {accounts:?}", stack.dir);
        assert!(seen.insert(accounts.into_iter().next().unwrap()));
    }
    let members = inventory["members"].as_table().unwrap().len();
    assert_eq!(
        seen.len(),
        1 + members,
        "a stack for the hub and each member"
    );
}

#[test]
fn the_stack_list_names_every_stack_once_in_an_order_that_runs() {
    let tree = generated(&repo().join("examples/stacks/fanin.toml"));
    let roots = fanin::engine::roots(tree.keys().map(String::as_str));
    let list: serde_json::Value =
        serde_json::from_str(&text(&tree, "stacks.json")).expect("stacks.json is JSON");
    let stacks = list["stacks"].as_array().expect("a list of stacks");
    let paths: Vec<&str> = stacks.iter().map(|s| s["path"].as_str().unwrap()).collect();
    let unique: BTreeSet<&&str> = paths.iter().collect();
    assert_eq!(unique.len(), paths.len(), "a stack listed twice: {paths:?}");
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(sorted, roots, "stacks.json lists exactly the roots");

    // Listed in an order that runs: what a stack runs after is listed before it.
    let terramate: BTreeMap<String, TerramateStack> = terramate_stacks(&tree)
        .into_iter()
        .map(|s| (s.dir.clone(), s))
        .collect();
    for (i, stack) in stacks.iter().enumerate() {
        let path = stack["path"].as_str().unwrap();
        let after: Vec<String> = stack["after"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        for before in &after {
            assert!(
                paths[..i].contains(&before.as_str()),
                "{path} runs after {before}, listed later"
            );
        }
        // The same order and id as Terramate's.
        assert_eq!(after, terramate[path].after, "{path}");
        assert_eq!(stack["id"], terramate[path].id.as_str(), "{path}");
        let accounts = accounts_of_root(&tree, path);
        assert_eq!(
            accounts,
            BTreeSet::from([stack["account_id"].as_str().unwrap().to_string()]),
            "{path}"
        );
    }
}

/// The paths whose bytes differ between two readings of a tree (added, removed or changed).
fn changed(before: &Tree, after: &Tree) -> BTreeSet<String> {
    before
        .keys()
        .chain(after.keys())
        .filter(|p| before.get(*p) != after.get(*p))
        .cloned()
        .collect()
}

#[test]
fn a_renamed_member_keeps_its_stack_directory_and_state_key_and_no_address_moves() {
    let ws = Workspace::new("examples/stacks/fanin.toml");
    let before = read_tree(&ws.out);
    ws.edit("[members.prod]", "[members.production]");
    ws.generate(&[]).success();
    let after = read_tree(&ws.out);
    let changed = changed(&before, &after);
    // Only what names the key changes: the stack's description, the stack list, the deploy
    // role's README, the tree's README and the record. No .tf file: no address, no
    // provider, no state key.
    assert_eq!(
        changed,
        BTreeSet::from(
            [
                "README.md",
                "deploy-role/README.md",
                "fanin-manifest.toml",
                "stacks.json",
                "stacks/member-222222222222/stack.tm.hcl",
            ]
            .map(String::from)
        ),
    );
    let stack = text(&after, "stacks/member-222222222222/stack.tm.hcl");
    assert!(stack.contains("name        = \"production\""), "{stack}");
    assert!(
        !after.keys().any(|p| p.ends_with("moves.tf")),
        "no moved blocks in stacks"
    );
}

#[test]
fn adding_a_member_changes_the_hub_stack_and_adds_its_own_only() {
    let ws = Workspace::new("examples/stacks/fanin.toml");
    let before = read_tree(&ws.out);
    let text_before = fs::read_to_string(&ws.inventory).unwrap();
    fs::write(
        &ws.inventory,
        text_before.replace(
            "[backend]",
            "[members.audit]\naccount_id = \"555555555555\"\n\n[backend]",
        ),
    )
    .unwrap();
    ws.generate(&[]).success();
    let after = read_tree(&ws.out);
    let changed = changed(&before, &after);
    let outside_new_stack: BTreeSet<&str> = changed
        .iter()
        .map(String::as_str)
        .filter(|p| !p.starts_with("stacks/member-555555555555/"))
        .collect();
    assert_eq!(
        outside_new_stack,
        BTreeSet::from([
            "README.md",
            "deploy-role/README.md",
            "fanin-manifest.toml",
            "stacks.json",
            // The bus policy lists the new member.
            "stacks/hub/main.tf",
        ]),
    );
    for file in [
        "backend.tf",
        "main.tf",
        "outputs.tf",
        "providers.tf",
        "stack.tm.hcl",
        "versions.tf",
    ] {
        assert!(
            changed.contains(&format!("stacks/member-555555555555/{file}")),
            "{file} of the new stack"
        );
    }
    let backend = text(&after, "stacks/member-555555555555/backend.tf");
    assert!(
        backend.contains("key          = \"fanin/member-555555555555/terraform.tfstate\""),
        "{backend}"
    );
}

#[test]
fn a_removed_member_loses_its_stack_directory_after_its_retirement() {
    let ws = Workspace::new("examples/stacks/fanin.toml");
    ws.edit(
        "account_id = \"333333333333\"",
        "account_id = \"333333333333\"\nstatus = \"retired\"",
    );
    ws.generate(&[]).success();
    let retired = read_tree(&ws.out);
    // Retired: its providers stay so the engine can destroy, its spokes go.
    let main = text(&retired, "stacks/member-333333333333/main.tf");
    assert!(!main.contains("module "), "{main}");
    assert!(text(&retired, "stacks/member-333333333333/providers.tf").contains("333333333333"));

    let inventory = fs::read_to_string(&ws.inventory).unwrap();
    let start = inventory.find("[members.staging]").unwrap();
    let end = start + inventory[start..].find("\n\n").unwrap() + 2;
    fs::write(
        &ws.inventory,
        format!("{}{}", &inventory[..start], &inventory[end..]),
    )
    .unwrap();
    ws.generate(&["--retired-applied"]).success();
    assert!(
        !ws.out.join("stacks/member-333333333333").exists(),
        "the stack directory fanin wrote is gone"
    );
}

#[test]
fn switching_layouts_is_refused_unless_forced() {
    let ws = Workspace::new("examples/multi-region/fanin.toml");
    let before = read_tree(&ws.out);
    ws.edit("[settings]", "[settings]\nlayout = \"stacks\"");
    ws.generate(&[])
        .code(2)
        .stderr(predicates::str::contains(
            "settings.layout: the tree was generated with layout = \"single\" and the inventory now says \"stacks\"",
        ));
    assert_eq!(read_tree(&ws.out), before, "nothing written");
    ws.generate(&["--force"])
        .success()
        .stderr(predicates::str::contains(
            "warning: --force: settings.layout:",
        ));
    let after = read_tree(&ws.out);
    assert!(
        !after.contains_key("main.tf"),
        "the single root's files are gone"
    );
    assert!(after.contains_key("stacks/hub/main.tf"));
}

#[test]
fn generate_tells_a_single_root_with_many_providers_what_memory_it_needs() {
    let ws = Workspace::new("examples/multi-region/fanin.toml");
    let text = fs::read_to_string(&ws.inventory).unwrap();
    let extra: String = (0..4)
        .map(|i| {
            format!(
                "[members.extra{i}]\naccount_id = \"{:012}\"\nregions = [\"eu-west-1\", \"us-east-1\"]\n\n",
                900_000_000_000u64 + i
            )
        })
        .collect();
    fs::write(
        &ws.inventory,
        text.replace("[tags]", &format!("{extra}[tags]")),
    )
    .unwrap();
    let output = ws.generate(&[]).success();
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).into_owned();
    assert!(
        stderr.contains("note: the root has 16 provider configurations")
            && stderr.contains("about 4.8 GB of memory")
            && stderr.contains("settings.layout = \"stacks\""),
        "{stderr}"
    );
    ws.edit("[settings]", "[settings]\nlayout = \"stacks\"");
    let output = ws.generate(&["--force"]).success();
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).into_owned();
    assert!(!stderr.contains("note: the root has"), "{stderr}");
}

/// `(from, to)` of every `state mv` line of a state-moves script.
fn moves_of(script: &str) -> Vec<(String, String)> {
    script
        .lines()
        .filter(|l| l.starts_with("(cd \"$work\"") && l.contains(" state mv "))
        .map(|l| {
            let quoted: Vec<&str> = l.split('\'').collect();
            let state_out = l.split("-state-out=\"$tree/").nth(1).unwrap();
            let root = state_out.split("fanin-moved.tfstate").next().unwrap();
            (
                quoted[quoted.len() - 4].to_string(),
                format!("{root}{}", quoted[quoted.len() - 2]),
            )
        })
        .collect()
}

/// What `fanin state-moves INVENTORY --from FROM` prints, run from the repository.
fn state_moves_script(inventory: &str, from: &str) -> String {
    let out = common::fanin()
        .args(["state-moves", inventory, "--from", from])
        .current_dir(repo())
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn state_moves_names_every_module_once_with_its_new_root_and_address() {
    let script = state_moves_script("examples/stacks/fanin.toml", "single");
    assert!(script.starts_with("#!/bin/sh\n"), "{script}");
    assert!(script.contains("cp 'fanin-pulled.tfstate'"), "{script}");
    let mut moves = moves_of(&script);
    moves.sort();
    assert_eq!(
        moves,
        [
            ("module.hub", "stacks/hub/module.hub"),
            (
                "module.spoke_prod_eu_west_1",
                "stacks/member-222222222222/module.spoke_eu_west_1"
            ),
            (
                "module.spoke_prod_us_east_1",
                "stacks/member-222222222222/module.spoke_us_east_1"
            ),
            (
                "module.spoke_sandbox_us_east_1",
                "stacks/member-444444444444/module.spoke_us_east_1"
            ),
            (
                "module.spoke_security_us_east_1",
                "stacks/hub/module.spoke_us_east_1"
            ),
            (
                "module.spoke_staging_eu_west_1",
                "stacks/member-333333333333/module.spoke_eu_west_1"
            ),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Every new root pushes its state, once.
    for root in [
        "stacks/hub",
        "stacks/member-222222222222",
        "stacks/member-333333333333",
        "stacks/member-444444444444",
    ] {
        assert_eq!(
            script.matches(&format!("(cd '{root}' &&")).count(),
            1,
            "{root}"
        );
    }

    // The other way: every stack's pulled state into the one root.
    let script = state_moves_script("examples/multi-region/fanin.toml", "stacks");
    assert!(
        script.contains("cp 'stacks/hub/fanin-pulled.tfstate'"),
        "{script}"
    );
    assert!(
        moves_of(&script).iter().all(|(_, to)| !to.contains('/')),
        "{script}"
    );
    assert!(script.contains("(cd '.' &&"), "{script}");

    common::fanin()
        .args([
            "state-moves",
            "examples/stacks/fanin.toml",
            "--from",
            "stacks",
        ])
        .current_dir(repo())
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "the inventory already has that layout",
        ));
}
