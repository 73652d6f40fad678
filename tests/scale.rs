//! One hub for 1,000 members, in both layouts: every intake bus policy fits EventBridge's
//! quota (computed from the generated tree the way EventBridge stores it), every spoke targets
//! the bus whose policy lists its account, and adding one member changes only the hub's files
//! and the new member's, moving no existing member to another bus.

mod common;

use common::{fanin, read_tree};
use hcl::{Block, Body, Expression, ObjectKey};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

const MEMBERS: usize = 1_000;
const HUB_ID: &str = "111111111111";
const HUB_REGION: &str = "eu-west-1";
const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-northeast-1"];
/// EventBridge's default "Event bus policy size" quota, in characters.
const QUOTA: usize = 10_240;

type Tree = BTreeMap<String, Vec<u8>>;

/// Member `i`'s account id: spread out, so that ids and keys sort differently.
fn member_id(i: usize) -> String {
    format!("{:012}", 200_000_000_000 + (i * 7_919) % 1_000_000)
}

fn inventory(layout: &str, members: impl Iterator<Item = (String, String)>) -> String {
    let regions = REGIONS.map(|r| format!("{r:?}")).join(", ");
    let mut text = format!(
        "version = 1\n\n[settings]\nlayout = \"{layout}\"\n\n[hub]\naccount_id = \"{HUB_ID}\"\nregion = \"{HUB_REGION}\"\nregions = [\"us-east-1\", \"ap-northeast-1\"]\n\n[notify]\nemails = [\"security@example.com\"]\n"
    );
    for (key, id) in members {
        text.push_str(&format!(
            "\n[members.{key}]\naccount_id = \"{id}\"\nregions = [{regions}]\n"
        ));
    }
    text
}

fn thousand() -> impl Iterator<Item = (String, String)> {
    (0..MEMBERS).map(|i| (format!("m{i:04}"), member_id(i)))
}

fn generate(inventory_text: &str, dir: &Path) -> Tree {
    let path = dir.join("fanin.toml");
    fs::write(&path, inventory_text).unwrap();
    fanin()
        .arg("generate")
        .arg(&path)
        .arg("--out")
        .arg(dir.join("tree"))
        .assert()
        .success();
    read_tree(&dir.join("tree"))
}

fn parse(tree: &Tree, path: &str) -> Body {
    hcl::parse(std::str::from_utf8(&tree[path]).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn attr<'a>(block: &'a Block, key: &str) -> &'a Expression {
    block
        .body()
        .attributes()
        .find(|a| a.key() == key)
        .map(|a| a.expr())
        .unwrap_or_else(|| panic!("no {key} in {:?}", block.labels()))
}

fn strings(expr: &Expression) -> Vec<String> {
    let Expression::Array(items) = expr else {
        panic!("not a list: {expr:?}")
    };
    items
        .iter()
        .map(|e| match e {
            Expression::String(s) => s.clone(),
            other => panic!("not a string: {other:?}"),
        })
        .collect()
}

fn modules(body: &Body) -> impl Iterator<Item = &Block> {
    body.blocks().filter(|b| b.identifier() == "module")
}

/// The hub module's intake buses: bus number -> its members, as the root gives them.
fn buses_of(hub: &Block) -> BTreeMap<u32, Vec<String>> {
    let mut buses = BTreeMap::from([(1, strings(attr(hub, "member_account_ids")))]);
    if let Some(additional) = hub
        .body()
        .attributes()
        .find(|a| a.key() == "additional_intake_buses")
    {
        let Expression::Object(object) = additional.expr() else {
            panic!("additional_intake_buses is not an object")
        };
        for (key, ids) in object {
            let number = match key {
                ObjectKey::Expression(Expression::String(s)) => s.parse().unwrap(),
                other => panic!("bus key {other:?}"),
            };
            buses.insert(number, strings(ids));
        }
    }
    buses
}

fn bus_arn(number: u32) -> String {
    let name = match number {
        1 => "fanin-intake".to_string(),
        n => format!("fanin-intake-{n}"),
    };
    format!("arn:aws:events:{HUB_REGION}:{HUB_ID}:event-bus/{name}")
}

/// The bus policy as the hub module's `jsonencode` writes it and EventBridge stores it: keys
/// sorted, no spaces (serde_json sorts object keys). Its length is what the quota counts.
fn stored_policy(number: u32, members: &[String]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "MemberAccountsPutEvents",
            "Effect": "Allow",
            "Principal": {"AWS": members.iter().map(|id| format!("arn:aws:iam::{id}:root")).collect::<Vec<_>>()},
            "Action": "events:PutEvents",
            "Resource": bus_arn(number),
        }],
    })
    .to_string()
}

