//! The tree's README.md: its Mermaid diagrams list every account with exactly its regions,
//! each diagram stays within what Mermaid renders with its default configuration (50,000
//! characters, 500 edges), and Mermaid's own parser accepts every diagram (FANIN_MERMAID,
//! installed by scripts/install-mermaid.sh; required in CI).

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Mermaid's defaults: `maxTextSize` and `maxEdges`.
const MERMAID_MAX_TEXT: usize = 50_000;
const MERMAID_MAX_EDGES: usize = 500;

const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-northeast-1"];

/// Every account id -> (key, regions as drawn), from every diagram of `readme`; fails on a
/// diagram Mermaid would not render and on an account drawn twice.
fn drawn_accounts(readme: &str) -> BTreeMap<String, (String, Vec<String>)> {
    let mut drawn = BTreeMap::new();
    let blocks: Vec<&str> = readme
        .split("```mermaid\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 2, "an overview and the members:\n{readme}");
    for block in &blocks {
        assert!(
            block.len() <= MERMAID_MAX_TEXT,
            "{} characters",
            block.len()
        );
        let edges = block.matches("-->").count() + block.matches(".->").count();
        assert!(edges <= MERMAID_MAX_EDGES, "{edges} edges");
        for line in block.lines() {
            // `  a<account id>["<key> · <account id><br/><regions>"]`, with or without an edge.
            let Some(rest) = line.trim_start().strip_prefix('a') else {
                continue;
            };
            let (id, label) = rest.split_once("[\"").unwrap();
            let label = label.split("\"]").next().unwrap();
            let (name, regions) = label.split_once("<br/>").unwrap();
            let (key, label_id) = name.split_once(" · ").unwrap();
            assert_eq!(label_id, id, "{line}");
            let regions = regions.split(", ").map(str::to_string).collect();
            let previous = drawn.insert(id.to_string(), (key.to_string(), regions));
            assert!(previous.is_none(), "{id} drawn twice");
        }
    }
    drawn
}

fn generate(inventory: &str, dir: &Path) -> PathBuf {
    let path = dir.join("fanin.toml");
    fs::write(&path, inventory).unwrap();
    let out = dir.join("tree");
    common::generate(&path, &out);
    out.join("README.md")
}

fn member_regions(i: usize) -> Vec<&'static str> {
    REGIONS[..1 + i % 3].to_vec()
}

/// 1,000 members on several intake buses (a small quota), each in one to three regions, a
/// few retired, in either layout.
fn many(layout: &str) -> String {
    let mut text = format!(
        "version = 1\n[settings]\nlayout = \"{layout}\"\nbus_policy_quota = 4000\n\
[hub]\naccount_id = \"111111111111\"\nregion = \"eu-west-1\"\nregions = [\"us-east-1\"]\n\
[notify]\nemails = [\"secops@example.com\"]\n"
    );
    for i in 0..1000 {
        let regions: Vec<String> = member_regions(i)
            .iter()
            .map(|r| format!("\"{r}\""))
            .collect();
        let status = if i % 97 == 5 {
            "status = \"retired\"\n"
        } else {
            ""
        };
        text.push_str(&format!(
            "[members.m{i:04}]\naccount_id = \"{:012}\"\nregions = [{}]\n{status}",
            200_000_000_000u64 + i as u64,
            regions.join(", ")
        ));
    }
    text
}

#[test]
fn every_account_and_region_is_drawn_in_diagrams_mermaid_renders() {
    for layout in ["single", "stacks"] {
        let dir = tempfile::tempdir().unwrap();
        let readme = fs::read_to_string(generate(&many(layout), dir.path())).unwrap();
        let drawn = drawn_accounts(&readme);
        assert_eq!(drawn.len(), 1000, "{layout}: every member");
        for i in 0..1000 {
            let id = format!("{:012}", 200_000_000_000u64 + i as u64);
            let (key, regions) = &drawn[&id];
            assert_eq!(key, &format!("m{i:04}"));
            let mut expected: Vec<&str> = member_regions(i);
            expected.sort();
            assert_eq!(regions, &expected, "{layout}: {id}");
        }
        // The hub: both regions, in the overview.
        assert!(
            readme.contains("hub[\"hub (hub) · 111111111111<br/>eu-west-1 (home), default bus\"]")
        );
        assert!(readme.contains("hubspokes[\"hub (hub) · 111111111111<br/>us-east-1\"]"));
        // Members are drawn under the bus they forward to; several buses at this quota.
        assert!(
            readme.contains("### Intake bus `fanin-intake-2`"),
            "{layout}"
        );
        assert!(readme.contains("### Retired"), "{layout}");
        // And listed in the table, one row each, hub included.
        assert_eq!(readme.matches("\n| `m").count(), 1000, "{layout}");
        assert_eq!(readme.matches("\n| `hub` | 111111111111 |").count(), 1);
    }
}

#[test]
fn mermaid_parses_every_diagram_of_every_example_and_of_a_large_tree() {
    let Some(parser) = common::required_tool("FANIN_MERMAID", "Mermaid parser") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut readmes = vec![generate(&many("single"), dir.path())];
    for example in common::examples() {
        readmes.push(example.join("tree/README.md"));
    }
    let output = Command::new(&parser).args(&readmes).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The large tree alone has an overview and at least five member diagrams.
    let parsed: usize = stdout
        .split("mermaid-parse: ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(parsed >= 6 + 2 * common::examples().len(), "{stdout}");

    // The parser does refuse a broken diagram: this test can fail.
    let broken = dir.path().join("broken.md");
    fs::write(
        &broken,
        "```mermaid\nflowchart LR\n  a[\"x\"] --> b[[[\n```\n",
    )
    .unwrap();
    let refused = Command::new(&parser).arg(&broken).output().unwrap();
    assert!(!refused.status.success());
}
