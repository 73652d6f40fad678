//! Regenerating as accounts change, without an engine: what generate writes, refuses and
//! deletes, what check reports and what diff shows. (tests/e2e proves the same changes with
//! plan and apply against a fake AWS.)

mod common;

use common::Workspace;

use predicates::prelude::*;
use std::fs;
use std::path::Path;

const EXAMPLE: &str = "examples/multi-region/fanin.toml";

/// Removes the `[members.<key>]` table (up to the next table) from the inventory.
fn remove_member(ws: &Workspace, key: &str) {
    let text = fs::read_to_string(&ws.inventory).unwrap();
    let start = text.find(&format!("[members.{key}]")).unwrap();
    let end = text[start + 1..]
        .find("\n[")
        .map_or(text.len(), |i| start + 2 + i);
    fs::write(&ws.inventory, format!("{}{}", &text[..start], &text[end..])).unwrap();
}

fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    common::read_tree(dir)
}

#[test]
fn renaming_a_key_emits_moved_blocks_for_every_spoke_of_the_account() {
    let ws = Workspace::new(EXAMPLE);
    ws.edit("[members.prod]", "[members.production]");
    ws.generate(&[]).success();
    let moves = ws.read("moves.tf");
    for region in ["ap_northeast_1", "eu_west_1", "us_east_1"] {
        assert!(
            moves.contains(&format!(
                "moved {{\n  from = module.spoke_prod_{region}\n  to   = module.spoke_production_{region}\n}}"
            )),
            "{moves}"
        );
    }
    assert_eq!(moves.matches("moved {").count(), 3, "{moves}");
    assert!(ws.read("fanin-manifest.toml").contains("from = \"prod\""));
    // Kept on the next generation: a state that has not applied the rename still needs them.
    ws.generate(&[])
        .success()
        .stdout(predicate::str::contains("0 written"));
    assert!(ws.exists("moves.tf"));
    // Dropped on request, and the file goes with them.
    ws.generate(&["--forget-moves"])
        .success()
        .stdout(predicate::str::contains("deleted"));
    assert!(!ws.exists("moves.tf"));
}

#[test]
fn removing_an_unretired_member_is_refused_and_writes_nothing() {
    let ws = Workspace::new(EXAMPLE);
    let before = snapshot(&ws.out);
    remove_member(&ws, "sandbox");
    ws.generate(&[])
        .code(2)
        .stderr(predicate::str::contains("members.sandbox"))
        .stderr(predicate::str::contains("444444444444"))
        .stderr(predicate::str::contains("status = \"retired\""))
        // The second step is the one that needs the user's word.
        .stderr(predicate::str::contains("fanin generate --retired-applied"))
        .stderr(predicate::str::contains("--force overrides"));
    common::assert_same_tree(&before, &snapshot(&ws.out), "after the refusal");
}

#[test]
fn retiring_keeps_providers_and_drops_spokes_and_permission_then_removal_is_allowed() {
    let ws = Workspace::new(EXAMPLE);
    ws.edit(
        "[members.sandbox]\n",
        "[members.sandbox]\nstatus = \"retired\"\n",
    );
    ws.generate(&[]).success();
    let providers = ws.read("providers.tf");
    assert!(providers.contains("alias               = \"sandbox_eu_west_1\""));
    assert!(providers.contains("alias               = \"sandbox_us_east_1\""));
    let main = ws.read("main.tf");
    assert!(!main.contains("spoke_sandbox"), "{main}");
    assert!(
        !main.contains("444444444444"),
        "no permission for a retired member: {main}"
    );
    assert!(
        ws.read("fanin-manifest.toml")
            .contains("status = \"retired\"")
    );

    remove_member(&ws, "sandbox");
    // fanin cannot see whether the retirement was applied: it asks, and writes nothing.
    let before = snapshot(&ws.out);
    ws.generate(&[])
        .code(2)
        .stderr(predicate::str::contains("members.sandbox"))
        .stderr(predicate::str::contains("was retired and is now removed"))
        .stderr(predicate::str::contains("--retired-applied"));
    common::assert_same_tree(&before, &snapshot(&ws.out), "after the refusal");
    ws.generate(&["--retired-applied"]).success();
    assert!(!ws.read("providers.tf").contains("sandbox"));
    assert!(!ws.read("fanin-manifest.toml").contains("444444444444"));
}

