//! Running an OpenTofu/Terraform engine on a generated tree: `init -backend=false`,
//! `validate` and `fmt -check -recursive`, the checks a reviewer would run.

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

/// The steps `fanin validate` runs, in order; later steps are skipped after a failure.
pub const STEPS: &[&[&str]] = &[
    &["init", "-backend=false", "-input=false", "-no-color"],
    &["validate", "-no-color"],
    &["fmt", "-check", "-recursive", "-diff", "-no-color"],
];

/// Runs the steps on a copy of `dir` in a temporary directory, letting the engine print to
/// our stdout and stderr. `init` writes `.terraform/` and a lock file for this machine's
/// platform only; on a copy, the tree stays exactly what generate wrote (and `check` clean).
pub fn validate(engine: &Engine, dir: &Path) -> std::io::Result<Vec<Step>> {
    let copy = tempfile::Builder::new()
        .prefix("fanin-validate-")
        .tempdir()?;
    copy_tree(dir, copy.path())?;
    let mut steps = Vec::new();
    for args in STEPS {
        let status = Command::new(&engine.program)
            .args(*args)
            .current_dir(copy.path())
            .env("TF_IN_AUTOMATION", "1")
            .status()?;
        let passed = status.success();
        steps.push(Step {
            args: args.to_vec(),
            passed,
        });
        if !passed {
            break;
        }
    }
    Ok(steps)
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
