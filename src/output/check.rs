//! What `fanin check` reports: every way the tree differs from what generate would write.

use super::plan::{Action, Change};
use super::{OutputError, io_error};
use crate::generated::is_fanin_file;
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    Missing(String),
    /// Changed by hand since fanin wrote it.
    Edited(String),
    /// Still what fanin wrote, but the inventory now gives something else.
    Outdated(String),
    /// Written by fanin, no longer produced by the inventory.
    Stale(String),
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Missing(p) => write!(f, "missing:  {p}"),
            Difference::Edited(p) => write!(f, "edited:   {p} (changed by hand)"),
            Difference::Outdated(p) => write!(f, "outdated: {p}"),
            Difference::Stale(p) => write!(f, "stale:    {p} (no longer generated)"),
        }
    }
}

/// What `check` reports: every way `dir` differs from what generate would write, given what
/// writing `files` would do to it (`changes`) and whether `dir` has a manifest.
pub fn differences(
    dir: &Path,
    changes: &[Change],
    has_manifest: bool,
) -> Result<Vec<Difference>, OutputError> {
    let mut found: Vec<Difference> = changes
        .iter()
        .filter_map(|c| match c.action {
            Action::Unchanged => None,
            Action::Create => Some(Difference::Missing(c.path.clone())),
            Action::Update if c.hand_edited => Some(Difference::Edited(c.path.clone())),
            Action::Update => Some(Difference::Outdated(c.path.clone())),
            Action::Delete => Some(Difference::Stale(c.path.clone())),
        })
        .collect();
    if !has_manifest {
        // Without a manifest, a file with fanin's marker that is not generated is stale.
        let mut present = Vec::new();
        collect_files(dir, dir, &mut present)?;
        let generated: HashSet<&str> = changes
            .iter()
            .filter(|c| c.new.is_some())
            .map(|c| c.path.as_str())
            .collect();
        for relative in present {
            if generated.contains(relative.as_str()) {
                continue;
            }
            let path = dir.join(&relative);
            let contents = fs::read(&path).map_err(io_error(&path))?;
            if is_fanin_file(&contents) {
                found.push(Difference::Stale(relative));
            }
        }
    }
    found.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(found)
}

impl Difference {
    /// The file's path in the tree.
    pub fn path(&self) -> &str {
        match self {
            Difference::Missing(p)
            | Difference::Edited(p)
            | Difference::Outdated(p)
            | Difference::Stale(p) => p,
        }
    }

    /// `missing`, `edited`, `outdated` or `stale`, as `check` prints it.
    pub fn kind(&self) -> &'static str {
        match self {
            Difference::Missing(_) => "missing",
            Difference::Edited(_) => "edited",
            Difference::Outdated(_) => "outdated",
            Difference::Stale(_) => "stale",
        }
    }
}

/// Relative `/`-separated paths of the regular files under `dir`, skipping `.terraform`.
fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), OutputError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound && dir == root => return Ok(()),
        Err(e) => return Err(io_error(dir)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_error(dir))?;
        let kind = entry.file_type().map_err(io_error(&entry.path()))?;
        if entry.file_name() == ".terraform" {
            continue;
        }
        if kind.is_dir() {
            collect_files(root, &entry.path(), out)?;
        } else if kind.is_file() {
            let relative = entry
                .path()
                .strip_prefix(root)
                .expect("walked from root")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push(relative);
        }
    }
    Ok(())
}
