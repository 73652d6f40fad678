//! The inventory: the user's declarative list of accounts. This module reads a TOML, YAML or
//! JSON file, checks every field against the rules below and returns the inventory exactly as
//! written (no defaults applied, no names derived: that is the model's job). All problems of a
//! file are reported together, each with its field path and, where the format gives it, line
//! and column.

mod read;
mod tree;

use crate::diagnostics::{Collector, Diagnostics, Location};
use std::io::Read;
use std::path::Path;

pub use read::{MAX_KEY_LEN, is_valid_key};

/// Inventories are a few kilobytes; refusing large files keeps memory bounded when someone
/// points fanin at the wrong file.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The inventory versions this build understands.
pub const SUPPORTED_VERSION: i64 = 1;

/// A value with the position it was read from, so later checks can point at it too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub name_prefix: Option<Spanned<String>>,
    pub role_name: Option<Spanned<String>>,
    pub external_id: Option<Spanned<String>>,
    pub create_analyzer: Option<bool>,
    pub dead_letter_queues: Option<bool>,
    pub dead_letter_queue_encryption: Option<DeadLetterQueueEncryption>,
}

/// How dead-letter queues are encrypted at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterQueueEncryption {
    /// SQS-managed keys (SSE-SQS): no charge, no key policy.
    SseSqs,
    /// A customer-managed KMS key per account and region (SSE-KMS).
    SseKms,
}

/// How fanin's providers reach an account, when the inventory says so for that account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    RoleArn(Spanned<String>),
    Profile(Spanned<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hub {
    pub name: Option<Spanned<String>>,
    pub account_id: Spanned<String>,
    pub region: Spanned<String>,
    pub regions: Vec<Spanned<String>>,
    /// Extra regions being removed: their providers stay one more generation so the engine
    /// can destroy what is in them.
    pub retired_regions: Vec<Spanned<String>>,
    pub access: Option<Access>,
    pub intake_bus: Option<IntakeBus>,
    pub create_analyzer: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeBus {
    /// A bus of its own: members can put events there and nowhere else in the hub.
    Dedicated,
    /// The hub's default bus: members' events reach every rule on it.
    Default,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Notify {
    pub emails: Vec<Spanned<String>>,
    pub topic_name: Option<Spanned<String>>,
    pub encrypt_topic: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub key: Spanned<String>,
    pub account_id: Spanned<String>,
    /// Empty when the inventory does not list regions (the hub's home region is then used).
    pub regions: Vec<Spanned<String>>,
    /// Regions being removed (first phase of a removal).
    pub retired_regions: Vec<Spanned<String>>,
    pub status: Status,
    pub access: Option<Access>,
    pub create_analyzer: Option<bool>,
}

/// A member's lifecycle: a member is retired (its resources destroyed, its providers kept)
/// before it may leave the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Active,
    Retired,
}

/// A checked inventory, as written by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub settings: Settings,
    pub hub: Hub,
    pub notify: Notify,
    /// In file order.
    pub members: Vec<Member>,
    /// In file order.
    pub tags: Vec<(Spanned<String>, Spanned<String>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Yaml,
    Json,
}

impl Format {
    /// `key = value` as this format writes it, for messages.
    pub fn assignment(self, key: &str, value: &str) -> String {
        match self {
            Format::Toml => format!("{key} = {value}"),
            Format::Yaml => format!("{key}: {value}"),
            Format::Json => format!("\"{key}\": {value}"),
        }
    }

    /// The table at `path` (`["members", "<key>"]`) as this format writes it, for messages:
    /// `[members.<key>]`, `members: {<key>: {...}}`, `"members": {"<key>": {...}}`.
    pub fn table(self, path: &[&str]) -> String {
        let quoted = |key: &str| match self {
            Format::Json => format!("\"{key}\""),
            _ => key.to_string(),
        };
        match self {
            Format::Toml => format!("[{}]", path.join(".")),
            Format::Yaml | Format::Json => {
                let nested = path.iter().rev().fold("{...}".to_string(), |inner, key| {
                    format!("{{{}: {inner}}}", quoted(key))
                });
                // The outermost key is a top-level field: no braces of its own.
                nested[1..nested.len() - 1].to_string()
            }
        }
    }

    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "toml" => Some(Format::Toml),
            "yaml" | "yml" => Some(Format::Yaml),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// Reads and checks the inventory at `path`.
pub fn load(path: &Path) -> Result<Inventory, Diagnostics> {
    let mut diagnostics = Collector::new(path);
    let Some(format) = Format::from_path(path) else {
        diagnostics.report(
            "",
            None,
            "unknown inventory format: the file name must end in .toml, .yaml, .yml or .json",
        );
        return Err(diagnostics.finish().unwrap_err());
    };
    let text = match read_text(path) {
        Ok(text) => text,
        Err(message) => {
            diagnostics.report("", None, message);
            return Err(diagnostics.finish().unwrap_err());
        }
    };
    parse(&text, format, path)
}

/// Checks inventory text that did not come from a file of its own (tests, fuzzing); `path`
/// only names it in messages.
pub fn parse(text: &str, format: Format, path: &Path) -> Result<Inventory, Diagnostics> {
    let mut diagnostics = Collector::new(path);
    // A byte order mark is not content; editors on some systems add one.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parsed = match format {
        Format::Toml => tree::parse_toml(text),
        Format::Yaml => tree::parse_yaml(text),
        Format::Json => tree::parse_json(text),
    };
    match parsed {
        Ok(root) => {
            let inventory = read::inventory(&root, format, &mut diagnostics);
            diagnostics.finish()?;
            Ok(inventory.expect("an inventory without problems is complete"))
        }
        Err(err) => {
            let name = match format {
                Format::Toml => "TOML",
                Format::Yaml => "YAML",
                Format::Json => "JSON",
            };
            diagnostics.report(
                "",
                err.location,
                format!("not valid {name}: {}", err.message),
            );
            Err(diagnostics.finish().unwrap_err())
        }
    }
}

/// Reads at most `MAX_FILE_BYTES` (+1 to detect more) and insists on UTF-8 text.
fn read_text(path: &Path) -> Result<String, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the inventory: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the inventory: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "the inventory is larger than {} KiB; an inventory is a short text file",
            MAX_FILE_BYTES / 1024
        ));
    }
    if bytes.contains(&0) {
        return Err("the inventory is a binary file, not text".to_string());
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "the inventory is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}
