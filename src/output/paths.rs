//! Where fanin may write: inside `--out`, never through a symbolic link.

use super::OutputError;
use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Refuses an `--out` that no tree can be written to, or only through a symbolic link: a
/// file on the way (or `dir` itself), or a link anywhere on the path as written, which
/// would let writes land outside it. Links directly under the filesystem root are the
/// system's own layout (macOS's `/tmp` and `/var`, FreeBSD's `/home`) and are followed.
pub(super) fn usable_out(dir: &Path) -> Result<(), OutputError> {
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

/// Where the files of one run may go. A generated path must be a plain relative path, and
/// nothing on the way to it inside `dir` (nor `dir` itself) may be a symbolic link: a link
/// would let the write land outside `dir`. A directory already found to be a real one is
/// not looked at again, so checking a stack's five files costs about one lookup each, not
/// one per path component.
#[derive(Default)]
pub(super) struct Destinations {
    real_dirs: HashSet<PathBuf>,
}

impl Destinations {
    pub(super) fn check(&mut self, dir: &Path, relative: &str) -> Result<(), OutputError> {
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
        self.check_one(&current, true)?;
        let mut components = relative.split('/').peekable();
        while let Some(component) = components.next() {
            current.push(component);
            self.check_one(&current, components.peek().is_some())?;
        }
        Ok(())
    }

    /// Refuses a link at `path`; remembers it when it is a directory on the way (`on_the_way`)
    /// that exists: one that does not yet is looked at again once it has been created.
    fn check_one(&mut self, path: &Path, on_the_way: bool) -> Result<(), OutputError> {
        if on_the_way && self.real_dirs.contains(path) {
            return Ok(());
        }
        match fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => Err(OutputError::Unsafe {
                path: path.to_path_buf(),
                why: "is a symbolic link; fanin writes only real files in real directories so that nothing lands outside --out",
            }),
            Ok(meta) => {
                if on_the_way && meta.is_dir() {
                    self.real_dirs.insert(path.to_path_buf());
                }
                Ok(())
            }
            Err(_) => Ok(()),
        }
    }
}