#[test]
fn removing_a_region_needs_retiring_it_first() {
    let ws = Workspace::new(EXAMPLE);
    let region_list = "regions    = [\"eu-west-1\", \"us-east-1\", \"ap-northeast-1\"]";
    ws.edit(region_list, "regions    = [\"eu-west-1\", \"us-east-1\"]");
    ws.generate(&[])
        .code(2)
        .stderr(predicate::str::contains("members.prod.regions"))
        .stderr(predicate::str::contains("ap-northeast-1"))
        .stderr(predicate::str::contains("retired_regions"));

    ws.edit(
        "regions    = [\"eu-west-1\", \"us-east-1\"]",
        "regions    = [\"eu-west-1\", \"us-east-1\"]\nretired_regions = [\"ap-northeast-1\"]",
    );
    ws.generate(&[]).success();
    assert!(ws.read("providers.tf").contains("\"prod_ap_northeast_1\""));
    assert!(!ws.read("main.tf").contains("spoke_prod_ap_northeast_1"));

    ws.edit("\nretired_regions = [\"ap-northeast-1\"]", "");
    ws.generate(&[])
        .code(2)
        .stderr(predicate::str::contains("members.prod.retired_regions"))
        .stderr(predicate::str::contains("region ap-northeast-1"))
        .stderr(predicate::str::contains("--retired-applied"));
    ws.generate(&["--retired-applied"]).success();
    assert!(!ws.read("providers.tf").contains("prod_ap_northeast_1"));
}

#[test]
fn force_lets_an_unretired_removal_through_with_a_warning() {
    let ws = Workspace::new(EXAMPLE);
    remove_member(&ws, "sandbox");
    ws.generate(&["--force"])
        .success()
        .stderr(predicate::str::contains(
            "warning: --force: members.sandbox",
        ));
    assert!(!ws.read("providers.tf").contains("sandbox"));
}

#[test]
fn the_hub_never_moves_in_place() {
    let ws = Workspace::new(EXAMPLE);
    let before = snapshot(&ws.out);
    ws.edit(
        "account_id = \"111111111111\"",
        "account_id = \"999999999999\"",
    );
    ws.generate(&["--force"])
        .code(2)
        .stderr(predicate::str::contains("hub.account_id"))
        .stderr(predicate::str::contains("Migrate instead"));
    let ws2 = Workspace::new(EXAMPLE);
    ws2.edit(
        "region     = \"eu-west-1\"",
        "region     = \"eu-central-1\"",
    );
    // One error: not also the home region "leaving" the hub, nor members whose regions
    // followed the home region by default.
    let assert = ws2.generate(&[]).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("hub.region"), "{stderr}");
    assert_eq!(
        stderr.matches("fanin.toml:").count(),
        1,
        "expected the hub region change alone:\n{stderr}"
    );
    common::assert_same_tree(&before, &snapshot(&ws.out), "after the refusal");
}

