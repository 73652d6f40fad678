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

    /// Problems sorted by position so the output reads top to bottom like the file, with
    /// each long list of what is allowed shown once.
    pub fn finish(mut self) -> Result<(), Diagnostics> {
        if self.found.is_empty() {
            return Ok(());
        }
        self.found
            .sort_by(|a, b| (a.location, &a.field).cmp(&(b.location, &b.field)));
        self.found.dedup();
        list_long_allowances_once(&mut self.found);
        Err(Diagnostics(self.found))
    }
}

/// Where messages say what is allowed: `...; allowed: <list>`.
const ALLOWED: &str = "; allowed: ";

/// A list of what is allowed longer than this (the 38 regions) is printed with the first
/// problem that has it; later ones point there instead of repeating it.
const LONG_LIST: usize = 200;

fn list_long_allowances_once(found: &mut [Diagnostic]) {
    let mut first_with: Vec<(String, String)> = Vec::new();
    for d in found {
        let Some(at) = d.message.find(ALLOWED) else {
            continue;
        };
        let list = &d.message[at + ALLOWED.len()..];
        if list.len() <= LONG_LIST {
            continue;
        }
        match first_with.iter().find(|(seen, _)| seen == list) {
            Some((_, field)) => {
                let pointer = format!("{ALLOWED}as listed for {field} above");
                d.message.replace_range(at.., &pointer);
            }
            None => first_with.push((list.to_string(), d.field.clone())),
        }
    }
}

/// Shows a user value inside a message without letting control characters through.
pub fn shown(value: &str) -> String {
    let mut s = format!("{value:?}");
    if s.chars().count() > 80 {
        s = s.chars().take(77).collect::<String>() + "...";
    }
    s
}

/// A key inside a message: between backticks as written, or escaped as `shown` does when it
/// holds characters a terminal would act on or hide (escape sequences, newlines, bidi
/// overrides).
pub fn named(key: &str) -> String {
    if key
        .chars()
        .all(|c| matches!(c, '"' | '\'' | '\\') || c.escape_debug().len() == 1)
    {
        format!("`{key}`")
    } else {
        shown(key)
    }
}

/// ` (did you mean `x`?)` when `written` is a near miss of one or more `candidates`: at most
/// two edits away (one for names of up to four characters), a transposition counting as one.
/// Only the nearest are named, at most three; empty when none is near.
pub fn did_you_mean<'a>(written: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let limit = if written.chars().count() <= 4 { 1 } else { 2 };
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::osa_distance(written, c), c))
        .filter(|(distance, _)| *distance <= limit)
        .collect();
    let Some(best) = near.iter().map(|(distance, _)| *distance).min() else {
        return String::new();
    };
    near.retain(|(distance, _)| *distance == best);
    near.sort();
    let names: Vec<String> = near.iter().take(3).map(|(_, c)| format!("`{c}`")).collect();
    match names.as_slice() {
        [one] => format!(" (did you mean {one}?)"),
        [rest @ .., last] => format!(" (did you mean {} or {last}?)", rest.join(", ")),
        [] => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::did_you_mean;

    #[test]
    fn names_the_nearest_candidates_only() {
        let fields = ["account_id", "regions", "retired_regions", "status"];
        assert_eq!(did_you_mean("region", fields), " (did you mean `regions`?)");
        assert_eq!(
            did_you_mean("acount_id", fields),
            " (did you mean `account_id`?)"
        );
        assert_eq!(did_you_mean("colour", fields), "");
        assert_eq!(
            did_you_mean("us-east-3", ["us-east-1", "us-east-2", "us-west-1"]),
            " (did you mean `us-east-1` or `us-east-2`?)"
        );
    }

    #[test]
    fn short_names_allow_one_edit() {
        assert_eq!(did_you_mean("tgs", ["tags"]), " (did you mean `tags`?)");
        assert_eq!(did_you_mean("ab", ["tags"]), "");
    }
}
