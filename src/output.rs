//! Writing the generated tree. fanin owns exactly the files its manifest lists: it replaces
//! them when they still hold what it wrote, deletes those it no longer produces, refuses to
//! touch a hand-edited one without `--force`, and never touches a file it did not write.
//! Changes are staged in temporary files beside their destinations and renamed into place
//! only when all were staged; the manifest is renamed last.

use crate::generated::{GeneratedFile, is_fanin_file};
use crate::manifest::{self, Manifest};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error(
        "{}: not written by fanin; fanin never overwrites a file it did not write: move it away or choose another --out directory",
        .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    NotOurs(Vec<PathBuf>),
    #[error(
        "{}: edited by hand since fanin wrote it; move the change into the inventory or a file of your own (fanin does not own *_override.tf or other files), or run again with --force to discard it",
        .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    HandEdited(Vec<PathBuf>),
    #[error("{}: {why}", path.display())]
    Unsafe { path: PathBuf, why: &'static str },
    #[error(
        "{}: is a file; --out must name a directory, or a path where generate can create one",
        .0.display()
    )]
    NotADirectory(PathBuf),
    #[error("{}: the manifest is damaged ({message}); restore it from version control", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The manifest of the tree in `dir`, if it has one. `dir` must be a directory or not exist
/// yet.
pub fn read_manifest(dir: &Path) -> Result<Option<Manifest>, OutputError> {
    usable_out(dir)?;
    let path = dir.join(manifest::FILE_NAME);
    match fs::read_to_string(&path) {
        Ok(text) => Manifest::parse(&text)
            .map(Some)
            .map_err(|message| OutputError::Manifest { path, message }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path)(e)),
    }
}

