//! What generating would do to each file of the tree.

use super::{OutputError, io_error};
use crate::generated::{GeneratedFile, is_fanin_file};
use crate::manifest::{self, Manifest};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
    Unchanged,
}

/// What generating would do to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub action: Action,
    pub old: Option<Vec<u8>>,
    pub new: Option<Vec<u8>>,
    /// The file differs from what fanin last wrote there.
    pub hand_edited: bool,
    /// The file exists, is not in the manifest and does not carry fanin's marker.
    pub not_ours: bool,
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, OutputError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Compares `dir` with `files` (sorted by path), using the previous manifest to tell what
/// fanin wrote from what someone changed. Each file's contents move into its change: the tree
/// is held once, not twice.
pub fn plan(
    dir: &Path,
    files: Vec<GeneratedFile>,
    previous: Option<&Manifest>,
) -> Result<Vec<Change>, OutputError> {
    let written_hash = |path: &str| previous.and_then(|m| m.files.get(path));
    let mut changes = Vec::with_capacity(files.len());
    for file in files {
        let old = read_optional(&dir.join(&file.path))?;
        let (action, hand_edited, not_ours) = match &old {
            None => (Action::Create, false, false),
            Some(old) if *old == file.contents => (Action::Unchanged, false, false),
            Some(old) => match written_hash(&file.path) {
                Some(hash) => (Action::Update, manifest::sha256_hex(old) != *hash, false),
                // No record (a tree from before manifests, or the manifest itself): the
                // marker is the only sign that fanin wrote it.
                None => (Action::Update, false, !is_fanin_file(old)),
            },
        };
        changes.push(Change {
            path: file.path,
            action,
            old,
            new: Some(file.contents),
            hand_edited,
            not_ours,
        });
    }
    if let Some(previous) = previous {
        // A set, not a scan of the generated files per entry: with 10,000 members both hold
        // about 50,000 paths.
        let generated: HashSet<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        let mut deletes = Vec::new();
        for (path, hash) in &previous.files {
            if generated.contains(path.as_str()) {
                continue;
            }
            if let Some(old) = read_optional(&dir.join(path))? {
                let hand_edited = manifest::sha256_hex(&old) != *hash;
                deletes.push(Change {
                    path: path.clone(),
                    action: Action::Delete,
                    old: Some(old),
                    new: None,
                    hand_edited,
                    not_ours: false,
                });
            }
        }
        changes.extend(deletes);
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}
