//! Engine tests: the generated trees and both modules on a real OpenTofu/Terraform engine
//! (`FANIN_ENGINE`; `scripts/test` installs the offline Terraform 1.15 with the newest
//! hashicorp/aws the machine has, 5.100 on ours). Each test says which provider it ran on and
//! checks that it is the one the engine promises. Without an engine these tests skip loudly,
//! and fail when `CI` is set.
//!
//! Every test works in its own temporary directory: the repository is never touched, and the
//! engine's `.terraform` (provider plugins) is per directory, so tests may run in parallel.

mod common;

use common::{
    assert_same_tree, copy_dir, engine, example_name, examples, fanin, generate, read_tree, repo,
    report_provider,
};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `engine args...` in `dir` and returns its output, without judging it.
fn run_engine(engine: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(engine)
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run the engine {}: {e}", engine.display()))
}

/// Runs `engine args...` in `dir` and panics, showing its output, unless it exits 0.
fn engine_ok(engine: &Path, dir: &Path, args: &[&str]) -> String {
    let out = run_engine(engine, dir, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`{} {}` in {} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        engine.display(),
        args.join(" "),
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr),
    );
    stdout
}

/// `fanin validate DIR` with the engine given through `FANIN_ENGINE`.
fn fanin_validate(engine: &Path, dir: &Path) -> assert_cmd::assert::Assert {
    fanin()
        .arg("validate")
        .arg(dir)
        .env("FANIN_ENGINE", engine)
        .assert()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `validate -json` in an initialised `dir`: valid, and without a single warning (a
/// deprecated argument or resource on this provider is a warning).
fn assert_valid_without_warnings(engine: &Path, dir: &Path, what: &str) {
    let out = run_engine(engine, dir, &["validate", "-json", "-no-color"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: `validate -json` printed no JSON ({e}):\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    });
    assert_eq!(report["valid"], true, "{what}: {report:#}");
    assert_eq!(
        report["warning_count"], 0,
        "{what}: warnings on this provider (deprecations?): {:#}",
        report["diagnostics"]
    );
}

#[test]
fn every_example_generates_a_tree_the_engine_accepts() {
    let Some(engine) = engine() else { return };
    for example in examples() {
        let temp = tempfile::tempdir().unwrap();
        let out = temp.path().join("tree");
        generate(&example.join("fanin.toml"), &out);
        let generated = read_tree(&out);
        let assert = fanin_validate(&engine, &out);
        let output = assert.get_output();
        assert!(
            output.status.success(),
            "fanin validate of examples/{} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            example_name(&example),
            output.status,
            text(&output.stdout),
            text(&output.stderr),
        );
        let roots = fanin::engine::roots(generated.keys().map(String::as_str));
        let passed = if roots.len() == 1 {
            "init, validate and fmt -check passed".to_string()
        } else {
            format!(
                "{} roots: init and validate, and fmt -check, passed",
                roots.len()
            )
        };
        assert!(
            text(&output.stdout).contains(&passed),
            "{}",
            text(&output.stdout)
        );
        // fanin validate works on a copy: the tree is still exactly what generate wrote.
        for artifact in [".terraform", ".terraform.lock.hcl"] {
            assert!(
                !out.join(artifact).exists(),
                "fanin validate left {artifact} in the tree"
            );
        }
        assert_same_tree(
            &read_tree(&out),
            &generated,
            "the tree after fanin validate",
        );
        fanin()
            .arg("check")
            .arg(example.join("fanin.toml"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();

        for root in roots {
            let what = format!("examples/{}/{root}", example_name(&example));
            let dir = out.join(&root);
            engine_ok(
                &engine,
                &dir,
                &["init", "-backend=false", "-input=false", "-no-color"],
            );
            report_provider(&format!("validate {what}"), &dir);
            assert_valid_without_warnings(&engine, &dir, &what);
        }
    }
}

#[test]
fn validate_takes_the_engine_from_the_engine_flag() {
    let Some(engine) = engine() else { return };
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    generate(&repo().join("examples/minimal/fanin.toml"), &out);
    fanin()
        .arg("validate")
        .arg(&out)
        .arg("--engine")
        .arg(&engine)
        .env_remove("FANIN_ENGINE")
        .assert()
        .success();
}

/// `init -backend=false`, `validate`, `fmt -check -recursive` and `test` (the module's
/// `tests/*.tftest.hcl` with `mock_provider`) on a copy of `modules/<name>`.
fn check_module(name: &str) {
    let Some(engine) = engine() else { return };
    let source = repo().join("modules").join(name);
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join(name);
    copy_dir(&source, &dir);

    engine_ok(
        &engine,
        &dir,
        &["init", "-backend=false", "-input=false", "-no-color"],
    );
    report_provider(&format!("test of modules/{name}"), &dir);
    assert_valid_without_warnings(&engine, &dir, &format!("modules/{name}"));
    engine_ok(
        &engine,
        &dir,
        &["fmt", "-check", "-recursive", "-diff", "-no-color"],
    );
    let stdout = engine_ok(&engine, &dir, &["test", "-no-color"]);

    // The test files really ran, each passed, and none failed.
    let mut test_files: Vec<String> = fs::read_dir(source.join("tests"))
        .unwrap_or_else(|e| panic!("modules/{name}/tests: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".tftest.hcl"))
        .collect();
    test_files.sort();
    assert!(
        !test_files.is_empty(),
        "modules/{name}/tests has no .tftest.hcl"
    );
    for file in &test_files {
        assert!(
            stdout.contains(&format!("tests/{file}... pass")),
            "modules/{name}: tests/{file} did not pass:\n{stdout}"
        );
    }
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("Success!"))
        .unwrap_or_else(|| panic!("no summary in `test` output:\n{stdout}"));
    let passed: usize = summary
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary: {summary}"));
    assert!(passed > 0, "no run block passed: {summary}");
    assert!(summary.contains(" 0 failed"), "{summary}");
}

#[test]
fn hub_module_passes_init_validate_fmt_and_its_tests() {
    check_module("hub");
}

#[test]
fn spoke_module_passes_init_validate_fmt_and_its_tests() {
    check_module("spoke");
}

#[test]
fn every_module_is_checked_here() {
    let mut modules: Vec<String> = fs::read_dir(repo().join("modules"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    modules.sort();
    assert_eq!(
        modules,
        ["hub", "spoke"],
        "a new module needs its engine test in tests/engine.rs"
    );
}

/// A generated tree of the minimal example in a temporary directory, with `edit` applied to
/// the file at `path` (which must change it).
fn edited_tree(path: &str, edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    generate(&repo().join("examples/minimal/fanin.toml"), &out);
    let file = out.join(path);
    let before = fs::read_to_string(&file).unwrap();
    let after = edit(&before);
    assert_ne!(before, after, "the edit of {path} changed nothing");
    fs::write(&file, after).unwrap();
    temp
}

#[test]
fn validate_fails_on_a_file_that_is_not_canonical() {
    let Some(engine) = engine() else { return };
    let temp = edited_tree("versions.tf", |s| {
        s.replacen("required_version = ", "required_version   = ", 1)
    });
    let assert = fanin_validate(&engine, &temp.path().join("tree")).failure();
    let output = assert.get_output();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(stderr.contains("fmt -check"), "{stderr}");
    assert!(
        text(&output.stdout).contains("versions.tf"),
        "fmt should name the file: {}",
        text(&output.stdout)
    );
}

#[test]
fn validate_fails_on_an_unknown_resource_argument() {
    let Some(engine) = engine() else { return };
    let header = "resource \"aws_cloudwatch_event_rule\" \"finding\" {\n";
    let temp = edited_tree("modules/spoke/main.tf", |s| {
        s.replacen(header, &format!("{header}  no_such_argument = \"x\"\n"), 1)
    });
    let assert = fanin_validate(&engine, &temp.path().join("tree")).failure();
    let output = assert.get_output();
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("`") && stderr.contains("validate"),
        "{stderr}"
    );
    let all = format!("{}{stderr}", text(&output.stdout));
    assert!(
        all.contains("no_such_argument") && all.contains("Unsupported argument"),
        "the engine should name the argument:\n{all}"
    );
}

/// `validate --format json`: one object on stdout, the engine's output inside it (nothing
/// streamed around it), for a tree that passes and for one each step fails on.
#[test]
fn validate_reports_json_for_tools() {
    let Some(engine) = engine() else { return };
    let json = |dir: &Path, code: i32| -> serde_json::Value {
        let run = fanin()
            .arg("validate")
            .arg(dir)
            .args(["--format", "json"])
            .env("FANIN_ENGINE", &engine)
            .assert()
            .code(code);
        serde_json::from_slice(&run.get_output().stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}",
                text(&run.get_output().stdout)
            )
        })
    };
    let passing = tempfile::tempdir().unwrap();
    generate(
        &repo().join("examples/minimal/fanin.toml"),
        &passing.path().join("tree"),
    );
    let report = json(&passing.path().join("tree"), 0);
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(report["roots"][0]["passed"], true, "{report}");
    assert_eq!(report["fmt"]["passed"], true, "{report}");

    let unformatted = edited_tree("versions.tf", |s| {
        s.replacen("required_version = ", "required_version   = ", 1)
    });
    let report = json(&unformatted.path().join("tree"), 1);
    assert_eq!(report["passed"], false);
    assert_eq!(report["fmt"]["passed"], false);
    assert!(
        report["fmt"]["output"]
            .as_str()
            .unwrap()
            .contains("versions.tf"),
        "{report}"
    );

    let header = "resource \"aws_cloudwatch_event_rule\" \"finding\" {\n";
    let invalid = edited_tree("modules/spoke/main.tf", |s| {
        s.replacen(header, &format!("{header}  no_such_argument = \"x\"\n"), 1)
    });
    let report = json(&invalid.path().join("tree"), 1);
    assert_eq!(report["passed"], false);
    assert_eq!(
        report["fmt"],
        serde_json::Value::Null,
        "fmt runs only when every root passed"
    );
    let root = &report["roots"][0];
    assert_eq!(root["failed_step"], "validate -no-color", "{report}");
    assert!(
        root["output"]
            .as_str()
            .unwrap()
            .contains("no_such_argument"),
        "{report}"
    );

    let missing = json(&passing.path().join("nowhere"), 2);
    assert!(
        missing["error"]
            .as_str()
            .unwrap()
            .contains("not a directory"),
        "{missing}"
    );
}
