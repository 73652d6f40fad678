//! The inventory: the user's declarative list of accounts. This module reads a TOML, YAML or
//! JSON file, checks every field against the rules below and returns the inventory exactly as
//! written (no defaults applied, no names derived: that is the model's job). All problems of a
//! file are reported together, each with its field path and, where the format gives it, line
//! and column.

#[macro_use]
mod fields;
mod checks;
pub mod draft;
mod read;
mod rules;
mod schema;
mod tree;

use crate::diagnostics::{Collector, Diagnostics, Location};
use fields::{
    Choice, Choices, Count, Days, DistinctTextList, Flag, NamedTexts, Regions, RequiredText, Text,
    TextList,
};
use read::{Filter, FilterValues};
use std::io::Read;
use std::path::Path;

pub use checks::{
    FINDING_SOURCES, FINDING_STATUSES, LOG_RETENTION_DAYS, MAX_KEY_LEN, SEVERITIES,
    STACK_PLACEHOLDER, is_valid_key,
};
pub use fields::{FieldSpec, Kind, Section};
pub use schema::json_schema;

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

section! {
    /// `settings`: choices that apply to every account.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Settings at "settings", read as SettingsAsRead {
        /// The prefix of every name fanin gives a resource (default `fanin`).
        name_prefix: Option<Spanned<String>> = Text(checks::NAME_PREFIX),
        /// The role fanin's providers assume in every account without `role_arn` or `profile`.
        role_name: Option<Spanned<String>> = Text(checks::ROLE_NAME),
        /// The external id those providers pass when they assume a role.
        external_id: Option<Spanned<String>> = Text(checks::EXTERNAL_ID),
        /// Whether every account gets an account analyzer (default true).
        create_analyzer: Option<bool> = Flag,
        /// Whether every rule target gets a dead-letter queue (default true).
        dead_letter_queues: Option<bool> = Flag,
        /// How dead-letter queues are encrypted at rest (default `sse-sqs`).
        dead_letter_queue_encryption: Option<DeadLetterQueueEncryption> = Choice::of(),
        /// The hub's "Event bus policy size" quota in its home region, in characters
        /// (default 10,240, EventBridge's default): set it when AWS has raised yours.
        bus_policy_quota: Option<Spanned<u64>> = Count,
        /// `single` (one root, the default) or `stacks` (a root per account).
        layout: Option<Layout> = Choice::of(),
    }
}

/// How the generated tree is cut into roots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One root with a provider per account and region.
    Single,
    /// A root ("stack") for the hub and one for each member, planned on their own.
    Stacks,
}

impl Choices for Layout {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("single", Layout::Single), ("stacks", Layout::Stacks)];
    fn refusal(written: &str) -> String {
        format!(
            "{} is not a layout; allowed: \"single\" (one root for every account, the default) or \"stacks\" (a root for the hub and one for each member, each planned on its own)",
            crate::diagnostics::shown(written)
        )
    }
}

/// How dead-letter queues are encrypted at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadLetterQueueEncryption {
    /// SQS-managed keys (SSE-SQS): no charge, no key policy.
    SseSqs,
    /// A customer-managed KMS key per account and region (SSE-KMS).
    SseKms,
}

impl Choices for DeadLetterQueueEncryption {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("sse-sqs", DeadLetterQueueEncryption::SseSqs),
        ("sse-kms", DeadLetterQueueEncryption::SseKms),
    ];
    fn refusal(_: &str) -> String {
        "unknown encryption; allowed: \"sse-sqs\" (SQS-managed keys, the default: no charge) or \"sse-kms\" (a customer-managed KMS key in every account and region that has a queue: 1 USD a month each, up to 3 with rotations)".into()
    }
}

section! {
    /// `hub`: the account that receives every finding.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Hub at "hub", read as HubAsRead {
        /// The hub's key in provider aliases and module names (default `hub`).
        name: Option<Spanned<String>> = Text(checks::KEY),
        account_id: Spanned<String> = RequiredText(checks::ACCOUNT_ID),
        /// The home region: the intake bus and the topic live there.
        region: Spanned<String> = RequiredText(checks::REGION),
        /// The hub's other regions to forward findings from.
        regions: Vec<Spanned<String>> = Regions { when_empty: None },
        /// Extra regions being removed: their providers stay one more generation so the
        /// engine can destroy what is in them.
        retired_regions: Vec<Spanned<String>> = Regions { when_empty: None },
        /// The role the hub's providers assume (instead of `settings.role_name`).
        role_arn: Option<Spanned<String>> = Text(checks::ROLE_ARN),
        /// The AWS CLI profile the hub's providers use (instead of a role).
        profile: Option<Spanned<String>> = Text(checks::PROFILE),
        /// Which bus members put events on (default `dedicated`).
        intake_bus: Option<IntakeBus> = Choice::of(),
        /// Whether the hub gets account analyzers (default: `settings.create_analyzer`).
        create_analyzer: Option<bool> = Flag,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeBus {
    /// A bus of its own: members can put events there and nowhere else in the hub.
    Dedicated,
    /// The hub's default bus: members' events reach every rule on it.
    Default,
}

impl Choices for IntakeBus {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("dedicated", IntakeBus::Dedicated),
        ("default", IntakeBus::Default),
    ];
    fn refusal(_: &str) -> String {
        "unknown intake bus; allowed: \"dedicated\" (a bus of its own, the default) or \"default\" (the hub's default bus)".into()
    }
}

