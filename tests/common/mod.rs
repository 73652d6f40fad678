//! Helpers shared by the integration tests: where the repository and its examples are, the
//! `fanin` binary, the engine (never skipped silently in CI) and small file utilities.

// Every test crate includes this module and uses only part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The repository root (where Cargo.toml is).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every example directory that holds a `fanin.toml`, sorted by name.
pub fn examples() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(repo().join("examples"))
        .expect("examples/ exists")
        .map(|entry| entry.expect("readable examples/").path())
        .filter(|dir| dir.join("fanin.toml").is_file())
        .collect();
    found.sort();
    assert!(
        found.len() >= 2,
        "expected at least examples/minimal and examples/multi-region, found {found:?}"
    );
    found
}

/// The name of an example directory (`minimal`, `multi-region`).
pub fn example_name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

/// The `fanin` binary built for this test run.
pub fn fanin() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("fanin").expect("the fanin binary is built for tests")
}

/// The engine to run: `FANIN_ENGINE` when set. Without it, tests that need the engine are
/// skipped loudly on a developer machine and fail in CI (`CI` set): engine tests never skip
/// silently. `scripts/test` installs the offline engine and sets `FANIN_ENGINE`.
pub fn engine() -> Option<PathBuf> {
    required_tool("FANIN_ENGINE", "engine")
}

/// The executable named by `variable`; when it is unset, `None` after a loud notice on a
/// developer machine, and a failure in CI (`CI` set), so that no test skips silently.
pub fn required_tool(variable: &str, what: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(path));
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI is set but no {what}: run scripts/test or set {variable}");
    }
    // Straight to the process's stderr: the test harness captures `eprintln!` of tests that
    // pass, and a skip must be seen.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n{bar}\nSKIPPED: no {what} (set {variable} or run scripts/test)\n{bar}",
        bar = "*".repeat(70)
    );
    None
}

/// The hashicorp/aws version that `init` selected in `dir` (from its `.terraform.lock.hcl`).
pub fn aws_provider_version(dir: &Path) -> String {
    let lock = dir.join(".terraform.lock.hcl");
    let text = fs::read_to_string(&lock)
        .unwrap_or_else(|e| panic!("{}: {e} (did init run there?)", lock.display()));
    let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", lock.display()));
    let block = body
        .blocks()
        .find(|b| {
            b.identifier.as_str() == "provider"
                && b.labels.first().map(|l| l.as_str())
                    == Some("registry.terraform.io/hashicorp/aws")
        })
        .unwrap_or_else(|| panic!("{}: no hashicorp/aws provider", lock.display()));
    match block
        .body
        .attributes()
        .find(|a| a.key.as_str() == "version")
    {
        Some(hcl::Attribute {
            expr: hcl::Expression::String(version),
            ..
        }) => version.clone(),
        other => panic!("{}: unexpected version {other:?}", lock.display()),
    }
}

/// Says, on the test process's own stderr (the harness captures `eprintln!`), which
/// hashicorp/aws an engine step ran on in `dir`, and checks it is the one the installed
/// engine promises (`FANIN_AWS_PROVIDER_VERSION`, the newest in the machine's mirror).
pub fn report_provider(what: &str, dir: &Path) {
    let version = aws_provider_version(dir);
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "engine step `{what}` ran on hashicorp/aws {version}"
    );
    if let Some(expected) = std::env::var_os("FANIN_AWS_PROVIDER_VERSION").filter(|v| !v.is_empty())
    {
        assert_eq!(
            version,
            expected.to_string_lossy(),
            "{what}: init chose hashicorp/aws {version}, not the mirror's newest"
        );
    }
}

