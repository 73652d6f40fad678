//! The command line as a user meets it: help, exit codes (0 ok, 1 differences or engine
//! checks failed, 2 error), nothing written on error, `check` for CI, and the three inventory
//! formats. Everything runs in temporary directories.

mod common;

use common::{fanin, load_toml, read_tree, repo};
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

fn minimal_inventory() -> PathBuf {
    repo().join("examples/minimal/fanin.toml")
}

/// The minimal example with member prod's account id made invalid.
fn bad_inventory(dir: &Path) -> PathBuf {
    let text = fs::read_to_string(minimal_inventory()).unwrap();
    let bad = text.replacen("account_id = \"222222222222\"", "account_id = \"2222\"", 1);
    assert_ne!(
        text, bad,
        "the minimal example no longer holds member prod's account id"
    );
    let path = dir.join("bad.toml");
    fs::write(&path, bad).unwrap();
    path
}

/// The subcommands `fanin --help` lists (without `help` itself).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        // A command starts its line after two spaces; deeper lines continue a description.
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn help_works_on_every_command() {
    let top = fanin().arg("--help").assert().success();
    let top = String::from_utf8_lossy(&top.get_output().stdout).into_owned();
    assert!(top.contains("Usage: fanin"), "{top}");
    let commands = subcommands(&top);
    for required in ["init", "generate", "check", "validate"] {
        assert!(
            commands.iter().any(|c| c == required),
            "fanin --help does not list {required}:\n{top}"
        );
    }
    for command in &commands {
        for args in [
            vec![command.as_str(), "--help"],
            vec!["help", command.as_str()],
        ] {
            fanin()
                .args(&args)
                .assert()
                .success()
                .stdout(predicate::str::contains(format!("Usage: fanin {command}")));
        }
    }
}

#[test]
fn init_writes_an_inventory_that_generate_accepts() {
    let temp = tempfile::tempdir().unwrap();
    // Default path, in the current directory.
    fanin()
        .arg("init")
        .current_dir(temp.path())
        .assert()
        .success();
    let default = temp.path().join("fanin.toml");
    assert!(default.is_file());
    // Explicit path.
    let named = temp.path().join("accounts.toml");
    fanin().arg("init").arg(&named).assert().success();
    assert_eq!(fs::read(&default).unwrap(), fs::read(&named).unwrap());

    let out = temp.path().join("tree");
    fanin()
        .arg("generate")
        .arg(&named)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("providers.tf").is_file());
    assert!(out.join("main.tf").is_file());
}

#[test]
fn init_writes_the_format_its_path_names_and_each_generates_the_same_tree() {
    let temp = tempfile::tempdir().unwrap();
    let mut trees = Vec::new();
    for name in ["fanin.toml", "fanin.yaml", "fanin.yml", "fanin.json"] {
        // In a directory that does not exist yet: init creates it.
        let path = temp.path().join("sub/dir").join(name);
        fanin().arg("init").arg(&path).assert().success();
        let text = fs::read_to_string(&path).unwrap();
        match name.rsplit('.').next().unwrap() {
            "toml" => assert!(text.contains("\n[hub]\n"), "{text}"),
            "json" => assert!(text.trim_start().starts_with('{'), "{text}"),
            _ => assert!(text.contains("\nhub:\n"), "{text}"),
        }
        let out = temp.path().join(format!("tree-{name}"));
        fanin()
            .arg("generate")
            .arg(&path)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        trees.push(read_tree(&out));
    }
    for tree in &trees[1..] {
        assert!(tree == &trees[0], "the formats generate different trees");
    }
}

#[test]
fn init_refuses_a_name_generate_cannot_read_and_a_file_on_the_way() {
    let temp = tempfile::tempdir().unwrap();
    fanin()
        .arg("init")
        .arg(temp.path().join("inventory.txt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("*.toml, *.yaml, *.yml or *.json"));
    let file = temp.path().join("file");
    fs::write(&file, "mine").unwrap();
    fanin()
        .arg("init")
        .arg(file.join("fanin.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}: is a file",
            file.display()
        )));
    let names: Vec<_> = fs::read_dir(temp.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "init wrote something");
}

#[test]
fn init_never_overwrites_a_file() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("fanin.toml");
    fs::write(&path, "# mine\n").unwrap();
    fanin()
        .arg("init")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"));
    assert_eq!(fs::read_to_string(&path).unwrap(), "# mine\n");
}

