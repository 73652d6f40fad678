//! Golden snapshots and properties of the generated tree.
//!
//! Every `examples/*/fanin.toml` must generate exactly the committed `examples/*/tree`, byte
//! for byte (checked with the library and with `fanin check`). After an intended change of
//! the output, rewrite the committed trees and review the diff:
//!
//! ```sh
//! UPDATE_GOLDEN=1 scripts/test --test golden
//! git diff examples/
//! ```
//!
//! With `UPDATE_GOLDEN=1` the snapshot test rewrites each tree (removing files generation no
//! longer produces) instead of failing, then checks it as usual.

mod common;

use common::{assert_same_tree, example_name, examples, fanin, load_toml, read_tree, repo};
use hcl::{Body, Expression};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

type Tree = BTreeMap<String, Vec<u8>>;

/// What `fanin::generate` produces for the inventory at `path`.
fn generated(path: &Path) -> Tree {
    let files = fanin::generate(path)
        .unwrap_or_else(|d| panic!("{}: generation failed:\n{d}", path.display()));
    let mut tree = Tree::new();
    for file in files {
        assert!(
            tree.insert(file.path.clone(), file.contents).is_none(),
            "{} generated twice",
            file.path
        );
    }
    tree
}

fn update_golden() -> bool {
    std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1")
}

/// Replaces the committed tree of one example with what generation writes now.
fn rewrite_tree(dir: &Path, files: &Tree) {
    fs::create_dir_all(dir).unwrap();
    for (path, _) in read_tree(dir) {
        if !files.contains_key(&path) {
            fs::remove_file(dir.join(&path)).unwrap();
        }
    }
    for (path, contents) in files {
        let target = dir.join(path);
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::write(&target, contents).unwrap();
    }
    eprintln!("UPDATE_GOLDEN: rewrote {}", dir.display());
}

#[test]
fn examples_generate_exactly_their_committed_trees() {
    for example in examples() {
        let name = example_name(&example);
        let inventory = example.join("fanin.toml");
        let committed = example.join("tree");
        let files = generated(&inventory);
        if update_golden() {
            rewrite_tree(&committed, &files);
        }
        assert!(
            committed.is_dir(),
            "examples/{name}/tree is missing: run UPDATE_GOLDEN=1 scripts/test --test golden"
        );

        // The library's output, file by file, against the committed tree.
        assert_same_tree(
            &files,
            &read_tree(&committed),
            &format!(
                "examples/{name}: generated (left) vs committed tree (right); run UPDATE_GOLDEN=1 scripts/test --test golden if the change is intended"
            ),
        );

        // And the binary's own comparison.
        fanin()
            .arg("check")
            .arg(&inventory)
            .arg("--out")
            .arg(&committed)
            .assert()
            .code(0);
    }
}

#[test]
fn generating_twice_gives_identical_bytes() {
    for example in examples() {
        let inventory = example.join("fanin.toml");
        assert_eq!(generated(&inventory), generated(&inventory));

        // Through the binary too, into two directories.
        let temp = tempfile::tempdir().unwrap();
        let (a, b) = (temp.path().join("a"), temp.path().join("b"));
        common::generate(&inventory, &a);
        common::generate(&inventory, &b);
        assert_same_tree(&read_tree(&a), &read_tree(&b), "two runs of generate");
        assert_same_tree(&read_tree(&a), &generated(&inventory), "binary vs library");
    }
}

