//! Writing is all or nothing: a generate killed half way leaves the previous tree byte for
//! byte, the next run cleans up after it, and nothing is ever written through a symbolic
//! link or outside --out.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn renamed_inventory(dir: &Path) -> std::path::PathBuf {
    let text = fs::read_to_string(common::repo().join("examples/multi-region/fanin.toml"))
        .unwrap()
        .replace("[members.prod]", "[members.production]");
    let path = dir.join("renamed.toml");
    fs::write(&path, text).unwrap();
    path
}

/// Everything in `parent` whose name marks it as fanin's staging for `out`.
fn staging_dirs(parent: &Path) -> Vec<String> {
    fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tree.fanin-staging-"))
        .collect()
}

#[test]
fn killing_generate_half_way_leaves_the_previous_tree_byte_identical() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("tree");
    common::generate(
        &common::repo().join("examples/multi-region/fanin.toml"),
        &out,
    );
    let before = common::read_tree(&out);

    // A rename changes several files; staging is slowed down (test hook) so the kill lands
    // while files are being staged, i.e. half way through the run.
    let inventory = renamed_inventory(work.path());
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("fanin"))
        .arg("generate")
        .arg(&inventory)
        .arg("--out")
        .arg(&out)
        .env("FANIN_TEST_STAGE_DELAY_MS", "400")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while staging_dirs(work.path()).is_empty() {
        assert!(Instant::now() < deadline, "generate never started staging");
        assert!(
            child.try_wait().unwrap().is_none(),
            "generate ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500)); // at least one file staged
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();

    common::assert_same_tree(&before, &common::read_tree(&out), "after the kill");
    assert_eq!(
        staging_dirs(work.path()).len(),
        1,
        "the killed run's staging is left beside the tree"
    );

    // The next run cleans up and writes the new tree.
    common::fanin()
        .arg("generate")
        .arg(&inventory)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(staging_dirs(work.path()).is_empty(), "staging was removed");
    let expected = fanin::plan_generation(&inventory, &out, Default::default())
        .unwrap()
        .changes;
    let after = common::read_tree(&out);
    for change in &expected {
        assert_eq!(
            Some(&after[&change.path]),
            change.new.as_ref(),
            "{}",
            change.path
        );
    }
    assert!(after.contains_key("moves.tf"));
}

#[test]
fn refuses_a_symbolic_link_anywhere_on_the_out_path() {
    let work = tempfile::tempdir().unwrap();
    let real = work.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = work.path().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    // The link itself, and a directory below it that generate would create through it; and
    // the same written relative to the working directory.
    for (cwd, out) in [
        (work.path(), link.clone()),
        (work.path(), link.join("sub")),
        (work.path(), PathBuf::from("link/sub/deeper")),
    ] {
        for command in ["generate", "diff", "check"] {
            common::fanin()
                .current_dir(cwd)
                .arg(command)
                .arg(common::repo().join("examples/minimal/fanin.toml"))
                .arg("--out")
                .arg(&out)
                .assert()
                .code(2)
                .stderr(predicates::str::contains(format!(
                    "{}: is a symbolic link on the way to --out",
                    if out.is_absolute() {
                        link.display().to_string()
                    } else {
                        "link".to_string()
                    }
                )));
        }
    }
    assert_eq!(
        fs::read_dir(&real).unwrap().count(),
        0,
        "nothing written through the link"
    );
    assert_eq!(
        fs::read_dir(work.path()).unwrap().count(),
        2,
        "nothing staged beside the link either"
    );
}

#[test]
fn a_dangling_link_on_the_out_path_is_named_as_such() {
    let work = tempfile::tempdir().unwrap();
    let dangling = work.path().join("dangling");
    std::os::unix::fs::symlink(work.path().join("gone"), &dangling).unwrap();
    common::fanin()
        .arg("generate")
        .arg(common::repo().join("examples/minimal/fanin.toml"))
        .arg("--out")
        .arg(dangling.join("sub"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "{}: is a symbolic link to nothing (dangling)",
            dangling.display()
        )));
    assert!(!work.path().join("gone").exists(), "nothing created");
}

#[test]
fn refuses_a_symbolic_link_inside_the_tree() {
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("tree");
    let elsewhere = work.path().join("elsewhere");
    fs::create_dir_all(&out).unwrap();
    fs::create_dir_all(&elsewhere).unwrap();
    // modules/ pointing outside --out would make module files land in `elsewhere`.
    std::os::unix::fs::symlink(&elsewhere, out.join("modules")).unwrap();
    common::fanin()
        .arg("generate")
        .arg(common::repo().join("examples/minimal/fanin.toml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("modules: is a symbolic link"));
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(
        fs::read_dir(&out).unwrap().count(),
        1,
        "only the link itself: nothing was written"
    );
}

#[test]
fn generated_paths_never_come_from_the_inventory() {
    // Keys, tags and names are all over the inventory; the file names are fixed.
    let files = fanin::generate(&common::repo().join("examples/multi-region/fanin.toml")).unwrap();
    let allowed = [
        "README.md",
        "deploy-role/README.md",
        "fanin-manifest.toml",
        "main.tf",
        "moves.tf",
        "outputs.tf",
        "providers.tf",
        "versions.tf",
    ];
    for file in files {
        assert!(
            allowed.contains(&file.path.as_str())
                || fanin::modules::FILES.iter().any(|(p, _)| *p == file.path),
            "unexpected output path {}",
            file.path
        );
    }
}
