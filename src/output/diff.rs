//! The unified diff `fanin diff` prints.

use super::plan::{Action, Change};

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