#[test]
fn generate_with_a_bad_inventory_exits_2_names_the_field_and_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let inventory = bad_inventory(temp.path());
    let out = temp.path().join("tree");
    fanin()
        .arg("generate")
        .arg(&inventory)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("members.prod.account_id"));
    assert!(!out.exists(), "the out directory was created");
}

#[test]
fn generate_never_overwrites_a_file_fanin_did_not_write() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("main.tf"), "# my own main.tf\n").unwrap();
    fanin()
        .arg("generate")
        .arg(minimal_inventory())
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("main.tf"));
    assert_eq!(
        fs::read_to_string(out.join("main.tf")).unwrap(),
        "# my own main.tf\n"
    );
    let left: Vec<String> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["main.tf"], "generate wrote other files");
}

#[test]
fn generate_again_on_its_own_tree_changes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    common::generate(&minimal_inventory(), &out);
    let first = read_tree(&out);
    common::generate(&minimal_inventory(), &out);
    common::assert_same_tree(&read_tree(&out), &first, "second run vs first run");
}

fn check(inventory: &Path, out: &Path) -> assert_cmd::assert::Assert {
    fanin()
        .arg("check")
        .arg(inventory)
        .arg("--out")
        .arg(out)
        .assert()
}

#[test]
fn check_passes_on_a_fresh_tree() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    common::generate(&minimal_inventory(), &out);
    check(&minimal_inventory(), &out).code(0);
}

#[test]
fn check_finds_a_hand_edit() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    common::generate(&minimal_inventory(), &out);
    let main = out.join("main.tf");
    let text = fs::read_to_string(&main).unwrap();
    fs::write(&main, text.replacen("= \"fanin\"", "= \"other\"", 1)).unwrap();
    assert_ne!(fs::read_to_string(&main).unwrap(), text);
    let before = read_tree(&out);
    check(&minimal_inventory(), &out)
        .code(1)
        .stdout(predicate::str::contains("main.tf"))
        .stdout(predicate::str::contains("providers.tf").not())
        .stderr(predicate::str::contains("1 file differs"))
        // The next step: see the edit, keep it elsewhere, regenerate over it.
        .stderr(predicate::str::contains("fanin diff "))
        .stderr(predicate::str::contains(" --force`"));
    assert_eq!(read_tree(&out), before, "check changed the tree");
}

#[test]
fn check_on_a_missing_directory_says_so_and_names_generate() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("nowhere");
    let assert = check(&minimal_inventory(), &out).code(1);
    let output = assert.get_output();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("nowhere: no such directory")
            && stderr.contains(&format!(
                "fanin generate {} --out {}",
                minimal_inventory().display(),
                out.display()
            )),
        "{stderr}"
    );
    // One line that explains it, not a list of every file as missing.
    assert!(output.stdout.is_empty(), "{output:?}");
    assert!(!out.exists());
}

#[test]
fn out_naming_a_file_is_refused_by_every_command_that_takes_it() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("fanin.toml");
    fs::copy(minimal_inventory(), &file).unwrap();
    let before = fs::read(&file).unwrap();
    for out in [file.clone(), file.join("sub")] {
        for command in ["generate", "check", "diff"] {
            let assert = fanin()
                .arg(command)
                .arg(minimal_inventory())
                .arg("--out")
                .arg(&out)
                .assert()
                .code(2);
            let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
            assert!(
                stderr.contains(&format!(
                    "{}: is a file; --out must name a directory",
                    file.display()
                )) && !stderr.contains("os error"),
                "{command} --out {}: {stderr}",
                out.display()
            );
        }
    }
    assert_eq!(fs::read(&file).unwrap(), before);
    let names: Vec<_> = fs::read_dir(temp.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "something was written beside the file");
}