/// Which bus a spoke's `hub_bus_arn` names: the hub module's outputs in the hub's root, the
/// computed ARN in a member's stack.
fn target_bus(expr: &Expression) -> u32 {
    let text = match expr {
        Expression::String(arn) => {
            return (1..100)
                .find(|n| bus_arn(*n) == *arn)
                .unwrap_or_else(|| panic!("{arn} is no intake bus"));
        }
        other => other.to_string(),
    };
    if text == "module.hub.intake_bus_arn" {
        return 1;
    }
    text.strip_prefix("module.hub.additional_intake_bus_arns[\"")
        .and_then(|rest| rest.strip_suffix("\"]"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("hub_bus_arn = {text}"))
}

fn main_files(tree: &Tree) -> Vec<&String> {
    tree.keys()
        .filter(|p| p.ends_with("main.tf") && !p.starts_with("modules/"))
        .collect()
}

fn check_buses(layout: &str, tree: &Tree) {
    let mut hub = None;
    let mut targets: Vec<(String, u32)> = Vec::new();
    for path in main_files(tree) {
        let body = parse(tree, path);
        for module in modules(&body) {
            if module.labels()[0].as_str() == "hub" {
                hub = Some(buses_of(module));
                continue;
            }
            let Expression::String(account) = attr(module, "account_id") else {
                panic!("account_id")
            };
            targets.push((account.clone(), target_bus(attr(module, "hub_bus_arn"))));
        }
    }
    let buses = hub.expect("a hub module");
    assert!(
        buses.len() > 1,
        "{layout}: 1,000 members need several buses"
    );
    let mut bus_of = BTreeMap::new();
    for (number, members) in &buses {
        let length = stored_policy(*number, members).len();
        assert!(
            length <= QUOTA,
            "{layout}: bus {number}: {length} characters"
        );
        for id in members {
            assert!(bus_of.insert(id.clone(), *number).is_none(), "{id} twice");
        }
    }
    let expected: BTreeSet<String> = (0..MEMBERS).map(member_id).collect();
    assert_eq!(
        bus_of.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "{layout}: every member on one bus"
    );
    assert_eq!(targets.len(), MEMBERS * 3 + 2, "{layout}: spokes");
    for (account, bus) in targets {
        // The hub's own spokes forward to the first bus, which needs no permission for them.
        let expected = if account == HUB_ID {
            1
        } else {
            bus_of[&account]
        };
        assert_eq!(bus, expected, "{layout}: a spoke of {account}");
    }
}

#[test]
fn at_1000_members_every_bus_policy_fits_and_every_spoke_targets_its_bus() {
    for layout in ["single", "stacks"] {
        let dir = tempfile::tempdir().unwrap();
        let tree = generate(&inventory(layout, thousand()), dir.path());
        check_buses(layout, &tree);
    }
}

/// The buses of the members before, from the manifest (its `intake_bus`, absent for bus 1).
fn recorded_buses(tree: &Tree) -> BTreeMap<String, u32> {
    let text = std::str::from_utf8(&tree["fanin-manifest.toml"]).unwrap();
    fanin::manifest::Manifest::parse(text)
        .unwrap()
        .earlier_buses()
}

#[test]
fn adding_one_member_to_1000_changes_only_the_hub_and_the_new_member() {
    // The new member sorts first by key and by account id: a naive assignment in either order
    // would shift every member after it to another bus.
    let new_id = "000000000042";
    for layout in ["single", "stacks"] {
        let dir = tempfile::tempdir().unwrap();
        let before = generate(&inventory(layout, thousand()), dir.path());
        let more = std::iter::once(("a0000".to_string(), new_id.to_string())).chain(thousand());
        let after = generate(&inventory(layout, more), dir.path());
        check_bus_stability(layout, &before, &after, new_id);
        let changed: BTreeSet<&String> = before
            .keys()
            .chain(after.keys())
            .filter(|p| before.get(*p) != after.get(*p))
            .collect();
        // The record, the deploy-role instructions and the tree's README, which list every
        // account.
        let shared = ["fanin-manifest.toml", "deploy-role/README.md", "README.md"];
        let allowed = |path: &str| match layout {
            // One root holds everyone: its files change, but only in the hub's block and the
            // new member's blocks (checked below).
            "single" => shared.contains(&path) || !path.contains('/'),
            _ => {
                shared.contains(&path)
                    || path == "stacks.json"
                    || path.starts_with("stacks/hub/")
                    || path.starts_with(&format!("stacks/member-{new_id}/"))
            }
        };
        let stray: Vec<&&String> = changed.iter().filter(|p| !allowed(p)).collect();
        assert!(stray.is_empty(), "{layout}: also changed {stray:?}");
        if layout == "single" {
            unchanged_blocks_but_the_hub(&before, &after, "main.tf");
            unchanged_blocks_but_the_hub(&before, &after, "providers.tf");
        } else {
            assert!(changed.contains(&format!("stacks/member-{new_id}/main.tf")));
            assert!(changed.contains(&"stacks/hub/main.tf".to_string()));
        }
    }
}

/// Every existing member stays on its bus, and the new one gets one.
fn check_bus_stability(layout: &str, before: &Tree, after: &Tree, new_id: &str) {
    let (before, after) = (recorded_buses(before), recorded_buses(after));
    assert_eq!(before.len(), MEMBERS);
    for (id, bus) in &before {
        assert_eq!(after.get(id), Some(bus), "{layout}: {id} moved");
    }
    assert!(after.contains_key(new_id), "{layout}: the new member");
}

/// Every block of `path` in `before` is in `after` unchanged, but the hub module's.
fn unchanged_blocks_but_the_hub(before: &Tree, after: &Tree, path: &str) {
    let (before, after) = (parse(before, path), parse(after, path));
    let after: BTreeSet<String> = after.blocks().map(|b| format!("{b:?}")).collect();
    for block in before.blocks() {
        if block.identifier() == "module" && block.labels()[0].as_str() == "hub" {
            continue;
        }
        assert!(
            after.contains(&format!("{block:?}")),
            "{path}: changed {:?}",
            block.labels()
        );
    }
}
