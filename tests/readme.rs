//! The README's user path, run as written: the `sh` block of its "Quick start" section, line by
//! line, in a temporary directory, with fanin installed from this checkout by the block's own
//! `cargo install` line. A command that changes in the CLI without the README (or the other
//! way round) fails here.

mod common;

use std::fs;
use std::process::Command;

/// The lines of the first `sh` block under `## Quick start`.
fn quick_start() -> Vec<String> {
    let readme = fs::read_to_string(common::repo().join("README.md")).unwrap();
    let section = readme
        .split("\n## Quick start\n")
        .nth(1)
        .expect("README has a Quick start section");
    let section = section.split("\n## ").next().unwrap();
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("Quick start has an sh block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_quick_start_runs_as_written() {
    let Some(engine) = common::engine() else {
        return;
    };
    let lines = quick_start();
    assert!(
        lines[0].starts_with("cargo install --path ."),
        "the path starts by installing fanin: {lines:?}"
    );
    for command in ["init", "generate", "check", "diff", "validate"] {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(&format!("fanin {command} "))),
            "the Quick start shows `fanin {command}`: {lines:?}"
        );
    }

    let home = tempfile::tempdir().unwrap();
    let root = home.path().join("install");
    let work = home.path().join("work");
    fs::create_dir(&work).unwrap();
    // The install line as written, run in the checkout, into a root of the test's own. It
    // builds in a target directory of its own (the one `cargo test` holds is locked), kept
    // between runs, and in debug: the same code, built faster.
    let install = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} --debug --offline --root '{}'",
            lines[0],
            root.display()
        ))
        .current_dir(common::repo())
        .env(
            "CARGO_TARGET_DIR",
            common::repo().join("target/readme-install"),
        )
        .output()
        .unwrap();
    assert!(
        install.status.success(),
        "{}:\n{}",
        lines[0],
        String::from_utf8_lossy(&install.stderr)
    );
    let path = format!(
        "{}:{}",
        root.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for line in &lines[1..] {
        let output = Command::new("sh")
            .arg("-c")
            .arg(line)
            .current_dir(&work)
            .env("PATH", &path)
            .env("FANIN_ENGINE", &engine)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "`{line}` failed ({:?}):\n{}{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // What the path promises: an inventory and a tree that check accepts.
    assert!(work.join("fanin.toml").is_file());
    assert!(work.join("infra/fanin/main.tf").is_file());
    assert!(
        work.join("infra/fanin/deploy-role/fanin-deploy-role.yaml")
            .is_file()
    );
    assert!(
        !work.join("infra/fanin/.terraform").exists(),
        "validate left engine files in the tree"
    );
}