#[test]
fn check_finds_deleted_files_and_says_how_to_bring_the_tree_up_to_date() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    common::generate(&minimal_inventory(), &out);
    fs::remove_file(out.join("modules/spoke/main.tf")).unwrap();
    fs::remove_file(out.join("modules/hub/main.tf")).unwrap();
    let generate = format!(
        "run `fanin generate {} --out {}`",
        minimal_inventory().display(),
        out.display()
    );
    check(&minimal_inventory(), &out)
        .code(1)
        .stdout(predicate::str::contains("missing"))
        .stdout(predicate::str::contains("modules/spoke/main.tf"))
        .stderr(predicate::str::contains("2 files differ"))
        .stderr(predicate::str::contains(generate))
        // Nothing was edited by hand, so nothing needs --force.
        .stderr(predicate::str::contains("--force").not());
}

#[test]
fn check_exits_2_on_a_bad_inventory() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    common::generate(&minimal_inventory(), &out);
    check(&bad_inventory(temp.path()), &out)
        .code(2)
        .stderr(predicate::str::contains("members.prod.account_id"));
}

#[test]
fn validate_without_any_engine_exits_2_with_a_message() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    common::generate(&minimal_inventory(), &out);
    let empty = temp.path().join("empty-path");
    fs::create_dir(&empty).unwrap();
    fanin()
        .arg("validate")
        .arg(&out)
        .env_remove("FANIN_ENGINE")
        .env("PATH", &empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no engine"));
}

/// A scalar of the inventory as YAML or JSON (a JSON string is a valid YAML scalar too).
fn scalar(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => serde_json::to_string(s).unwrap(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => panic!("not a scalar: {other:?}"),
    }
}

/// `table` as block-style YAML: nested mappings indented, lists as `- item` lines.
fn yaml(table: &toml::Table, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = String::new();
    for (key, value) in table {
        let key = serde_json::to_string(key).unwrap();
        match value {
            toml::Value::Table(t) => out += &format!("{pad}{key}:\n{}", yaml(t, indent + 2)),
            toml::Value::Array(items) if items.is_empty() => out += &format!("{pad}{key}: []\n"),
            toml::Value::Array(items) => {
                out += &format!("{pad}{key}:\n");
                for item in items {
                    out += &format!("{pad}  - {}\n", scalar(item));
                }
            }
            scalar_value => out += &format!("{pad}{key}: {}\n", scalar(scalar_value)),
        }
    }
    out
}

#[test]
fn yaml_and_json_inventories_generate_the_same_tree_as_toml() {
    let temp = tempfile::tempdir().unwrap();
    let inventory = load_toml(&minimal_inventory());
    let toml_out = temp.path().join("toml");
    common::generate(&minimal_inventory(), &toml_out);
    let expected = read_tree(&toml_out);

    let yaml_text = format!("# the minimal example as YAML\n{}", yaml(&inventory, 0));
    let json_text = serde_json::to_string_pretty(&inventory).unwrap();
    for (name, text) in [
        ("fanin.yaml", &yaml_text),
        ("fanin.yml", &yaml_text),
        ("fanin.json", &json_text),
    ] {
        let path = temp.path().join(name);
        fs::write(&path, text).unwrap();
        let out = temp.path().join(format!("tree-{name}"));
        common::generate(&path, &out);
        common::assert_same_tree(
            &read_tree(&out),
            &expected,
            &format!("{name} (left) vs fanin.toml (right):\n{text}"),
        );
    }
}

