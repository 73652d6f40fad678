//! Running an OpenTofu/Terraform engine on a generated tree: `init -backend=false` and
//! `validate` in every root, `fmt -check -recursive` over the tree, the checks a reviewer
//! would run.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the engine came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub program: PathBuf,
    pub chosen_by: &'static str,
}

/// `--engine`, then `FANIN_ENGINE`, then `tofu` on PATH, then `terraform` on PATH.
pub fn find(explicit: Option<&Path>) -> Option<Engine> {
    if let Some(path) = explicit {
        return Some(Engine {
            program: path.to_path_buf(),
            chosen_by: "--engine",
        });
    }
    if let Some(path) = std::env::var_os("FANIN_ENGINE").filter(|v| !v.is_empty()) {
        return Some(Engine {
            program: PathBuf::from(path),
            chosen_by: "FANIN_ENGINE",
        });
    }
    for name in ["tofu", "terraform"] {
        if let Some(path) = on_path(name) {
            return Some(Engine {
                program: path,
                chosen_by: "PATH",
            });
        }
    }
    None
}

fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// One engine step and whether it passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub args: Vec<&'static str>,
    pub passed: bool,
}

/// The steps `fanin validate` runs in every root, in order; later steps are skipped after a
/// failure. Then `FMT` once over the whole tree.
pub const ROOT_STEPS: &[&[&str]] = &[
    &["init", "-backend=false", "-input=false", "-no-color"],
    &["validate", "-no-color"],
];
pub const FMT: &[&str] = &["fmt", "-check", "-recursive", "-diff", "-no-color"];

/// What validating one root found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootResult {
    /// The root's directory in the tree (empty: the tree itself).
    pub root: String,
    pub steps: Vec<Step>,
    /// The engine's output, when roots ran side by side (one root prints as it runs).
    pub output: String,
}

/// Everything `fanin validate` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    pub roots: Vec<RootResult>,
    /// `fmt -check` over the whole tree, when every root passed.
    pub fmt: Option<Step>,
    /// What `fmt -check` printed (the files it would change), when not streamed.
    pub fmt_output: String,
}

/// Runs the steps on a copy of `dir` in a temporary directory: init and validate in each of
/// `roots` (at most `jobs` at once), then fmt once. `init` writes `.terraform/` and a lock
/// file for this machine's platform only; on a copy, the tree stays exactly what generate
/// wrote (and `check` clean). For a person the engine prints to our stdout and stderr as it
/// runs (one root, and fmt); with `capture` (a report for tools) every output is kept in the
/// results instead.
pub fn validate(
    engine: &Engine,
    dir: &Path,
    roots: &[String],
    jobs: usize,
    capture: bool,
) -> std::io::Result<Validation> {
    let copy = tempfile::Builder::new()
        .prefix("fanin-validate-")
        .tempdir()?;
    copy_tree(dir, copy.path())?;
    let stream = !capture && roots.len() == 1;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, roots.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(root) = roots.get(i) else { break };
                    let result = validate_root(engine, &copy.path().join(root), root, stream);
                    results
                        .lock()
                        .expect("no thread panics holding it")
                        .push((i, result));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("no thread panics holding it");
    results.sort_by_key(|(i, _)| *i);
    let roots = results
        .into_iter()
        .map(|(_, r)| r)
        .collect::<std::io::Result<Vec<RootResult>>>()?;
    let mut fmt_output = String::new();
    let fmt = if roots.iter().all(|r| r.steps.iter().all(|s| s.passed)) {
        let mut command = Command::new(&engine.program);
        command
            .args(FMT)
            .current_dir(copy.path())
            .env("TF_IN_AUTOMATION", "1");
        let passed = run_step(&mut command, !capture, &mut fmt_output)?;
        Some(Step {
            args: FMT.to_vec(),
            passed,
        })
    } else {
        None
    };
    Ok(Validation {
        roots,
        fmt,
        fmt_output,
    })
}

/// Runs one engine step: printing as it runs (`stream`), or into `output`. Whether it passed.
fn run_step(command: &mut Command, stream: bool, output: &mut String) -> std::io::Result<bool> {
    if stream {
        return Ok(command.status()?.success());
    }
    let run = command.output()?;
    output.push_str(&String::from_utf8_lossy(&run.stdout));
    output.push_str(&String::from_utf8_lossy(&run.stderr));
    Ok(run.status.success())
}

fn validate_root(
    engine: &Engine,
    dir: &Path,
    root: &str,
    stream: bool,
) -> std::io::Result<RootResult> {
    let mut steps = Vec::new();
    let mut output = String::new();
    for args in ROOT_STEPS {
        let mut command = Command::new(&engine.program);
        command
            .args(*args)
            .current_dir(dir)
            .env("TF_IN_AUTOMATION", "1");
        let passed = run_step(&mut command, stream, &mut output)?;
        steps.push(Step {
            args: args.to_vec(),
            passed,
        });
        if !passed {
            break;
        }
    }
    Ok(RootResult {
        root: root.to_string(),
        steps,
        output,
    })
}

/// The roots of a tree whose files are `paths`: every directory with a `versions.tf`
/// outside `modules/`, sorted (the tree itself is `""`).
pub fn roots<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut roots: Vec<String> = paths
        .into_iter()
        .filter(|p| !p.starts_with("modules/"))
        .filter_map(|p| {
            let dir = p.strip_suffix("versions.tf")?;
            (dir.is_empty() || dir.ends_with('/')).then(|| dir.trim_end_matches('/').to_string())
        })
        .collect();
    roots.sort();
    roots.dedup();
    roots
}

/// Copies the files under `from` into `to` (which exists), following symbolic links, without
/// the engine's `.terraform/` directories.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == ".terraform" {
            continue;
        }
        let source = entry.path();
        let target = to.join(entry.file_name());
        if std::fs::metadata(&source)?.is_dir() {
            std::fs::create_dir(&target)?;
            copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target)?;
        }
    }
    Ok(())
}