/// A TOML value as inline TOML text (strings as JSON strings, which are valid TOML basic
/// strings for what the examples hold).
fn toml_value(value: &toml::Value, reverse_arrays: bool) -> String {
    match value {
        toml::Value::String(s) => serde_json::to_string(s).unwrap(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => {
            let mut items: Vec<String> = items
                .iter()
                .map(|v| toml_value(v, reverse_arrays))
                .collect();
            if reverse_arrays {
                items.reverse();
            }
            format!("[{}]", items.join(", "))
        }
        other => panic!("unexpected value in an example inventory: {other:?}"),
    }
}

/// Writes `inventory` back as TOML with every order the user controls changed: tables in
/// reverse order, keys inside tables reversed or rotated, members reversed or rotated, tags
/// reversed, and (with `reverse_arrays`) every list (regions, emails) reversed.
fn permuted_toml(inventory: &toml::Table, rotate: bool, reverse_arrays: bool) -> String {
    let reorder = |mut keys: Vec<String>| {
        if rotate {
            keys.rotate_left(1);
        } else {
            keys.reverse();
        }
        keys
    };
    let table_text = |header: &str, table: &toml::Table| {
        let mut out = format!("\n[{header}]\n");
        for key in reorder(table.keys().cloned().collect()) {
            out += &format!(
                "{} = {}\n",
                serde_json::to_string(&key).unwrap(),
                toml_value(&table[&key], reverse_arrays)
            );
        }
        out
    };
    let mut out = String::new();
    // Top-level keys first (a TOML rule), then the tables in a changed order.
    let mut tables = Vec::new();
    for key in reorder(inventory.keys().cloned().collect()) {
        match &inventory[&key] {
            toml::Value::Table(t) => tables.push((key, t)),
            value => out += &format!("{key} = {}\n", toml_value(value, reverse_arrays)),
        }
    }
    for (key, table) in tables {
        if key == "members" {
            for member in reorder(table.keys().cloned().collect()) {
                let toml::Value::Table(fields) = &table[&member] else {
                    panic!("members.{member} is not a table")
                };
                out += &table_text(&format!("members.{member}"), fields);
            }
        } else {
            out += &table_text(&key, table);
        }
    }
    out
}

/// `value` with every array sorted (tables are sorted maps already).
fn sorted_lists(value: toml::Value) -> toml::Value {
    match value {
        toml::Value::Array(items) => {
            let mut items: Vec<toml::Value> = items.into_iter().map(sorted_lists).collect();
            items.sort_by_key(|v| v.to_string());
            toml::Value::Array(items)
        }
        toml::Value::Table(t) => {
            toml::Value::Table(t.into_iter().map(|(k, v)| (k, sorted_lists(v))).collect())
        }
        other => other,
    }
}

/// The order in which `needle`s first appear in `text`.
fn order_of<'a>(text: &str, needles: &[&'a str]) -> Vec<&'a str> {
    let mut found: Vec<(usize, &str)> = needles
        .iter()
        .map(|n| {
            (
                text.find(n)
                    .unwrap_or_else(|| panic!("{n} not in:\n{text}")),
                *n,
            )
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, n)| n).collect()
}

#[test]
fn order_of_members_tags_and_regions_does_not_change_the_output() {
    let original_path = repo().join("examples/multi-region/fanin.toml");
    let original_text = fs::read_to_string(&original_path).unwrap();
    let expected = generated(&original_path);
    let inventory = load_toml(&original_path);

    let members = ["[members.prod]", "[members.staging]", "[members.sandbox]"];
    let tags = ["Owner", "\"Cost Center\"", "ManagedBy"];
    let regions = ["\"eu-west-1\", \"us-east-1\", \"ap-northeast-1\""];
    let emails = ["\"secops@example.com\", \"oncall@example.com\""];
    assert_eq!(order_of(&original_text, &members), members);
    assert_eq!(order_of(&original_text, &tags), tags);

    let temp = tempfile::tempdir().unwrap();
    for (rotate, reverse_arrays) in [(false, true), (true, false), (true, true)] {
        let text = permuted_toml(&inventory, rotate, reverse_arrays);
        // The permutation really changed the orders the test is about.
        assert_ne!(order_of(&text, &members), members, "{text}");
        assert_ne!(order_of(&text, &tags), tags, "{text}");
        assert_eq!(
            text.contains(regions[0]) && text.contains(emails[0]),
            !reverse_arrays,
            "{text}"
        );
        // And it is the same inventory, up to the order of lists.
        assert_eq!(
            sorted_lists(toml::Value::Table(text.parse().unwrap())),
            sorted_lists(toml::Value::Table(inventory.clone())),
            "{text}"
        );

        let path = temp
            .path()
            .join(format!("permuted-{rotate}-{reverse_arrays}.toml"));
        fs::write(&path, &text).unwrap();
        assert_same_tree(
            &generated(&path),
            &expected,
            &format!("permuted inventory (left) vs original (right):\n{text}"),
        );
    }
}

#[test]
fn every_generated_file_starts_with_the_do_not_edit_marker() {
    for example in examples() {
        for (path, contents) in generated(&example.join("fanin.toml")) {
            let text =
                String::from_utf8(contents).unwrap_or_else(|_| panic!("{path} is not UTF-8"));
            let first = text.lines().next().unwrap_or_default();
            assert!(
                first.contains("Generated by fanin") && first.contains("Do not edit"),
                "examples/{}: {path}: first line is not the marker: {first:?}",
                example_name(&example)
            );
        }
    }
}

fn parse_hcl(path: &str, contents: &[u8]) -> Body {
    let text = std::str::from_utf8(contents).unwrap_or_else(|_| panic!("{path} is not UTF-8"));
    hcl::parse(text).unwrap_or_else(|e| panic!("{path} does not parse as HCL: {e}\n{text}"))
}