#[test]
fn a_key_given_to_another_account_names_the_two_real_steps() {
    let ws = Workspace::new(EXAMPLE);
    let before = snapshot(&ws.out);
    // The key `sandbox` now holds another account: retiring "under that key" would retire
    // the new one.
    ws.edit(
        "account_id      = \"444444444444\"",
        "account_id      = \"666666666666\"",
    );
    let assert = ws.generate(&[]).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(stderr.contains("members.sandbox.account_id"), "{stderr}");
    assert!(
        stderr.contains("was account 444444444444 and is now account 666666666666"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "put account 444444444444 back under `sandbox` as it was (regions, access) with status = \"retired\""
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("give account 666666666666 a key of its own"),
        "{stderr}"
    );
    assert_eq!(stderr.matches("fanin.toml:").count(), 1, "{stderr}");
    common::assert_same_tree(&before, &snapshot(&ws.out), "after the refusal");

    // The advice, followed literally, works.
    ws.edit(
        "[members.sandbox]\naccount_id      = \"666666666666\"",
        "[members.sandbox-new]\naccount_id      = \"666666666666\"",
    );
    ws.edit(
        "[tags]",
        "[members.sandbox]\naccount_id = \"444444444444\"\nstatus = \"retired\"\nregions = [\"eu-west-1\", \"us-east-1\"]\nprofile = \"sandbox-admin\"\n\n[tags]",
    );
    ws.generate(&[]).success();
    remove_member(&ws, "sandbox");
    ws.generate(&["--retired-applied"]).success();
    assert!(ws.read("main.tf").contains("666666666666"));
    assert!(!ws.read("fanin-manifest.toml").contains("444444444444"));
}

#[test]
fn a_renamed_away_key_cannot_be_reused_while_its_moves_are_kept() {
    let ws = Workspace::new(EXAMPLE);
    ws.edit("[members.prod]", "[members.production]");
    ws.generate(&[]).success();
    ws.edit(
        "[tags]",
        "[members.prod]\naccount_id = \"555555555555\"\n\n[tags]",
    );
    ws.generate(&[])
        .code(2)
        .stderr(predicate::str::contains("--forget-moves"));
    ws.generate(&["--forget-moves"]).success();
    assert!(
        ws.read("main.tf")
            .contains("module \"spoke_prod_eu_west_1\"")
    );
}

#[test]
fn adding_a_member_changes_no_existing_block() {
    let ws = Workspace::new(EXAMPLE);
    let before_main = ws.read("main.tf");
    let before_providers = ws.read("providers.tf");
    ws.edit(
        "[tags]",
        "[members.dev]\naccount_id = \"555555555555\"\nregions    = [\"us-east-1\"]\n\n[tags]",
    );
    ws.generate(&[]).success();
    // Every block that existed is still there, unchanged (only member_account_ids grows).
    let after_providers = ws.read("providers.tf");
    for block in before_providers.split("\n\n") {
        assert!(after_providers.contains(block), "changed: {block}");
    }
    let after_main = ws.read("main.tf");
    for block in before_main.split("\nmodule ").skip(1) {
        if block.starts_with("\"hub\"") {
            continue;
        }
        assert!(after_main.contains(block), "changed: {block}");
    }
    assert!(after_main.contains("\"555555555555\""));
}

#[test]
fn hand_edits_are_refused_by_name_unless_forced() {
    let ws = Workspace::new(EXAMPLE);
    let path = ws.out.join("providers.tf");
    let mut text = fs::read_to_string(&path).unwrap();
    text.push_str("# my change\n");
    fs::write(&path, &text).unwrap();
    ws.edit("[members.prod]", "[members.production]");
    ws.generate(&[])
        .code(2)
        .stderr(predicate::str::contains("providers.tf: edited by hand"))
        .stderr(predicate::str::contains("nothing was changed"));
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    ws.generate(&["--force"]).success();
    assert!(!ws.read("providers.tf").contains("# my change"));
}

#[test]
fn files_fanin_did_not_write_survive_every_generate() {
    let ws = Workspace::new(EXAMPLE);
    fs::write(ws.out.join("backend.tf"), "terraform {}\n").unwrap();
    fs::write(ws.out.join("extra_override.tf"), "# mine\n").unwrap();
    ws.edit("[members.prod]", "[members.production]");
    ws.generate(&["--force"]).success();
    ws.generate(&["--forget-moves"]).success();
    assert_eq!(ws.read("backend.tf"), "terraform {}\n");
    assert_eq!(ws.read("extra_override.tf"), "# mine\n");
    ws.run("check", &[]).success();
}

#[test]
fn check_reports_hand_edits_missing_and_stale_files() {
    let ws = Workspace::new(EXAMPLE);
    ws.run("check", &[]).success();

    // Stale: moves.tf is written for a rename and no longer produced once the renamed
    // account is retired and removed.
    ws.edit("[members.sandbox]", "[members.play]");
    ws.generate(&[]).success();
    assert!(ws.exists("moves.tf"));
    ws.edit("[members.play]\n", "[members.play]\nstatus = \"retired\"\n");
    ws.generate(&[]).success();
    remove_member(&ws, "play");
    ws.run("check", &[])
        .code(1)
        .stdout(predicate::str::contains("stale:    moves.tf"))
        .stdout(predicate::str::contains("outdated: providers.tf"));
    ws.generate(&["--retired-applied"]).success();
    assert!(
        !ws.exists("moves.tf"),
        "generate deletes what it no longer produces"
    );
    ws.run("check", &[]).success();

    fs::remove_file(ws.out.join("outputs.tf")).unwrap();
    let main = ws.out.join("main.tf");
    fs::write(&main, fs::read_to_string(&main).unwrap() + "# edit\n").unwrap();
    ws.run("check", &[])
        .code(1)
        .stdout(predicate::str::contains("missing:  outputs.tf"))
        .stdout(predicate::str::contains(
            "edited:   main.tf (changed by hand)",
        ));
}

#[test]
fn diff_shows_what_generate_would_change_and_writes_nothing() {
    let ws = Workspace::new(EXAMPLE);
    ws.run("diff", &[])
        .success()
        .stdout(predicate::str::is_empty());
    let before = snapshot(&ws.out);
    ws.edit("[members.staging]", "[members.stage]");
    let assert = ws.run("diff", &[]).success();
    let out = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(out.contains("--- a/main.tf\n+++ b/main.tf\n"), "{out}");
    assert!(
        out.contains("-module \"spoke_staging_eu_west_1\" {"),
        "{out}"
    );
    assert!(out.contains("+module \"spoke_stage_eu_west_1\" {"), "{out}");
    assert!(out.contains("--- /dev/null\n+++ b/moves.tf\n"), "{out}");
    assert!(
        !out.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    common::assert_same_tree(&before, &snapshot(&ws.out), "after diff");
}
