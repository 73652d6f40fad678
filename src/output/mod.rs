//! Writing the generated tree. fanin owns exactly the files its manifest lists: it replaces
//! them when they still hold what it wrote, deletes those it no longer produces, refuses to
//! touch a hand-edited one without `--force`, and never touches a file it did not write.
//! Changes are staged in temporary files beside their destinations and renamed into place
//! only when all were staged; the manifest is renamed last.
//!
//! The stages: `plan` compares the tree with what generate would write, `journal` carries
//! the changes out (and recovers an interrupted run), `check` reports differences, `diff`
//! prints them; `paths` keeps every write inside `--out`.

mod check;
mod diff;
mod journal;
mod paths;
mod plan;

pub use check::{Difference, differences};
pub use diff::unified_diff;
pub use journal::{WriteReport, apply, recover};
pub use plan::{Action, Change, plan};

use crate::manifest::{self, Manifest};
use std::fs;
use std::io;
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
    paths::usable_out(dir)?;
    let path = dir.join(manifest::FILE_NAME);
    match fs::read_to_string(&path) {
        Ok(text) => Manifest::parse(&text)
            .map(Some)
            .map_err(|message| OutputError::Manifest { path, message }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(&path)(e)),
    }
}