#[test]
fn every_generated_tf_file_parses_as_hcl() {
    for example in examples() {
        let files = generated(&example.join("fanin.toml"));
        let tf: Vec<_> = files.iter().filter(|(p, _)| p.ends_with(".tf")).collect();
        assert!(tf.len() >= 4, "too few .tf files: {:?}", files.keys());
        for (path, contents) in tf {
            parse_hcl(path, contents);
        }
    }
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes().find(|a| a.key() == key).map(|a| a.expr())
}

fn string_attr(body: &Body, key: &str, what: &str) -> String {
    match attr(body, key) {
        Some(Expression::String(s)) => s.clone(),
        other => panic!("{what}: {key} is not a string: {other:?}"),
    }
}

/// The `(account id, region)` pairs an inventory asks for, read from the TOML independently
/// of fanin: the hub's home region and extra regions, and each member's regions (default:
/// the hub's home region).
fn expected_account_regions(inventory: &toml::Table) -> Vec<(String, String)> {
    let str_of = |v: &toml::Value| v.as_str().unwrap().to_string();
    let list_of = |v: Option<&toml::Value>| -> Vec<String> {
        v.map(|v| v.as_array().unwrap().iter().map(str_of).collect())
            .unwrap_or_default()
    };
    let hub = inventory["hub"].as_table().unwrap();
    let hub_id = str_of(&hub["account_id"]);
    let hub_region = str_of(&hub["region"]);
    let mut pairs = vec![(hub_id.clone(), hub_region.clone())];
    for region in list_of(hub.get("regions")) {
        pairs.push((hub_id.clone(), region));
    }
    for (_, member) in inventory["members"].as_table().unwrap() {
        let member = member.as_table().unwrap();
        let id = str_of(&member["account_id"]);
        let mut regions = list_of(member.get("regions"));
        if regions.is_empty() {
            regions.push(hub_region.clone());
        }
        for region in regions {
            pairs.push((id.clone(), region));
        }
    }
    pairs.sort();
    pairs
}

struct ProviderBlock {
    alias: String,
    region: String,
    account_id: String,
}

/// The roots of a generated tree (the tree itself for the single layout, each stack for
/// stacks).
fn roots(files: &Tree) -> Vec<String> {
    fanin::engine::roots(files.keys().map(String::as_str))
}

/// The provider blocks of one root's providers.tf.
fn provider_blocks(name: &str, root: &str, files: &Tree) -> Vec<ProviderBlock> {
    let path = fanin::model::root_path(root, "providers.tf");
    let body = parse_hcl(&path, &files[&path]);
    let mut providers = Vec::new();
    for block in body.blocks() {
        assert_eq!(block.identifier(), "provider", "{name}: unexpected block");
        let labels: Vec<&str> = block.labels().iter().map(|l| l.as_str()).collect();
        assert_eq!(labels, ["aws"], "{name}: provider labels");
        let what = format!("examples/{name}: {path}: provider block");
        let alias = string_attr(block.body(), "alias", &what);
        let what = format!("examples/{name}: {path}: provider {alias}");
        let region = string_attr(block.body(), "region", &what);
        let ids = match attr(block.body(), "allowed_account_ids") {
            Some(Expression::Array(items)) => items
                .iter()
                .map(|e| match e {
                    Expression::String(s) => s.clone(),
                    other => panic!("{what}: allowed_account_ids holds {other:?}"),
                })
                .collect::<Vec<_>>(),
            other => panic!("{what}: allowed_account_ids is {other:?}"),
        };
        assert_eq!(ids.len(), 1, "{what}: allowed_account_ids = {ids:?}");
        providers.push(ProviderBlock {
            alias,
            region,
            account_id: ids[0].clone(),
        });
    }
    providers
}

#[test]
fn roots_have_one_provider_per_account_and_region_pinned_to_its_account() {
    for example in examples() {
        let name = example_name(&example);
        let inventory = load_toml(&example.join("fanin.toml"));
        let files = generated(&example.join("fanin.toml"));
        let stacks = inventory
            .get("settings")
            .and_then(|s| s.get("layout"))
            .and_then(|l| l.as_str())
            == Some("stacks");
        let mut actual = Vec::new();
        for root in roots(&files) {
            let providers = provider_blocks(&name, &root, &files);
            let aliases: BTreeSet<&str> = providers.iter().map(|p| p.alias.as_str()).collect();
            assert_eq!(
                aliases.len(),
                providers.len(),
                "{name}: {root}: duplicate alias"
            );
            let accounts: BTreeSet<&str> =
                providers.iter().map(|p| p.account_id.as_str()).collect();
            if stacks {
                // A stack is one account's, whatever the number of members.
                assert_eq!(accounts.len(), 1, "{name}: {root}: accounts {accounts:?}");
            }
            actual.extend(providers.into_iter().map(|p| (p.account_id, p.region)));
        }
        actual.sort();
        assert_eq!(
            actual,
            expected_account_regions(&inventory),
            "examples/{name}: providers (account, region) vs the inventory"
        );
    }
}