/// The pre-commit hook runs `fanin check` with the arguments the README shows, and fails the
/// commit when the tree is not what generate writes.
#[test]
fn the_pre_commit_hook_runs_check_with_the_readme_arguments() {
    #[derive(serde::Deserialize)]
    struct Hook {
        id: String,
        entry: String,
        language: String,
        pass_filenames: bool,
    }
    let text = fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<Hook> = serde_saphyr::from_str(&text).unwrap();
    assert_eq!(hooks.len(), 1);
    let hook = &hooks[0];
    assert_eq!(
        (
            hook.id.as_str(),
            hook.language.as_str(),
            hook.pass_filenames
        ),
        ("fanin-check", "rust", false)
    );
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let args = "[fanin.toml, --out, infra/fanin]";
    assert!(
        readme.contains(&format!("args: {args}")),
        "README shows the hook's args"
    );
    assert!(
        text.contains(&format!("args: {args}")),
        "the hook file names them too"
    );

    // pre-commit runs `entry` followed by `args`, from the repository's root.
    let work = tempfile::tempdir().unwrap();
    fs::copy(minimal_inventory(), work.path().join("fanin.toml")).unwrap();
    let run_hook = || {
        let mut words = hook.entry.split_whitespace();
        assert_eq!(words.next(), Some("fanin"));
        let mut command = fanin();
        command
            .current_dir(work.path())
            .args(words)
            .args(["fanin.toml", "--out", "infra/fanin"]);
        command.assert()
    };
    run_hook().code(1);
    common::generate(
        &work.path().join("fanin.toml"),
        &work.path().join("infra/fanin"),
    );
    run_hook().code(0);
}

/// Completion scripts and man pages come from the command line's definition: every command
/// is in them.
#[test]
fn completions_and_man_pages_cover_every_command() {
    let top = fanin().arg("--help").assert().success();
    let commands = subcommands(&String::from_utf8_lossy(&top.get_output().stdout));
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = fanin().args(["completions", shell]).assert().success();
        let script = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        for command in &commands {
            assert!(script.contains(command.as_str()), "{shell}: no {command}");
        }
        // Flags too: the completion knows generate's --out and init's --from-aws-config.
        assert!(script.contains("from-aws-config"), "{shell}");
    }
    let out = fanin().arg("man").assert().success();
    let page = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        page.starts_with(".ie") && page.contains(".TH fanin 1"),
        "{page}"
    );
    for command in &commands {
        // roff escapes the dash in a page name: fanin\-generate(1).
        let name = format!("fanin\\-{}(1)", command.replace('-', "\\-"));
        assert!(page.contains(&name), "fanin(1) does not list {name}");
        let out = fanin().args(["man", command]).assert().success();
        let sub = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
        assert!(
            sub.contains(&format!(".TH fanin-{command} 1")),
            "{command}: {}",
            sub.lines().take(4).collect::<Vec<_>>().join("\n")
        );
    }
    fanin()
        .args(["man", "genrate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no command \"genrate\"; allowed: init, generate",
        ));
}

/// `check --format json`: one object on stdout for tools, with the same answer and exit code
/// as the text.
#[test]
fn check_reports_json_for_tools() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("tree");
    let json = |inventory: &Path, code: i32| -> serde_json::Value {
        let run = fanin()
            .arg("check")
            .arg(inventory)
            .arg("--out")
            .arg(&out)
            .args(["--format", "json"])
            .assert()
            .code(code);
        serde_json::from_slice(&run.get_output().stdout).expect("stdout is one JSON object")
    };
    let missing = json(&minimal_inventory(), 1);
    assert_eq!(missing["tree_exists"], false);
    assert_eq!(missing["up_to_date"], false);
    assert!(
        missing["fix"]
            .as_str()
            .unwrap()
            .starts_with("fanin generate ")
    );

    common::generate(&minimal_inventory(), &out);
    let fresh = json(&minimal_inventory(), 0);
    assert_eq!(fresh["up_to_date"], true);
    assert_eq!(fresh["differences"], serde_json::json!([]));
    assert!(fresh.get("fix").is_none(), "{fresh}");

    let main = out.join("main.tf");
    let text = fs::read_to_string(&main).unwrap();
    fs::write(&main, text.replacen("= \"fanin\"", "= \"other\"", 1)).unwrap();
    fs::remove_file(out.join("outputs.tf")).unwrap();
    let edited = json(&minimal_inventory(), 1);
    assert_eq!(
        edited["differences"],
        serde_json::json!([
            { "path": "main.tf", "kind": "edited" },
            { "path": "outputs.tf", "kind": "missing" },
        ])
    );
    assert!(
        edited["fix"].as_str().unwrap().ends_with(" --force"),
        "{edited}"
    );

    let bad = json(&bad_inventory(temp.path()), 2);
    let error = bad["error"].as_str().unwrap();
    assert!(error.contains("members.prod.account_id"), "{error}");
}