section! {
    /// `notify`: who hears of findings.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Notify at "notify", read as NotifyAsRead {
        /// Addresses subscribed to the findings topic, each once.
        emails: Vec<Spanned<String>> = TextList(checks::EMAIL),
        /// The findings topic's name (default `<name_prefix>-findings`).
        topic_name: Option<Spanned<String>> = Text(checks::TOPIC_NAME),
        /// Whether the topic is encrypted with a customer-managed key (default true).
        encrypt_topic: Option<bool> = Flag,
        /// Whether every finding's event also goes, as EventBridge delivers it, to an SQS
        /// queue in the hub, for a SIEM or another consumer that polls (default false).
        queue: Option<bool> = Flag,
        /// What the topic, and so every email, gets for a finding: `event` (the event as
        /// JSON, the default) or `text` (one line for people).
        format: Option<MessageFormat> = Choice::of(),
        /// Keep the events of the hub's buses with finding rules in EventBridge archives for
        /// this many days, to replay them (default: no archive).
        archive_days: Option<Spanned<u64>> = Count,
        /// Also write every finding's event to a CloudWatch Logs group in the hub, kept this
        /// many days (a period CloudWatch Logs offers; default: no log group).
        log_days: Option<Spanned<u64>> = Days(&checks::LOG_RETENTION_DAYS),
    }
}

/// What the findings topic gets for a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageFormat {
    /// The event as EventBridge delivers it (JSON), for tools subscribed to the topic.
    Event,
    /// One line for people.
    Text,
}

impl Choices for MessageFormat {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("event", MessageFormat::Event),
        ("text", MessageFormat::Text),
    ];
    fn refusal(written: &str) -> String {
        format!(
            "{} is not a message format; allowed: \"event\" (the finding's event as JSON, the default: for chat integrations and tools subscribed to the topic) or \"text\" (one line for people)",
            crate::diagnostics::shown(written)
        )
    }
}

section! {
    /// `findings`: which findings are forwarded to the hub and notified.
    #[derive(Debug, Clone, PartialEq, Eq, Default)]
    pub struct Findings at "findings", read as FindingsAsRead {
        /// Where the findings come from, each once (default: external-access only).
        sources: Vec<Spanned<String>> = DistinctTextList {
            rule: checks::FINDING_SOURCE,
            noun: "source",
            when_empty: "is empty: no finding would reach anyone; list at least one of \"external-access\", \"unused-access\", \"internal-access\", \"guardduty\" or \"security-hub\", or leave it out",
        },
        /// The Access Analyzer finding statuses forwarded, each once (default: ACTIVE,
        /// ARCHIVED and RESOLVED; without ARCHIVED when the inventory has archive rules).
        statuses: Vec<Spanned<String>> = DistinctTextList {
            rule: checks::FINDING_STATUS,
            noun: "status",
            when_empty: "is empty: no finding would reach anyone; list at least one of \"ACTIVE\", \"ARCHIVED\" or \"RESOLVED\", or leave it out",
        },
        /// The resource types of the Access Analyzer findings forwarded, each once (default:
        /// every type).
        resource_types: Vec<Spanned<String>> = DistinctTextList {
            rule: checks::RESOURCE_TYPE,
            noun: "resource type",
            when_empty: "is empty: no Access Analyzer finding would reach anyone; list resource types such as \"AWS::S3::Bucket\", or leave it out for every type",
        },
        /// The lowest severity of the GuardDuty and Security Hub findings forwarded (default:
        /// every finding).
        min_severity: Option<Spanned<String>> = Text(checks::SEVERITY),
        /// Events of your own choosing, by name: EventBridge event patterns as JSON text, each
        /// naming its sources (default: none).
        custom_patterns: Vec<(Spanned<String>, Spanned<String>)> = NamedTexts {
            key: checks::CUSTOM_PATTERN_NAME,
            value: checks::CUSTOM_PATTERN,
        },
    }
}