/// Refuses an `--out` that no tree can be written to, or only through a symbolic link: a
/// file on the way (or `dir` itself), or a link anywhere on the path as written, which
/// would let writes land outside it. Links directly under the filesystem root are the
/// system's own layout (macOS's `/tmp` and `/var`, FreeBSD's `/home`) and are followed.
fn usable_out(dir: &Path) -> Result<(), OutputError> {
    let mut on_the_way: Vec<&Path> = dir
        .ancestors()
        .filter(|a| !a.as_os_str().is_empty() && a.parent().is_some())
        .collect();
    on_the_way.reverse();
    for path in on_the_way {
        let Ok(meta) = fs::symlink_metadata(path) else {
            return Ok(()); // nothing further down exists yet
        };
        let system_layout = path.is_absolute() && path.parent() == Some(Path::new("/"));
        // What the path leads to, links followed (an error for a dangling link).
        let target = fs::metadata(path);
        if meta.file_type().is_symlink() && !system_layout {
            let why = if target.is_ok() {
                "is a symbolic link on the way to --out; fanin writes only real files in real directories so that nothing lands outside --out"
            } else {
                "is a symbolic link to nothing (dangling) on the way to --out; fanin writes only real files in real directories: remove the link or choose another --out"
            };
            return Err(OutputError::Unsafe {
                path: path.to_path_buf(),
                why,
            });
        }
        if target.is_ok_and(|meta| !meta.is_dir()) {
            return Err(OutputError::NotADirectory(path.to_path_buf()));
        }
    }
    Ok(())
}

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
/// fanin wrote from what someone changed.
pub fn plan(
    dir: &Path,
    files: &[GeneratedFile],
    previous: Option<&Manifest>,
) -> Result<Vec<Change>, OutputError> {
    let written_hash = |path: &str| previous.and_then(|m| m.files.get(path));
    let mut changes = Vec::new();
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
            path: file.path.clone(),
            action,
            old,
            new: Some(file.contents.clone()),
            hand_edited,
            not_ours,
        });
    }
    if let Some(previous) = previous {
        for (path, hash) in &previous.files {
            if files.iter().any(|f| f.path == *path) {
                continue;
            }
            if let Some(old) = read_optional(&dir.join(path))? {
                let hand_edited = manifest::sha256_hex(&old) != *hash;
                changes.push(Change {
                    path: path.clone(),
                    action: Action::Delete,
                    old: Some(old),
                    new: None,
                    hand_edited,
                    not_ours: false,
                });
            }
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(changes)
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub written: Vec<String>,
    pub deleted: Vec<String>,
    pub unchanged: usize,
}

/// Carries out `changes` in `dir`. Refuses (writing nothing) when a file is not fanin's, or
/// was edited by hand and `force` is off.
pub fn apply(dir: &Path, changes: &[Change], force: bool) -> Result<WriteReport, OutputError> {
    let not_ours: Vec<PathBuf> = changes
        .iter()
        .filter(|c| c.not_ours)
        .map(|c| dir.join(&c.path))
        .collect();
    if !not_ours.is_empty() {
        return Err(OutputError::NotOurs(not_ours));
    }
    let edited: Vec<PathBuf> = changes
        .iter()
        .filter(|c| c.hand_edited)
        .map(|c| dir.join(&c.path))
        .collect();
    if !edited.is_empty() && !force {
        return Err(OutputError::HandEdited(edited));
    }

    for change in changes {
        check_destination(dir, &change.path)?;
    }

    let mut report = WriteReport {
        unchanged: changes
            .iter()
            .filter(|c| c.action == Action::Unchanged)
            .count(),
        ..WriteReport::default()
    };
    let mut writes: Vec<&Change> = changes
        .iter()
        .filter(|c| matches!(c.action, Action::Create | Action::Update))
        .collect();
    // The manifest goes last: until it is in place, the previous one still describes a tree
    // whose files are either unchanged or already what this run writes.
    writes.sort_by_key(|c| c.path == manifest::FILE_NAME);
    let deletes: Vec<&Change> = changes
        .iter()
        .filter(|c| c.action == Action::Delete)
        .collect();
    if writes.is_empty() && deletes.is_empty() {
        return Ok(report);
    }

    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let staging = staging_dir(dir)?;
    let mut journal = String::new();
    for (index, change) in writes.iter().enumerate() {
        let staged = staging.path().join(index.to_string());
        let contents = change
            .new
            .as_deref()
            .expect("created and updated files have contents");
        write_synced(&staged, contents)?;
        journal.push_str(&format!("write\t{index}\t{}\n", change.path));
        test_hook_pause();
    }
    for change in &deletes {
        journal.push_str(&format!("delete\t-\t{}\n", change.path));
    }

    // The commit point: once the journal is in place, an interrupted run is finished by the
    // next one; before it, the tree has not been touched at all.
    let journal_temp = staging.path().join("journal.tmp");
    write_synced(&journal_temp, journal.as_bytes())?;
    let journal_path = staging.path().join(JOURNAL);
    fs::rename(&journal_temp, &journal_path).map_err(io_error(&journal_path))?;
    sync_dir(staging.path());

    let staging = staging.keep();
    let (written, deleted) = replay(dir, &staging)?;
    report.written = written;
    report.deleted = deleted;
    Ok(report)
}

const JOURNAL: &str = "journal";
const STAGING_INFIX: &str = ".fanin-staging-";

/// Staging happens beside `dir` (same filesystem, so renames are atomic), not inside it, so
/// that a run killed before its commit point leaves `dir` exactly as it was.
fn staging_dir(dir: &Path) -> Result<tempfile::TempDir, OutputError> {
    let (parent, name) = parent_and_name(dir)?;
    tempfile::Builder::new()
        .prefix(&format!(".{name}{STAGING_INFIX}"))
        .tempdir_in(&parent)
        .map_err(io_error(&parent))
}

fn parent_and_name(dir: &Path) -> Result<(PathBuf, String), OutputError> {
    let absolute = std::path::absolute(dir).map_err(io_error(dir))?;
    let name = absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| OutputError::Io {
            path: dir.to_path_buf(),
            source: io::Error::other("--out must name a directory below the filesystem root"),
        })?;
    let parent = absolute.parent().expect("has a file name").to_path_buf();
    Ok((parent, name))
}

/// Finishes a generate that was interrupted after its commit point, and removes staging
/// left by one interrupted before it. Returns how many interrupted runs were found.
pub fn recover(dir: &Path) -> Result<usize, OutputError> {
    usable_out(dir)?;
    let (parent, name) = parent_and_name(dir)?;
    let prefix = format!(".{name}{STAGING_INFIX}");
    let entries = match fs::read_dir(&parent) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_error(&parent)(e)),
    };
    let mut found = 0;
    for entry in entries {
        let entry = entry.map_err(io_error(&parent))?;
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let staging = entry.path();
        found += 1;
        if staging.join(JOURNAL).exists() {
            replay(dir, &staging)?;
        } else {
            fs::remove_dir_all(&staging).map_err(io_error(&staging))?;
        }
    }
    Ok(found)
}