/// Generates the tree for `inventory` into `out` with the binary; panics unless it exits 0.
pub fn generate(inventory: &Path, out: &Path) {
    fanin()
        .arg("generate")
        .arg(inventory)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

/// Copies the directory `from` into `to` (created), recursively, skipping engine artifacts
/// (`.terraform/`, `.terraform.lock.hcl`, state files) that a developer may have left.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str == ".terraform"
            || name_str == ".terraform.lock.hcl"
            || name_str.ends_with(".tfstate")
            || name_str.ends_with(".tfstate.backup")
        {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else if kind.is_file() {
            fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// Every regular file under `dir` by relative `/`-separated path, with its bytes; engine
/// artifacts (`.terraform/`, `.terraform.lock.hcl`) are left out.
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name == ".terraform" || name == ".terraform.lock.hcl" {
                continue;
            }
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                walk(root, &path, out);
            } else if kind.is_file() {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(relative, fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

/// Asserts that two trees hold the same files with the same bytes, naming the first
/// difference.
pub fn assert_same_tree(
    left: &BTreeMap<String, Vec<u8>>,
    right: &BTreeMap<String, Vec<u8>>,
    what: &str,
) {
    let left_names: Vec<&String> = left.keys().collect();
    let right_names: Vec<&String> = right.keys().collect();
    assert_eq!(left_names, right_names, "{what}: different sets of files");
    for (path, bytes) in left {
        assert!(
            *bytes == right[path],
            "{what}: {path} differs\n--- left\n{}\n--- right\n{}",
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&right[path]),
        );
    }
}

/// The inventory at `path` (a TOML file) as a TOML table.
pub fn load_toml(path: &Path) -> toml::Table {
    fs::read_to_string(path)
        .unwrap()
        .parse::<toml::Table>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A working directory with a copy of an example's inventory, generated once: for tests that
/// change the inventory and regenerate.
pub struct Workspace {
    _dir: tempfile::TempDir,
    pub inventory: PathBuf,
    pub out: PathBuf,
}

impl Workspace {
    /// `example` is the inventory's path in the repository.
    pub fn new(example: &str) -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        let inventory = dir.path().join("fanin.toml");
        fs::copy(repo().join(example), &inventory).unwrap();
        let out = dir.path().join("tree");
        let ws = Workspace {
            _dir: dir,
            inventory,
            out,
        };
        ws.generate(&[]).success();
        ws
    }

    /// Replaces the first `from` in the inventory with `to`.
    pub fn edit(&self, from: &str, to: &str) {
        let text = fs::read_to_string(&self.inventory).unwrap();
        assert!(text.contains(from), "{from:?} not in the inventory");
        fs::write(&self.inventory, text.replacen(from, to, 1)).unwrap();
    }

    pub fn run(&self, command: &str, flags: &[&str]) -> assert_cmd::assert::Assert {
        fanin()
            .arg(command)
            .arg(&self.inventory)
            .arg("--out")
            .arg(&self.out)
            .args(flags)
            .assert()
    }

    pub fn generate(&self, flags: &[&str]) -> assert_cmd::assert::Assert {
        self.run("generate", flags)
    }

    pub fn read(&self, path: &str) -> String {
        fs::read_to_string(self.out.join(path)).unwrap()
    }

    pub fn exists(&self, path: &str) -> bool {
        self.out.join(path).exists()
    }
}

/// The inventory's JSON Schema (`fanin schema`), compiled once.
pub fn inventory_schema() -> &'static jsonschema::Validator {
    static SCHEMA: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    SCHEMA.get_or_init(|| {
        jsonschema::draft7::new(&fanin::inventory::json_schema())
            .expect("the inventory schema compiles as draft-07")
    })
}

/// An inventory's text as the JSON value its schema describes, in the format it is written
/// in; `None` when the text does not parse at all.
pub fn inventory_value(text: &str, format: fanin::inventory::Format) -> Option<serde_json::Value> {
    use fanin::inventory::Format;
    match format {
        Format::Toml => toml::from_str(text).ok(),
        Format::Yaml => serde_saphyr::from_str(text).ok(),
        Format::Json => serde_json::from_str(text).ok(),
    }
}

/// What the schema says of an inventory's text: `Ok` when it is valid, otherwise each
/// error with the place it is at.
pub fn schema_verdict(text: &str, format: fanin::inventory::Format) -> Result<(), Vec<String>> {
    let value = inventory_value(text, format).ok_or_else(|| vec!["does not parse".to_string()])?;
    let errors: Vec<String> = inventory_schema()
        .iter_errors(&value)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Generated HCL with each run of whitespace made one space: attributes are aligned, so the
/// padding depends on the longest name in the block.
pub fn spaced(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