section! {
    /// `archive[]`: an archive rule on every analyzer fanin creates.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ArchiveRule at "archive[]", read as ArchiveRuleAsRead {
        /// The rule's name in each analyzer, unique in the inventory.
        name: Spanned<String> = RequiredText(checks::ARCHIVE_RULE_NAME),
        /// Finding properties and what they must match: a new finding matching every one
        /// is archived.
        filter: Vec<Criterion> = Filter,
    }
}

section! {
    /// `archive[].filter.<property>`: how one finding property matches; `property` is its
    /// name in `filter`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Criterion at "archive[].filter.<property>", read as CriterionAsRead, given property: Spanned<String> {
        /// The property equals one of these (1 to 20 values).
        eq: Vec<Spanned<String>> = FilterValues,
        /// The property equals none of these (1 to 20 values).
        neq: Vec<Spanned<String>> = FilterValues,
        /// The property contains one of these (1 to 20 values).
        contains: Vec<Spanned<String>> = FilterValues,
        /// The property is present (true) or absent (false).
        exists: Option<bool> = Flag,
    }
}

section! {
    /// `members.<key>`: one account whose findings go to the hub; `key` is its name in
    /// `members`.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Member at "members.<key>", read as MemberAsRead, given key: Spanned<String> {
        account_id: Spanned<String> = RequiredText(checks::ACCOUNT_ID),
        /// Regions to forward findings from; when absent, the hub's home region.
        regions: Vec<Spanned<String>> = Regions {
            when_empty: Some("is empty; list at least one region, or leave it out to use the hub's home region"),
        },
        /// Regions being removed (first phase of a removal).
        retired_regions: Vec<Spanned<String>> = Regions { when_empty: None },
        /// `active` (the default) or `retired`: destroy this account's resources, keep its
        /// providers until it leaves the inventory.
        status: Option<Status> = Choice::of(),
        /// The role this account's providers assume (instead of `settings.role_name`).
        role_arn: Option<Spanned<String>> = Text(checks::ROLE_ARN),
        /// The AWS CLI profile this account's providers use (instead of a role).
        profile: Option<Spanned<String>> = Text(checks::PROFILE),
        /// Whether this account gets account analyzers (default: `settings.create_analyzer`).
        create_analyzer: Option<bool> = Flag,
    }
}

/// A member's lifecycle: a member is retired (its resources destroyed, its providers kept)
/// before it may leave the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Retired,
}

impl Choices for Status {
    const CHOICES: &'static [(&'static str, Self)] =
        &[("active", Status::Active), ("retired", Status::Retired)];
    fn refusal(written: &str) -> String {
        format!(
            "{} is not a status; allowed: \"active\" (the default) or \"retired\" (destroy this account's resources, keep its providers until it leaves the inventory)",
            crate::diagnostics::shown(written)
        )
    }
}

section! {
    /// `backend`: where every root keeps its state, an S3 bucket (optional: without it the
    /// tree has no backend and a `backend.tf` of the user's own is left alone).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Backend at "backend", read as BackendAsRead {
        /// The state bucket.
        bucket: Spanned<String> = RequiredText(checks::BUCKET),
        /// The bucket's region.
        region: Spanned<String> = RequiredText(checks::REGION),
        /// The state key, with `{stack}` where each root's name goes (`hub`,
        /// `member-<account id>`, or `root` for the single layout).
        key: Spanned<String> = RequiredText(checks::STATE_KEY),
        /// Lock with a lock file beside the state (S3 conditional writes; default true).
        use_lockfile: Option<bool> = Flag,
        /// Lock with this DynamoDB table instead (or as well).
        dynamodb_table: Option<Spanned<String>> = Text(checks::DYNAMODB_TABLE),
        /// The role the engine assumes to reach the state bucket.
        role_arn: Option<Spanned<String>> = Text(checks::ROLE_ARN),
        /// The AWS CLI profile the engine uses to reach the state bucket.
        profile: Option<Spanned<String>> = Text(checks::PROFILE),
    }
}

/// A checked inventory, as written by the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub settings: Settings,
    pub hub: Hub,
    pub notify: Notify,
    pub findings: Findings,
    /// In file order.
    pub archive: Vec<ArchiveRule>,
    /// In file order.
    pub members: Vec<Member>,
    /// In file order.
    pub tags: Vec<(Spanned<String>, Spanned<String>)>,
    pub backend: Option<Backend>,
}

/// Every table of fields the inventory has: the top level, then each section.
pub fn sections() -> Vec<Section> {
    vec![
        read::top_level(),
        Settings::section(),
        Hub::section(),
        Notify::section(),
        Findings::section(),
        ArchiveRule::section(),
        Criterion::section(),
        Member::section(),
        Backend::section(),
    ]
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