/// Carries out a committed journal: renames staged files into place and deletes stale ones.
/// Safe to repeat: a staged file already moved is skipped.
fn replay(dir: &Path, staging: &Path) -> Result<(Vec<String>, Vec<String>), OutputError> {
    let journal_path = staging.join(JOURNAL);
    let journal = fs::read_to_string(&journal_path).map_err(io_error(&journal_path))?;
    let mut written = Vec::new();
    let mut deleted = Vec::new();
    for line in journal.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(op), Some(index), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        check_destination(dir, path)?;
        let destination = dir.join(path);
        match op {
            "write" => {
                let staged = staging.join(index);
                if !staged.exists() {
                    continue;
                }
                let parent = destination.parent().expect("inside dir");
                fs::create_dir_all(parent).map_err(io_error(parent))?;
                fs::rename(&staged, &destination).map_err(io_error(&destination))?;
                written.push(path.to_string());
            }
            "delete" => match fs::remove_file(&destination) {
                Ok(()) => {
                    deleted.push(path.to_string());
                    remove_empty_parents(dir, &destination);
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&destination)(e)),
            },
            _ => {}
        }
    }
    sync_dir(dir);
    fs::remove_dir_all(staging).map_err(io_error(staging))?;
    Ok((written, deleted))
}

fn write_synced(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(contents).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}

/// Makes renames in `dir` durable; best effort where a directory cannot be synced.
fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// For the interruption test only: `FANIN_TEST_STAGE_DELAY_MS` slows staging down so that a
/// test can kill generate before its commit point.
fn test_hook_pause() {
    if let Some(ms) = std::env::var_os("FANIN_TEST_STAGE_DELAY_MS")
        .and_then(|v| v.to_str().and_then(|v| v.parse::<u64>().ok()))
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// A generated path must be a plain relative path, and nothing on the way to it inside `dir`
/// (nor `dir` itself) may be a symbolic link: a link would let the write land outside `dir`.
fn check_destination(dir: &Path, relative: &str) -> Result<(), OutputError> {
    let plain = !relative.is_empty()
        && relative
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\\'));
    if !plain {
        return Err(OutputError::Unsafe {
            path: dir.join(relative),
            why: "not a plain relative path inside the output directory",
        });
    }
    let mut current = dir.to_path_buf();
    let check = |path: &Path| match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => Err(OutputError::Unsafe {
            path: path.to_path_buf(),
            why: "is a symbolic link; fanin writes only real files in real directories so that nothing lands outside --out",
        }),
        _ => Ok(()),
    };
    check(&current)?;
    for component in relative.split('/') {
        current.push(component);
        check(&current)?;
    }
    Ok(())
}

/// Removes directories left empty by a deletion, up to (not including) `dir`.
fn remove_empty_parents(dir: &Path, file: &Path) {
    let mut current = file.parent();
    while let Some(parent) = current {
        if parent == dir || !parent.starts_with(dir) || fs::remove_dir(parent).is_err() {
            break;
        }
        current = parent.parent();
    }
}

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
    files: &[GeneratedFile],
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
        for relative in present {
            if files.iter().any(|f| f.path == relative) {
                continue;
            }
            let path = dir.join(&relative);
            let contents = fs::read(&path).map_err(io_error(&path))?;
            if is_fanin_file(&contents) {
                found.push(Difference::Stale(relative));
            }
        }
    }
    found.sort_by(|a, b| path_of(a).cmp(path_of(b)));
    Ok(found)
}

fn path_of(d: &Difference) -> &str {
    match d {
        Difference::Missing(p)
        | Difference::Edited(p)
        | Difference::Outdated(p)
        | Difference::Stale(p) => p,
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

/// A unified diff of the changes, for `fanin diff`; `color` adds ANSI colours.
pub fn unified_diff(changes: &[Change], color: bool) -> String {
    let mut out = String::new();
    for change in changes {
        if change.action == Action::Unchanged {
            continue;
        }
        let old = String::from_utf8_lossy(change.old.as_deref().unwrap_or_default()).into_owned();
        let new = String::from_utf8_lossy(change.new.as_deref().unwrap_or_default()).into_owned();
        let old_name = match change.action {
            Action::Create => "/dev/null".to_string(),
            _ => format!("a/{}", change.path),
        };
        let new_name = match change.action {
            Action::Delete => "/dev/null".to_string(),
            _ => format!("b/{}", change.path),
        };
        let diff = similar::TextDiff::from_lines(&old, &new);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old_name, &new_name)
            .to_string();
        for line in text.lines() {
            let paint = if !color {
                None
            } else if line.starts_with("+++") || line.starts_with("---") {
                Some("\x1b[1m")
            } else if line.starts_with('+') {
                Some("\x1b[32m")
            } else if line.starts_with('-') {
                Some("\x1b[31m")
            } else if line.starts_with("@@") {
                Some("\x1b[36m")
            } else {
                None
            };
            match paint {
                Some(code) => out.push_str(&format!("{code}{line}\x1b[0m\n")),
                None => {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    out
}
