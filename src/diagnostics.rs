//! User-facing problems with an input file: where (file, field path, line, column), what is
//! wrong and what is allowed. Every stage that reads user input reports through this type so
//! that all problems of one run can be printed together.

use std::fmt;
use std::path::{Path, PathBuf};

/// A 1-based position in a source file, when the file format gives one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// One problem in an input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: PathBuf,
    /// Dotted field path such as `members.prod.account_id`; empty for the whole file.
    pub field: String,
    pub location: Option<Location>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(loc) = self.location {
            write!(f, ":{}:{}", loc.line, loc.column)?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems found in one input file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "error: {d}")?;
        }
        if self.0.len() > 1 {
            write!(f, "\n{} problems found", self.0.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Collects diagnostics for one file while a stage walks it.
#[derive(Debug)]
pub struct Collector {
    file: PathBuf,
    found: Vec<Diagnostic>,
}

impl Collector {
    pub fn new(file: &Path) -> Self {
        Collector {
            file: file.to_path_buf(),
            found: Vec::new(),
        }
    }

    pub fn report(&mut self, field: &str, location: Option<Location>, message: impl Into<String>) {
        self.found.push(Diagnostic {
            file: self.file.clone(),
            field: field.to_string(),
            location,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.found.is_empty()
    }

    /// Problems sorted by position so the output reads top to bottom like the file.
    pub fn finish(mut self) -> Result<(), Diagnostics> {
        if self.found.is_empty() {
            return Ok(());
        }
        self.found
            .sort_by(|a, b| (a.location, &a.field).cmp(&(b.location, &b.field)));
        self.found.dedup();
        Err(Diagnostics(self.found))
    }
}
