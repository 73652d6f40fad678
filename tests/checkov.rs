//! checkov, the IaC scanner reviewers already trust, on every example's generated tree: zero
//! failed checks, except those in `checkov-allowlist.toml`, each with the reason it does not
//! apply. `scripts/test` installs the scanner (`scripts/install-pypi-tools.sh`) and names it
//! in `FANIN_CHECKOV`; without it the test is skipped loudly on a developer machine and fails
//! in CI.

mod common;

use serde::Deserialize;
use std::path::PathBuf;
use std::process::Command;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowList {
    allow: Vec<Allowed>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Allowed {
    check: String,
    resource: Option<String>,
    why: String,
}

fn checkov() -> Option<PathBuf> {
    common::required_tool("FANIN_CHECKOV", "checkov")
}

fn allow_list() -> Vec<Allowed> {
    let text = std::fs::read_to_string(common::repo().join("checkov-allowlist.toml")).unwrap();
    let list: AllowList = toml::from_str(&text).expect("checkov-allowlist.toml is valid");
    for entry in &list.allow {
        assert!(
            entry.why.trim().len() >= 20,
            "allow-list entry {} must say why it does not apply",
            entry.check
        );
    }
    list.allow
}

#[test]
fn every_example_passes_checkov_outside_the_allow_list() {
    let Some(checkov) = checkov() else { return };
    let allowed = allow_list();
    for example in common::examples() {
        let name = common::example_name(&example);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("tree");
        common::generate(&example.join("fanin.toml"), &out);
        // --skip-download: no network at test time (checkov would fetch guidelines).
        let output = Command::new(&checkov)
            .args([
                "--framework",
                "terraform",
                "--skip-download",
                "-o",
                "json",
                "-d",
            ])
            .arg(&out)
            .env("BC_SKIP_MAPPING", "TRUE")
            .output()
            .expect("checkov runs");
        let report: serde_json::Value =
            serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
                panic!(
                    "{name}: checkov output is not JSON ({e}):\n{}\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                )
            });
        let reports = match report {
            serde_json::Value::Array(items) => items,
            one => vec![one],
        };
        let mut passed = 0;
        let mut failures = Vec::new();
        for r in &reports {
            let results = &r["results"];
            passed += results["passed_checks"].as_array().map_or(0, Vec::len);
            for failed in results["failed_checks"].as_array().into_iter().flatten() {
                let check = failed["check_id"].as_str().unwrap_or_default();
                let resource = failed["resource"].as_str().unwrap_or_default();
                let is_allowed = allowed.iter().any(|a| {
                    a.check == check && a.resource.as_deref().is_none_or(|res| res == resource)
                });
                if !is_allowed {
                    failures.push(format!(
                        "{check} {resource} ({}): {}",
                        failed["file_path"].as_str().unwrap_or_default(),
                        failed["check_name"].as_str().unwrap_or_default()
                    ));
                }
            }
        }
        assert!(
            passed > 20,
            "{name}: checkov ran only {passed} passing checks; did it scan the tree?"
        );
        assert!(
            failures.is_empty(),
            "{name}: checkov failed checks outside checkov-allowlist.toml:\n{}",
            failures.join("\n")
        );
    }
}
