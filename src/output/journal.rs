//! Carrying out a plan: every change staged beside `--out`, a journal written as the commit
//! point, then renames into place; a run interrupted after its commit point is finished by
//! the next one, one interrupted before it leaves the tree as it was.

use super::paths::{Destinations, usable_out};
use super::plan::{Action, Change};
use super::{OutputError, io_error};
use crate::manifest;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

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

    let mut destinations = Destinations::default();
    for change in changes {
        destinations.check(dir, &change.path)?;
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
    // Opened before anything is staged, so that the flush below reports a failed write-back
    // of any staged file.
    let flush = Flush::open(staging.path())?;
    let mut journal = String::new();
    for (index, change) in writes.iter().enumerate() {
        let staged = staging.path().join(index.to_string());
        let contents = change
            .new
            .as_deref()
            .expect("created and updated files have contents");
        flush.file(&staged, write_unsynced(&staged, contents)?)?;
        journal.push_str(&format!("write\t{index}\t{}\n", change.path));
        test_hook_pause();
    }
    // Every staged file and its name in the staging directory is durable before the journal
    // is written: see `Flush`.
    flush.all(staging.path())?;
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
    let mut destinations = Destinations::default();
    for line in journal.lines() {
        let mut fields = line.splitn(3, '\t');
        let (Some(op), Some(index), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        destinations.check(dir, path)?;
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
    // The renames and deletions are durable before the staging (and its journal) goes.
    flush_tree(dir, written.iter().chain(&deleted));
    fs::remove_dir_all(staging).map_err(io_error(staging))?;
    Ok((written, deleted))
}

fn write_synced(path: &Path, contents: &[u8]) -> Result<(), OutputError> {
    write_unsynced(path, contents)?
        .sync_all()
        .map_err(io_error(path))
}

fn write_unsynced(path: &Path, contents: &[u8]) -> Result<fs::File, OutputError> {
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(contents).map_err(io_error(path))?;
    Ok(file)
}

/// Makes every staged file durable, at once rather than one by one.
///
/// Crash safety needs one ordering only: every staged file (its bytes and its name in the
/// staging directory) is on disk before the journal, the commit point, can be. Syncing each
/// file as it was written gave that at the cost of one device flush per file (a stack per
/// member is about five files; 10,000 members took 45 s, nearly all of it waiting on
/// flushes). Now the files are all written first and flushed together, then the journal is
/// written and synced: the same ordering, one flush instead of thousands.
///
/// On Linux the flush is `syncfs` on the staging directory's filesystem: it returns once all
/// of that filesystem's dirty data and metadata, the staged files and the staging directory
/// among them, are written, and (Linux 5.8 and later) fails if a write-back failed since
/// `open` opened the directory. It also writes out whatever else is dirty on that
/// filesystem, so generate may wait for other programs' writes: seconds at worst, against
/// minutes of per-file flushes. Elsewhere each staged file is synced as it is written (as
/// before), and the staging directory once.
///
/// A run killed before the journal is in place still leaves the tree untouched (nothing was
/// renamed into it), and one killed after it is finished by the next run from files that
/// are known to be complete.
struct Flush {
    #[cfg(target_os = "linux")]
    staging: fs::File,
}

impl Flush {
    #[cfg(target_os = "linux")]
    fn open(staging: &Path) -> Result<Flush, OutputError> {
        let file = fs::File::open(staging).map_err(io_error(staging))?;
        Ok(Flush { staging: file })
    }

    /// Nothing to open: a directory cannot be opened everywhere (Windows).
    #[cfg(not(target_os = "linux"))]
    fn open(_staging: &Path) -> Result<Flush, OutputError> {
        Ok(Flush {})
    }

    /// One staged file, just written (and closed when this returns: 10,000 members stage
    /// more files than a process may hold open).
    #[cfg(target_os = "linux")]
    fn file(&self, _path: &Path, _file: fs::File) -> Result<(), OutputError> {
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    fn file(&self, path: &Path, file: fs::File) -> Result<(), OutputError> {
        file.sync_all().map_err(io_error(path))
    }

    /// Every staged file.
    #[cfg(target_os = "linux")]
    fn all(&self, staging: &Path) -> Result<(), OutputError> {
        rustix::fs::syncfs(&self.staging).map_err(|e| io_error(staging)(e.into()))
    }

    /// The files are synced; their names in the staging directory, where it can be.
    #[cfg(not(target_os = "linux"))]
    fn all(&self, staging: &Path) -> Result<(), OutputError> {
        sync_dir(staging);
        Ok(())
    }
}

/// Makes the renames and deletions of a replay durable (best effort, as a directory cannot
/// be synced everywhere): `syncfs` on Linux, elsewhere each directory they touched, once.
#[cfg(target_os = "linux")]
fn flush_tree<'a>(dir: &Path, _changed: impl Iterator<Item = &'a String>) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = rustix::fs::syncfs(&d);
    }
}

#[cfg(not(target_os = "linux"))]
fn flush_tree<'a>(dir: &Path, changed: impl Iterator<Item = &'a String>) {
    let mut parents = std::collections::BTreeSet::new();
    for path in changed {
        let mut current = dir.join(path);
        // Every directory on the way, as a deletion may have removed the one below.
        while current.pop() && current.starts_with(dir) {
            if !parents.insert(current.clone()) {
                break;
            }
        }
    }
    parents.insert(dir.to_path_buf());
    for parent in parents {
        sync_dir(&parent);
    }
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