#[test]
fn every_spoke_uses_a_declared_alias_and_the_hub_intake_bus() {
    for example in examples() {
        let name = example_name(&example);
        let files = generated(&example.join("fanin.toml"));
        let model = fanin::model::load(&example.join("fanin.toml")).unwrap();
        let mut hubs = 0;
        for root in roots(&files) {
            hubs += check_root_modules(&name, &root, &files, &model.intake_buses[0].arn);
        }
        assert_eq!(hubs, 1, "{name}: exactly one hub module in the tree");
    }
}

/// Checks one root's modules against its providers; returns how many hub modules it has.
fn check_root_modules(name: &str, root: &str, files: &Tree, intake_bus_arn: &str) -> usize {
    let declared: BTreeMap<String, (String, String)> = provider_blocks(name, root, files)
        .into_iter()
        .map(|p| (p.alias, (p.account_id, p.region)))
        .collect();
    let to_root = if root.is_empty() {
        "./".to_string()
    } else {
        "../".repeat(root.split('/').count())
    };
    let path = fanin::model::root_path(root, "main.tf");
    let main = parse_hcl(&path, &files[&path]);
    let mut used = Vec::new();
    let mut hubs = 0;
    let mut spokes = 0;
    for block in main.blocks() {
        // The inventory's archive rules, which modules take as local.archive_rules.
        if block.identifier() == "locals" {
            let names: Vec<&str> = block.body().attributes().map(|a| a.key()).collect();
            assert_eq!(names, ["archive_rules"], "{name}: locals in {path}");
            continue;
        }
        assert_eq!(
            block.identifier(),
            "module",
            "{name}: unexpected block in {path}"
        );
        let module = block.labels()[0].as_str().to_string();
        let what = format!("examples/{name}: {path}: module {module}");
        let source = string_attr(block.body(), "source", &what);
        let alias = match attr(block.body(), "providers") {
            Some(Expression::Object(map)) => {
                assert_eq!(map.len(), 1, "{what}: providers = {map:?}");
                let (key, value) = map.iter().next().unwrap();
                assert_eq!(key.to_string(), "aws", "{what}");
                let value = value.to_string();
                value
                    .strip_prefix("aws.")
                    .unwrap_or_else(|| panic!("{what}: providers.aws = {value}"))
                    .to_string()
            }
            other => panic!("{what}: providers is {other:?}"),
        };
        let (account_id, region) = declared
            .get(&alias)
            .unwrap_or_else(|| panic!("{what}: alias {alias} is not declared"));
        assert_eq!(
            &string_attr(block.body(), "account_id", &what),
            account_id,
            "{what}: account_id vs its provider's allowed_account_ids"
        );
        assert_eq!(
            &string_attr(block.body(), "region", &what),
            region,
            "{what}: region vs its provider's region"
        );
        used.push(alias);
        if source == format!("{to_root}modules/hub") {
            assert_eq!(module, "hub", "{what}");
            hubs += 1;
        } else if source == format!("{to_root}modules/spoke") {
            spokes += 1;
            let bus = attr(block.body(), "hub_bus_arn")
                .unwrap_or_else(|| panic!("{what}: no hub_bus_arn"))
                .to_string();
            // The hub's output where the hub is in the same root (it waits for the bus
            // policy); elsewhere the ARN itself (the orchestrator applies the hub first).
            let expected = if hubs_in(&main) {
                "module.hub.intake_bus_arn".to_string()
            } else {
                format!("{intake_bus_arn:?}")
            };
            assert_eq!(bus, expected, "{what}");
        } else {
            panic!("{what}: unexpected source {source}");
        }
    }
    assert_eq!(
        spokes,
        declared.len() - hubs,
        "{name}: {root}: one spoke per alias but the hub's home"
    );
    used.sort();
    let declared_aliases: Vec<String> = declared.keys().cloned().collect();
    assert_eq!(
        used, declared_aliases,
        "{name}: {root}: every alias is used by exactly one module"
    );
    hubs
}

fn hubs_in(main: &Body) -> bool {
    main.blocks()
        .any(|b| b.identifier() == "module" && b.labels()[0].as_str() == "hub")
}
