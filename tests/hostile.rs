//! Hostile input (issue 4, item 5, and item 6's oversized and binary inventories): property
//! tests over inventories written as TOML, YAML and JSON.
//!
//! - Every accepted inventory is valid against `fanin schema` and renders `.tf` files that
//!   hcl-rs parses, in which every string from the inventory is a plain string literal equal
//!   to what the user wrote (never a template), `${` and `%{` only ever appear escaped,
//!   account keys are identifiers, and the three formats of one inventory render the same
//!   bytes.
//! - Every rejected inventory (a valid one with one to three breakages of known field paths)
//!   is refused with diagnostics that name the file and the broken field; through the binary,
//!   `fanin generate` exits 2 and writes nothing.
//! - A sample of accepted trees, the most hostile included, is fmt-canonical and valid on the
//!   engine (`FANIN_ENGINE`; fails under CI without one, see `common::engine`).
//! - Oversized, endless, binary, non-UTF-8 and pathological files (deep nesting, alias bombs,
//!   100 000 keys) get a clear error quickly and write nothing.
//!
//! `PROPTEST_CASES` scales the library-level properties (256 cases each by default);
//! failures are kept in `tests/hostile.proptest-regressions`.

mod common;

use common::{engine, fanin};
use fanin::generated::GeneratedFile;
use fanin::inventory::{self, Format};
use hcl::{BlockLabel, Body, Expression, ObjectKey, Structure, TraversalOperator};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngSeed, TestRunner};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use toml::{Table, Value};

// ---------------------------------------------------------------------------------------------
// The inventory as the tests build it

#[derive(Debug, Clone, PartialEq)]
enum Access {
    RoleArn(String),
    Profile(String),
}

#[derive(Debug, Clone)]
struct Member {
    key: String,
    account_id: String,
    /// `None`: not written (the hub's home region is used).
    regions: Option<Vec<String>>,
    retired_regions: Vec<String>,
    access: Option<Access>,
    create_analyzer: Option<bool>,
    /// `None`: not written; `Some("active" | "retired")`.
    status: Option<&'static str>,
}

#[derive(Debug, Clone)]
struct Hub {
    name: Option<String>,
    account_id: String,
    region: String,
    /// `None`: not written; `Some(vec![])`: written as an empty list.
    regions: Option<Vec<String>>,
    retired_regions: Vec<String>,
    access: Option<Access>,
    intake_bus: Option<&'static str>,
    create_analyzer: Option<bool>,
}

/// A valid inventory: every value within the rules, however hostile its text.
#[derive(Debug, Clone)]
struct Spec {
    partition: &'static str,
    name_prefix: Option<String>,
    role_name: Option<String>,
    external_id: Option<String>,
    create_analyzer: Option<bool>,
    hub: Hub,
    emails: Vec<String>,
    topic_name: Option<String>,
    members: Vec<Member>,
    tags: Vec<(String, String)>,
}

impl Spec {
    fn hub_name(&self) -> &str {
        self.hub.name.as_deref().unwrap_or("hub")
    }

    fn name_prefix(&self) -> &str {
        self.name_prefix.as_deref().unwrap_or("fanin")
    }

    fn topic_name(&self) -> String {
        self.topic_name
            .clone()
            .unwrap_or_else(|| format!("{}-findings", self.name_prefix()))
    }

    /// Every string the inventory injects into the generated code.
    fn injected(&self) -> Vec<String> {
        let mut all = vec![self.topic_name()];
        // The external id goes with every assumed role, and only there.
        let assumes = self
            .expected_providers()
            .values()
            .any(|(_, _, r)| matches!(r, Rendered::Assume(..)));
        if assumes {
            all.extend(self.external_id.clone());
        }
        all.extend(self.emails.iter().cloned());
        for (k, v) in &self.tags {
            all.push(k.clone());
            all.push(v.clone());
        }
        let accesses =
            std::iter::once(&self.hub.access).chain(self.members.iter().map(|m| &m.access));
        for access in accesses.flatten() {
            match access {
                Access::RoleArn(s) | Access::Profile(s) => all.push(s.clone()),
            }
        }
        all
    }

    /// How "hostile" the inventory's text is, to pick the engine sample.
    fn hostility(&self) -> usize {
        self.injected()
            .iter()
            .map(|s| {
                s.chars()
                    .filter(|c| !c.is_ascii_alphanumeric() && *c != '-' && *c != '_')
                    .count()
                    + s.len() / 64
            })
            .sum()
    }

    fn document(&self) -> Table {
        let mut doc = Table::new();
        doc.insert("version".into(), Value::Integer(1));

        let mut settings = Table::new();
        put(&mut settings, "name_prefix", &self.name_prefix);
        put(&mut settings, "role_name", &self.role_name);
        put(&mut settings, "external_id", &self.external_id);
        if let Some(b) = self.create_analyzer {
            settings.insert("create_analyzer".into(), Value::Boolean(b));
        }
        if !settings.is_empty() {
            doc.insert("settings".into(), Value::Table(settings));
        }

        let mut hub = Table::new();
        put(&mut hub, "name", &self.hub.name);
        hub.insert("account_id".into(), s(&self.hub.account_id));
        hub.insert("region".into(), s(&self.hub.region));
        if let Some(regions) = &self.hub.regions {
            hub.insert("regions".into(), strings(regions));
        }
        if !self.hub.retired_regions.is_empty() {
            hub.insert("retired_regions".into(), strings(&self.hub.retired_regions));
        }
        put_access(&mut hub, &self.hub.access);
        if let Some(bus) = self.hub.intake_bus {
            hub.insert("intake_bus".into(), s(bus));
        }
        if let Some(b) = self.hub.create_analyzer {
            hub.insert("create_analyzer".into(), Value::Boolean(b));
        }
        doc.insert("hub".into(), Value::Table(hub));

        let mut notify = Table::new();
        if !self.emails.is_empty() {
            notify.insert("emails".into(), strings(&self.emails));
        }
        put(&mut notify, "topic_name", &self.topic_name);
        if !notify.is_empty() {
            doc.insert("notify".into(), Value::Table(notify));
        }

        let mut members = Table::new();
        for m in &self.members {
            let mut t = Table::new();
            t.insert("account_id".into(), s(&m.account_id));
            if let Some(regions) = &m.regions {
                t.insert("regions".into(), strings(regions));
            }
            if !m.retired_regions.is_empty() {
                t.insert("retired_regions".into(), strings(&m.retired_regions));
            }
            put_access(&mut t, &m.access);
            if let Some(b) = m.create_analyzer {
                t.insert("create_analyzer".into(), Value::Boolean(b));
            }
            if let Some(status) = m.status {
                t.insert("status".into(), s(status));
            }
            members.insert(m.key.clone(), Value::Table(t));
        }
        doc.insert("members".into(), Value::Table(members));

        if !self.tags.is_empty() {
            let tags = self.tags.iter().map(|(k, v)| (k.clone(), s(v))).collect();
            doc.insert("tags".into(), Value::Table(tags));
        }
        doc
    }

    /// Provider alias -> (account id, region, access as rendered), as the README promises.
    fn expected_providers(&self) -> BTreeMap<String, (String, String, Rendered)> {
        let mut out = BTreeMap::new();
        let mut add = |key: &str, id: &str, regions: Vec<String>, access: &Option<Access>| {
            for region in regions {
                let rendered = match access {
                    Some(Access::RoleArn(arn)) => {
                        Rendered::Assume(arn.clone(), self.external_id.clone())
                    }
                    Some(Access::Profile(p)) => Rendered::Profile(p.clone()),
                    None => match &self.role_name {
                        Some(role) => Rendered::Assume(
                            format!("arn:{}:iam::{id}:role/{role}", self.partition),
                            self.external_id.clone(),
                        ),
                        None => Rendered::Ambient,
                    },
                };
                out.insert(alias(key, &region), (id.to_string(), region, rendered));
            }
        };
        let mut hub_regions = vec![self.hub.region.clone()];
        hub_regions.extend(self.hub.regions.clone().unwrap_or_default());
        hub_regions.extend(self.hub.retired_regions.clone());
        add(
            self.hub_name(),
            &self.hub.account_id,
            hub_regions,
            &self.hub.access,
        );
        for m in &self.members {
            let mut regions = m
                .regions
                .clone()
                .unwrap_or_else(|| vec![self.hub.region.clone()]);
            regions.extend(m.retired_regions.clone());
            add(&m.key, &m.account_id, regions, &m.access);
        }
        out
    }

    /// Module names of the spokes: active regions of active members and the hub's extra regions.
    fn expected_spokes(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for r in self.hub.regions.iter().flatten() {
            out.insert(format!("spoke_{}", alias(self.hub_name(), r)));
        }
        for m in self.members.iter().filter(|m| m.status != Some("retired")) {
            let regions = m
                .regions
                .clone()
                .unwrap_or_else(|| vec![self.hub.region.clone()]);
            for r in regions {
                out.insert(format!("spoke_{}", alias(&m.key, &r)));
            }
        }
        out
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Rendered {
    Assume(String, Option<String>),
    Profile(String),
    Ambient,
}

fn alias(key: &str, region: &str) -> String {
    format!("{key}_{}", region.replace('-', "_"))
}

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

fn strings(list: &[String]) -> Value {
    Value::Array(list.iter().map(|v| s(v)).collect())
}

fn put(t: &mut Table, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        t.insert(key.into(), s(v));
    }
}

fn put_access(t: &mut Table, access: &Option<Access>) {
    match access {
        Some(Access::RoleArn(arn)) => {
            t.insert("role_arn".into(), s(arn));
        }
        Some(Access::Profile(p)) => {
            t.insert("profile".into(), s(p));
        }
        None => {}
    }
}

const FORMATS: [(Format, &str); 3] = [
    (Format::Toml, "toml"),
    (Format::Yaml, "yaml"),
    (Format::Json, "json"),
];

/// The document as inventory text in one format.
fn text(doc: &Table, format: Format) -> String {
    match format {
        Format::Toml => toml::to_string(doc).expect("TOML serializes"),
        Format::Yaml => serde_saphyr::to_string(doc).expect("YAML serializes"),
        Format::Json => serde_json::to_string_pretty(doc).expect("JSON serializes"),
    }
}

fn inventory_path(extension: &str) -> PathBuf {
    PathBuf::from(format!("hostile/fanin.{extension}"))
}

// ---------------------------------------------------------------------------------------------
// Strategies: valid values with hostile text

/// Pieces of text that mean something to HCL, YAML, TOML, JSON or a terminal.
const HOSTILE_ASCII: &[&str] = &[
    "${",
    "%{",
    "$${",
    "%%{",
    "$$${",
    "}",
    "{",
    "$",
    "%",
    "\"",
    "\\",
    "\\\"",
    "\\n",
    "\\u0041",
    "${var.x}",
    "%{ if true }x%{ endif }",
    "${file(\"/etc/passwd\")}",
    "\" = \"x",
    "#",
    "//",
    "/*",
    "*/",
    "<<EOF",
    "'",
    "`",
    "~",
    "=",
    ":",
    "@",
    "!",
    "&",
    "*",
    "|",
    ">",
    "?",
    "[",
    "]",
    ",",
    "- ",
    "---",
    "...",
    "null",
    "true",
    "yes",
    "~",
    " ",
];

/// Alphanumerics outside ASCII that HCL's NFC normalization leaves alone, in 2, 3 and 4 bytes.
/// (Text that is not NFC, or that holds combining marks, is what the `#[ignore]`d test
/// `tag_text_survives_the_engine_unchanged` is about.)
const UNICODE_TAG_CHARS: &[char] = &[
    'é', 'ß', 'Ω', 'ж', 'Ж', 'ı', 'İ', 'µ', 'ª', 'ǅ', 'א', 'ש', 'ب', 'ع', '٣', '日', '本', '語',
    '가', 'Ⅻ', '²', 'ﬁ', '𝔘', '𐍈', '𝟙',
];

fn hostile_ascii(max: usize) -> BoxedStrategy<String> {
    let piece = prop_oneof![
        3 => select(HOSTILE_ASCII).prop_map(str::to_string),
        2 => "[ -~]{1,6}",
    ];
    prop_oneof![
        4 => prop::collection::vec(piece, 1..8).prop_map(|p| p.concat()),
        1 => prop::collection::vec(select(HOSTILE_ASCII), 40..80).prop_map(|p| p.concat()),
    ]
    .prop_map(move |mut v| {
        v.truncate(max);
        v
    })
    .boxed()
}

fn profile() -> BoxedStrategy<String> {
    prop_oneof![
        hostile_ascii(128),
        "[ -~]{120,128}",
        Just("${".repeat(64)),
        Just("%{ for x in y }".into()),
    ]
    .prop_map(|mut p| {
        if p.trim().is_empty() {
            p.truncate(127);
            p.push('x');
        }
        p
    })
    .boxed()
}

fn tag_char() -> BoxedStrategy<char> {
    prop_oneof![
        6 => prop::char::ranges(vec!['a'..='z', 'A'..='Z', '0'..='9'].into()),
        3 => select(vec![' ', '_', '.', ':', '/', '=', '+', '-', '@']),
        3 => select(UNICODE_TAG_CHARS),
    ]
    .boxed()
}

/// Words that mean something in HCL, YAML or JSON (and are valid tag text).
const TAG_WORDS: &[&str] = &[
    "for",
    "in",
    "if",
    "else",
    "endif",
    "endfor",
    "null",
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "1e3",
    "0x10",
    "0o7",
    "-1",
    "+1",
    ".inf",
    "123456789012",
    "@x",
    ":x",
    "a: b",
    "- x",
    "=",
    "/",
    "-",
    "_",
    " ",
    "a.b",
    "2001-01-01",
    "module",
    "var",
    "each",
    "count",
];

fn tag_key() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(TAG_WORDS).prop_map(str::to_string),
        6 => prop::collection::vec(tag_char(), 1..12).prop_map(String::from_iter),
        1 => prop::collection::vec(tag_char(), 120..=128).prop_map(String::from_iter),
    ]
    .prop_map(|k| {
        if k.to_ascii_lowercase().starts_with("aws:") {
            format!("x{}", k.chars().take(127).collect::<String>())
        } else {
            k
        }
    })
    .boxed()
}

fn tag_value() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(TAG_WORDS).prop_map(str::to_string),
        1 => Just(String::new()),
        6 => prop::collection::vec(tag_char(), 1..16).prop_map(String::from_iter),
        1 => prop::collection::vec(tag_char(), 250..=256).prop_map(String::from_iter),
    ]
    .boxed()
}

fn email() -> BoxedStrategy<String> {
    let atom = prop_oneof![
        3 => "[A-Za-z0-9]{1,6}",
        3 => select(vec!["${x}", "%{y}", "$${", "%%{", "${", "%{", "}", "$", "%", "{"]).prop_map(str::to_string),
        2 => "[!#$%&'*+/=?^_`{|}~-]{1,4}",
    ];
    let local = prop::collection::vec(atom, 1..6).prop_flat_map(|atoms| {
        prop::collection::vec(any::<bool>(), atoms.len()).prop_map(move |dots| {
            let mut local = String::new();
            for (i, a) in atoms.iter().enumerate() {
                if i > 0 && dots[i] {
                    local.push('.');
                }
                local.push_str(a);
            }
            local
                .chars()
                .take(64)
                .collect::<String>()
                .trim_end_matches('.')
                .to_string()
        })
    });
    let domain =
        "[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?(\\.[a-z0-9]{1,10}){0,2}\\.[a-zA-Z]{2,6}";
    (local, domain)
        .prop_map(|(l, d)| format!("{l}@{d}"))
        .boxed()
}

const KEY_WORDS: &[&str] = &[
    "for",
    "in",
    "if",
    "null",
    "true",
    "false",
    "module",
    "provider",
    "resource",
    "data",
    "terraform",
    "each",
    "count",
    "self",
    "var",
    "local",
    "aws",
    "output",
    "moved",
    "spoke",
];

fn account_key() -> BoxedStrategy<String> {
    prop_oneof![
        2 => select(KEY_WORDS).prop_map(str::to_string),
        6 => "[a-z][a-z0-9_-]{0,11}",
        1 => "[a-z][a-z0-9_-]{39}",
    ]
    .boxed()
}

/// An IAM name (role names, path segments): 1 to `max` of letters, digits and `+=,.@_-`.
fn iam_name(max: usize) -> BoxedStrategy<String> {
    proptest::string::string_regex(&format!("[A-Za-z0-9+=,.@_-]{{1,{max}}}"))
        .unwrap()
        .boxed()
}

fn role_arn(partition: &'static str, account_id: String) -> BoxedStrategy<String> {
    (prop::collection::vec(iam_name(12), 0..3), iam_name(64))
        .prop_map(move |(path, name)| {
            let mut p = path.join("/");
            if !p.is_empty() {
                p.push('/');
            }
            format!("arn:{partition}:iam::{account_id}:role/{p}{name}")
        })
        .boxed()
}

fn access(partition: &'static str, account_id: String) -> BoxedStrategy<Option<Access>> {
    prop_oneof![
        3 => Just(None),
        1 => role_arn(partition, account_id).prop_map(|a| Some(Access::RoleArn(a))),
        2 => profile().prop_map(|p| Some(Access::Profile(p))),
    ]
    .boxed()
}

fn partition_regions(partition: &str) -> Vec<String> {
    fanin::regions::names_in(partition)
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Regions of `pool` (shuffled), and retired regions from what is left of it.
fn regions_and_retired(
    pool: Vec<String>,
    size: std::ops::RangeInclusive<usize>,
) -> BoxedStrategy<(Vec<String>, Vec<String>)> {
    let max = pool.len();
    let size = *size.start().min(&max)..=*size.end().min(&max);
    subsequence(pool.clone(), size)
        .prop_shuffle()
        .prop_flat_map(move |regions| {
            let left: Vec<String> = pool
                .iter()
                .filter(|r| !regions.contains(r))
                .cloned()
                .collect();
            let n = left.len().min(1);
            (Just(regions), subsequence(left, 0..=n))
        })
        .boxed()
}

fn member(partition: &'static str, home: String) -> BoxedStrategy<Member> {
    let pool = partition_regions(partition);
    let without_home: Vec<String> = pool.iter().filter(|r| **r != home).cloned().collect();
    (
        account_key(),
        "[0-9]{12}",
        prop_oneof![
            1 => regions_and_retired(without_home, 0..=0).prop_map(|(_, retired)| (None, retired)),
            2 => regions_and_retired(pool, 1..=3).prop_map(|(r, retired)| (Some(r), retired)),
        ],
        any::<Option<bool>>(),
        select(vec![None, Some("active"), Some("retired")]),
    )
        .prop_flat_map(move |(key, id, (regions, retired), analyzer, status)| {
            access(partition, id.clone()).prop_map(move |access| Member {
                key: key.clone(),
                account_id: id.clone(),
                regions: regions.clone(),
                retired_regions: retired.clone(),
                access,
                create_analyzer: analyzer,
                status,
            })
        })
        .boxed()
}

fn hub(partition: &'static str, home: String) -> BoxedStrategy<Hub> {
    let others: Vec<String> = partition_regions(partition)
        .into_iter()
        .filter(|r| *r != home)
        .collect();
    (
        prop::option::of(account_key()),
        "[0-9]{12}",
        regions_and_retired(others, 0..=2),
        any::<bool>(),
        select(vec![None, Some("dedicated"), Some("default")]),
        any::<Option<bool>>(),
    )
        .prop_flat_map(
            move |(name, id, (regions, retired), write_empty, bus, analyzer)| {
                let home = home.clone();
                access(partition, id.clone()).prop_map(move |access| Hub {
                    name: name.clone(),
                    account_id: id.clone(),
                    region: home.clone(),
                    regions: (!regions.is_empty() || write_empty).then(|| regions.clone()),
                    retired_regions: retired.clone(),
                    access,
                    intake_bus: bus,
                    create_analyzer: analyzer,
                })
            },
        )
        .boxed()
}

/// A valid inventory with hostile (but allowed) text everywhere text is allowed.
fn spec() -> BoxedStrategy<Spec> {
    prop_oneof![
        8 => Just("aws"),
        1 => Just("aws-cn"),
        1 => Just("aws-us-gov"),
    ]
    .prop_flat_map(|partition| (Just(partition), select(partition_regions(partition))))
    .prop_flat_map(|(partition, home)| {
        let settings = (
            prop::option::of("[a-z0-9-]{1,20}"),
            prop::option::of(iam_name(64)),
            prop::option::of(prop_oneof![
                4 => "[A-Za-z0-9+=,.@:/_-]{2,40}",
                1 => "[A-Za-z0-9+=,.@:/_-]{1224}",
            ]),
            any::<Option<bool>>(),
        );
        let notify = (
            prop::collection::vec(email(), 0..4),
            prop::option::of(prop_oneof![
                4 => "[A-Za-z0-9_-]{1,40}",
                1 => "[A-Za-z0-9_-]{256}",
            ]),
        );
        (
            settings,
            hub(partition, home.clone()),
            prop::collection::vec(member(partition, home), 1..5),
            notify,
            prop::collection::vec((tag_key(), tag_value()), 0..6),
        )
            .prop_map(
                move |((prefix, role, external, analyzer), hub, members, (emails, topic), tags)| {
                    let mut spec = Spec {
                        partition,
                        name_prefix: prefix,
                        role_name: role,
                        external_id: external,
                        create_analyzer: analyzer,
                        hub,
                        emails,
                        topic_name: topic,
                        members,
                        tags,
                    };
                    make_unique(&mut spec);
                    spec
                },
            )
    })
    .boxed()
}

/// Keys, account ids, emails and tag keys each once (what the rules require).
fn make_unique(spec: &mut Spec) {
    let hub_name = spec.hub_name().to_string();
    let mut keys = BTreeSet::from([hub_name]);
    let mut ids = BTreeSet::from([spec.hub.account_id.clone()]);
    for (i, m) in spec.members.iter_mut().enumerate() {
        let mut n = 0;
        while keys.contains(&m.key) {
            m.key = format!("m{i}x{n}");
            n += 1;
        }
        keys.insert(m.key.clone());
        while ids.contains(&m.account_id) {
            let next = m.account_id.parse::<u64>().unwrap() + 1;
            m.account_id = format!("{:012}", next % 1_000_000_000_000);
        }
        ids.insert(m.account_id.clone());
        if let Some(Access::RoleArn(arn)) = &mut m.access {
            // The ARN was drawn with the id before it was made unique.
            let (head, tail) = arn.split_once(":role/").unwrap();
            let head = &head[..head.len() - 12];
            *arn = format!("{head}{}:role/{tail}", m.account_id);
        }
    }
    let mut seen = BTreeSet::new();
    spec.emails.retain(|e| seen.insert(e.to_ascii_lowercase()));
    let mut seen = BTreeSet::new();
    spec.tags.retain(|(k, _)| seen.insert(k.clone()));
}

// ---------------------------------------------------------------------------------------------
// Breakages: one rule broken, with the field the diagnostics must name

#[derive(Debug, Clone, Copy)]
enum Target {
    Hub,
    Member(usize),
}

#[derive(Debug, Clone)]
enum Breakage {
    MemberKey(String),
    HubName(String),
    AccountId(Target, Value),
    DuplicateAccount(usize),
    MemberIsHub(usize),
    HubRegion(String),
    Region(Target, String),
    DuplicateRegion(Target),
    HomeInHubRegions,
    CrossPartition(Target),
    EmptyRegions(usize),
    RetiredAndActive(usize),
    TagKey(String),
    TagValue(String),
    TagType(Value),
    Email(String),
    DuplicateEmail,
    Setting(&'static str, String),
    TopicName(String),
    Profile(Target, String),
    RoleArn(Target, String),
    RoleArnOtherAccount(Target),
    RoleArnOtherPartition(Target),
    BothAccess(Target),
    UnknownField(usize, String),
    Version(Option<Value>),
    WrongType(usize, Value),
    Status(usize, String),
    IntakeBus(String),
    NoMembers,
    /// A bus policy quota too small for one member's policy (with one active member added).
    QuotaBelowOneMember(i64),
}

/// A TOML-ish field path as the diagnostics print it (mirrors the README's examples).
fn path_key(key: &str) -> String {
    if !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// The table `key` of `doc`, created when missing; `None` when an earlier breakage made it
/// something else.
fn table<'a>(doc: &'a mut Table, key: &str) -> Option<&'a mut Table> {
    match doc
        .entry(key.to_string())
        .or_insert_with(|| Value::Table(Table::new()))
    {
        Value::Table(t) => Some(t),
        _ => None,
    }
}

fn member_keys(doc: &Table) -> Vec<String> {
    match &doc["members"] {
        Value::Table(t) => t.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// The table of the target and its field path prefix; `None` when members were replaced.
fn target(doc: &mut Table, t: Target) -> Option<(&mut Table, String)> {
    match t {
        Target::Hub => Some((table(doc, "hub")?, "hub".to_string())),
        Target::Member(i) => {
            let keys = member_keys(doc);
            if keys.is_empty() {
                return None;
            }
            let key = keys[i % keys.len()].clone();
            let path = format!("members.{}", path_key(&key));
            match table(doc, "members")?.get_mut(&key) {
                Some(Value::Table(t)) => Some((t, path)),
                _ => None,
            }
        }
    }
}

/// Appends to the list `key` of `t` (created when missing) and returns the new index;
/// `None` when an earlier breakage made it something else.
fn push(t: &mut Table, key: &str, item: String) -> Option<usize> {
    let list = t
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = list else {
        return None;
    };
    items.push(Value::String(item));
    Some(items.len() - 1)
}

impl Breakage {
    /// Whether `fanin schema` states the rule this breaks, for every value the strategy
    /// draws: not the rules that compare values from no fixed list (an account twice, a role
    /// in another account, addresses equal but for case), nor the bus policy's size, nor the
    /// texts whose schema is looser than their check (role ARNs, addresses, tags beyond
    /// ASCII: `LOOSER` in src/inventory/schema.rs), nor a whole float where an integer goes
    /// (JSON Schema counts 1.0 as the integer 1; the loader wants an integer).
    fn schema_states_it(&self) -> bool {
        if let Breakage::Version(Some(Value::Float(f))) | Breakage::WrongType(_, Value::Float(f)) =
            self
            && f.fract() == 0.0
        {
            return false;
        }
        !matches!(
            self,
            Breakage::DuplicateAccount(_)
                | Breakage::MemberIsHub(_)
                | Breakage::RoleArnOtherAccount(_)
                | Breakage::DuplicateEmail
                | Breakage::QuotaBelowOneMember(_)
                | Breakage::RoleArn(..)
                | Breakage::Email(_)
                | Breakage::TagKey(_)
                | Breakage::TagValue(_)
        )
    }

    /// Breaks `doc` and returns the field the diagnostics must name (`None` when an earlier
    /// breakage left nothing to break).
    fn apply(&self, doc: &mut Table, spec: &Spec) -> Option<String> {
        let home = spec.hub.region.clone();
        let field = match self {
            Breakage::MemberKey(bad) => {
                let keys = member_keys(doc);
                let members = table(doc, "members")?;
                let old = members.remove(keys.first()?)?;
                members.insert(bad.clone(), old);
                format!("members.{}", path_key(bad))
            }
            Breakage::HubName(bad) => {
                table(doc, "hub")?.insert("name".into(), s(bad));
                "hub.name".into()
            }
            Breakage::AccountId(t, value) => {
                let (t, path) = target(doc, *t)?;
                t.insert("account_id".into(), value.clone());
                format!("{path}.account_id")
            }
            Breakage::DuplicateAccount(i) => {
                let hub_id = spec.hub.account_id.clone();
                let (t, path) = target(doc, Target::Member(*i))?;
                t.insert("account_id".into(), s(&hub_id));
                t.remove("role_arn");
                format!("{path}.account_id")
            }
            Breakage::MemberIsHub(i) => {
                let keys = member_keys(doc);
                if keys.is_empty() {
                    return None;
                }
                let hub_name = match doc.get("hub").and_then(|h| h.get("name")) {
                    Some(Value::String(n)) => n.clone(),
                    _ => "hub".into(),
                };
                if keys.contains(&hub_name) {
                    format!("members.{}", path_key(&hub_name))
                } else {
                    let members = table(doc, "members")?;
                    let old = members.remove(&keys[i % keys.len()]).unwrap();
                    members.insert(hub_name.clone(), old);
                    format!("members.{}", path_key(&hub_name))
                }
            }
            Breakage::HubRegion(bad) => {
                table(doc, "hub")?.insert("region".into(), s(bad));
                "hub.region".into()
            }
            Breakage::Region(t, bad) => {
                let (t, path) = target(doc, *t)?;
                let i = push(t, "regions", bad.clone())?;
                format!("{path}.regions[{i}]")
            }
            Breakage::DuplicateRegion(t) => {
                let (t, path) = target(doc, *t)?;
                let first = match t.get("regions") {
                    Some(Value::Array(items)) if !items.is_empty() => items[0].clone(),
                    _ => {
                        // Give it a region that is not home (the hub's list excludes home).
                        let other = partition_regions(spec.partition)
                            .into_iter()
                            .find(|r| *r != home)?;
                        push(t, "regions", other.clone())?;
                        s(&other)
                    }
                };
                let i = push(t, "regions", first.as_str()?.to_string())?;
                format!("{path}.regions[{i}]")
            }
            Breakage::HomeInHubRegions => {
                let i = push(table(doc, "hub")?, "regions", home)?;
                format!("hub.regions[{i}]")
            }
            Breakage::CrossPartition(t) => {
                let other = ["us-east-1", "cn-north-1", "us-gov-west-1"]
                    .into_iter()
                    .find(|r| fanin::regions::partition_of(r) != Some(spec.partition))
                    .unwrap();
                let (t, path) = target(doc, *t)?;
                let i = push(t, "regions", other.to_string())?;
                format!("{path}.regions[{i}]")
            }
            Breakage::EmptyRegions(i) => {
                let (t, path) = target(doc, Target::Member(*i))?;
                t.insert("regions".into(), Value::Array(Vec::new()));
                format!("{path}.regions")
            }
            Breakage::RetiredAndActive(i) => {
                let (t, path) = target(doc, Target::Member(*i))?;
                let active = match t.get("regions") {
                    Some(Value::Array(items)) if !items.is_empty() => {
                        items[0].as_str()?.to_string()
                    }
                    _ => home,
                };
                let j = push(t, "retired_regions", active)?;
                format!("{path}.retired_regions[{j}]")
            }
            Breakage::TagKey(bad) => {
                table(doc, "tags")?.insert(bad.clone(), s("v"));
                format!("tags.{}", path_key(bad))
            }
            Breakage::TagValue(bad) => {
                table(doc, "tags")?.insert("Broken".into(), s(bad));
                "tags.Broken".into()
            }
            Breakage::TagType(value) => {
                table(doc, "tags")?.insert("Typed".into(), value.clone());
                "tags.Typed".into()
            }
            Breakage::Email(bad) => {
                let i = push(table(doc, "notify")?, "emails", bad.clone())?;
                format!("notify.emails[{i}]")
            }
            Breakage::DuplicateEmail => {
                let notify = table(doc, "notify")?;
                let first = match notify.get("emails") {
                    Some(Value::Array(items)) if !items.is_empty() => {
                        items[0].as_str()?.to_string()
                    }
                    _ => {
                        push(notify, "emails", "first@example.com".into())?;
                        "first@example.com".into()
                    }
                };
                // Addresses are compared without case.
                let i = push(notify, "emails", first.to_ascii_uppercase())?;
                format!("notify.emails[{i}]")
            }
            Breakage::Setting(key, bad) => {
                table(doc, "settings")?.insert(key.to_string(), s(bad));
                format!("settings.{key}")
            }
            Breakage::TopicName(bad) => {
                table(doc, "notify")?.insert("topic_name".into(), s(bad));
                "notify.topic_name".into()
            }
            Breakage::Profile(t, bad) => {
                let (t, path) = target(doc, *t)?;
                t.remove("role_arn");
                t.insert("profile".into(), s(bad));
                format!("{path}.profile")
            }
            Breakage::RoleArn(t, bad) => {
                let (t, path) = target(doc, *t)?;
                let bad = bad.replace("{id}", &account_id_of(t));
                t.remove("profile");
                t.insert("role_arn".into(), s(&bad));
                format!("{path}.role_arn")
            }
            Breakage::RoleArnOtherAccount(t) => {
                let partition = spec.partition;
                let (t, path) = target(doc, *t)?;
                let id = account_id_of(t);
                let other = if id == "999999999998" {
                    "999999999997"
                } else {
                    "999999999998"
                };
                t.remove("profile");
                t.insert(
                    "role_arn".into(),
                    s(&format!("arn:{partition}:iam::{other}:role/x")),
                );
                format!("{path}.role_arn")
            }
            Breakage::RoleArnOtherPartition(t) => {
                let other = if spec.partition == "aws" {
                    "aws-cn"
                } else {
                    "aws"
                };
                let (t, path) = target(doc, *t)?;
                let id = account_id_of(t);
                t.remove("profile");
                t.insert(
                    "role_arn".into(),
                    s(&format!("arn:{other}:iam::{id}:role/x")),
                );
                format!("{path}.role_arn")
            }
            Breakage::BothAccess(t) => {
                let partition = spec.partition;
                let (t, path) = target(doc, *t)?;
                let id = account_id_of(t);
                t.insert(
                    "role_arn".into(),
                    s(&format!("arn:{partition}:iam::{id}:role/x")),
                );
                t.insert("profile".into(), s("p"));
                format!("{path}.profile")
            }
            Breakage::UnknownField(which, name) => {
                let (t, prefix, section): (&mut Table, String, &str) = match which % 5 {
                    0 => (doc, String::new(), ""),
                    1 => (table(doc, "settings")?, "settings.".into(), "settings"),
                    2 => (table(doc, "hub")?, "hub.".into(), "hub"),
                    3 => (table(doc, "notify")?, "notify.".into(), "notify"),
                    _ => {
                        let (t, path) = target(doc, Target::Member(*which))?;
                        (t, format!("{path}."), "members.<key>")
                    }
                };
                // The names each section allows, from the inventory's own tables.
                let allowed = inventory::sections()
                    .into_iter()
                    .find(|s| s.path == section)
                    .expect("a section of the inventory")
                    .names();
                if allowed.contains(&name.as_str()) {
                    return None;
                }
                t.insert(name.clone(), Value::Integer(1));
                format!("{prefix}{}", path_key(name))
            }
            Breakage::Version(v) => {
                match v {
                    Some(v) => doc.insert("version".into(), v.clone()),
                    None => doc.remove("version"),
                };
                "version".into()
            }
            Breakage::WrongType(which, value) => match which % 7 {
                0 => {
                    table(doc, "settings")?.insert("create_analyzer".into(), value.clone());
                    "settings.create_analyzer".into()
                }
                1 => {
                    let (t, path) = target(doc, Target::Member(*which))?;
                    t.insert("regions".into(), value.clone());
                    format!("{path}.regions")
                }
                2 => {
                    table(doc, "notify")?.insert("emails".into(), value.clone());
                    "notify.emails".into()
                }
                3 => {
                    doc.insert("tags".into(), Value::Array(vec![value.clone()]));
                    "tags".into()
                }
                4 => {
                    doc.insert("members".into(), Value::Array(vec![value.clone()]));
                    "members".into()
                }
                5 => {
                    doc.insert("settings".into(), value.clone());
                    "settings".into()
                }
                _ => {
                    let (t, path) = target(doc, Target::Member(*which))?;
                    t.insert("create_analyzer".into(), value.clone());
                    format!("{path}.create_analyzer")
                }
            },
            Breakage::Status(i, bad) => {
                let (t, path) = target(doc, Target::Member(*i))?;
                t.insert("status".into(), s(bad));
                format!("{path}.status")
            }
            Breakage::IntakeBus(bad) => {
                table(doc, "hub")?.insert("intake_bus".into(), s(bad));
                "hub.intake_bus".into()
            }
            Breakage::NoMembers => {
                doc.insert("members".into(), Value::Table(Table::new()));
                "members".into()
            }
            Breakage::QuotaBelowOneMember(quota) => {
                let mut t = Table::new();
                t.insert("account_id".into(), s("900000000000"));
                table(doc, "members")?.insert("bulk0".into(), Value::Table(t));
                table(doc, "settings")?.insert("bus_policy_quota".into(), Value::Integer(*quota));
                "settings.bus_policy_quota".into()
            }
        };
        Some(field)
    }
}

fn account_id_of(t: &Table) -> String {
    match t.get("account_id") {
        Some(Value::String(id)) if id.len() == 12 => id.clone(),
        _ => "111111111111".into(),
    }
}

/// Text with at least one character that the field's rule refuses.
fn with_bad_char(bad: &'static [&'static str], ok: &'static str) -> BoxedStrategy<String> {
    (ok, select(bad), ok)
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
        .boxed()
}

const BAD_TAG_TEXT: &[&str] = &[
    "${", "%{", "$", "{", "}", "%", "\"", "\\", "\n", "\r", "\t", "\0", "\u{7f}", "\u{202e}",
    "\u{200b}", "\u{feff}", "\u{a0}", "\u{2028}", "🔥", "'", "`", "!", "#", "&", "*", "(", ")",
    "[", "]", ",", ";", "<", ">", "?", "|", "~", "^", "\u{301}",
];

fn invalid_key() -> BoxedStrategy<String> {
    prop_oneof![
        "[A-Z][a-zA-Z0-9]{0,10}",
        "[0-9][a-z0-9]{0,10}",
        "[_-][a-z]{0,5}",
        "[a-z][a-z0-9_-]{40,60}",
        Just(String::new()),
        with_bad_char(
            &[
                "${", "%{", "\"", "\\", " ", ".", "\n", "é", "\u{202e}", "A", "@", "/"
            ],
            "[a-z]{1,5}"
        )
        .prop_map(|k| format!("a{k}")),
    ]
    .prop_filter("a valid key", |k| !valid_key(k))
    .boxed()
}

fn invalid_account_id() -> BoxedStrategy<Value> {
    prop_oneof![
        "[0-9]{1,11}".prop_map(Value::String),
        "[0-9]{13,20}".prop_map(Value::String),
        "[0-9]{6}[a-z ${}\"]{1}[0-9]{5}".prop_map(Value::String),
        Just(s("١٢٣٤٥٦٧٨٩٠١٢")),
        Just(s(" 111111111111")),
        Just(s("111111111111\n")),
        Just(s("${var.id}")),
        (100_000_000_000i64..999_999_999_999).prop_map(Value::Integer),
        Just(Value::Boolean(true)),
        Just(Value::Float(1.5)),
    ]
    .boxed()
}

fn invalid_region() -> BoxedStrategy<String> {
    prop_oneof![
        Just("us-east-7".to_string()),
        Just("US-EAST-1".to_string()),
        Just("us_east_1".to_string()),
        Just(String::new()),
        Just(" us-east-1".to_string()),
        Just("us-east-1\n".to_string()),
        Just("eu-west-1${x}".to_string()),
        "[a-z]{2}-[a-z]{3,9}-[0-9]{2,3}",
        hostile_ascii(30),
    ]
    .prop_filter("a known region", |r| {
        fanin::regions::partition_of(r).is_none()
    })
    .boxed()
}

fn invalid_email() -> BoxedStrategy<String> {
    prop_oneof![
        with_bad_char(
            &[
                " ", "\"", "\\", "(", ",", "<", "@", "é", "\n", ";", "[", ":"
            ],
            "[a-z]{1,5}"
        )
        .prop_map(|l| format!("{l}@example.com")),
        with_bad_char(&["_", "..", " ", "${", "\""], "[a-z]{1,5}")
            .prop_map(|d| format!("a@{d}.com")),
        Just("a@example.c0m".into()),
        Just("a@example".into()),
        Just("a@-example.com".into()),
        Just(".a@example.com".into()),
        Just("a..b@example.com".into()),
        Just("${x}".into()),
        Just(String::new()),
        "[a-z]{65}".prop_map(|l| format!("{l}@example.com")),
    ]
    .boxed()
}

fn invalid_setting() -> BoxedStrategy<(&'static str, String)> {
    prop_oneof![
        prop_oneof![
            Just(String::new()),
            "[a-z]{21,30}",
            "[A-Z][a-z]{0,5}",
            with_bad_char(&["_", "${", ".", " ", "é", "\""], "[a-z]{0,5}"),
        ]
        .prop_map(|v| ("name_prefix", v)),
        prop_oneof![
            Just(String::new()),
            "[a-z]{65,70}",
            with_bad_char(&["/", "${", " ", "\"", "\\", "é", ":"], "[a-z]{0,5}"),
        ]
        .prop_map(|v| ("role_name", v)),
        prop_oneof![
            "[a-z]{0,1}",
            "[a-z]{1225}",
            with_bad_char(&["${", " ", "\"", "\\", "é", "\n", "{", "%"], "[a-z]{1,5}"),
        ]
        .prop_map(|v| ("external_id", v)),
    ]
    .boxed()
}

fn invalid_profile() -> BoxedStrategy<String> {
    prop_oneof![
        Just(String::new()),
        Just("   ".to_string()),
        "[a-z]{129,140}",
        with_bad_char(
            &["\n", "\t", "\r", "\u{7f}", "é", "\u{202e}", "\0", "日"],
            "[a-z${}\"]{0,5}"
        ),
    ]
    .boxed()
}

fn invalid_role_arn() -> BoxedStrategy<String> {
    select(vec![
        "arn:aws:iam::{id}:user/x",
        "arn:aws:iam::{id}:role/",
        "arn:aws:iam::{id}:role/a b",
        "arn:aws:iam::{id}:role/${x}",
        "arn:aws:iam::{id}:role/x\"",
        "arn:aws:iam::{id}:role//x",
        "arn:aws:sts::{id}:role/x",
        "arn:aws:iam:us-east-1:{id}:role/x",
        "arn:aws-foo:iam::{id}:role/x",
        "arn:aws:iam::{id}:role/x\n",
        "${arn}",
        "",
    ])
    .prop_map(str::to_string)
    .boxed()
}

fn breakage() -> BoxedStrategy<Breakage> {
    let target = prop_oneof![Just(Target::Hub), (0usize..8).prop_map(Target::Member)];
    let member = 0usize..8;
    prop_oneof![
        invalid_key().prop_map(Breakage::MemberKey),
        invalid_key().prop_map(Breakage::HubName),
        (target.clone(), invalid_account_id()).prop_map(|(t, v)| Breakage::AccountId(t, v)),
        member.clone().prop_map(Breakage::DuplicateAccount),
        member.clone().prop_map(Breakage::MemberIsHub),
        invalid_region().prop_map(Breakage::HubRegion),
        (target.clone(), invalid_region()).prop_map(|(t, r)| Breakage::Region(t, r)),
        target.clone().prop_map(Breakage::DuplicateRegion),
        Just(Breakage::HomeInHubRegions),
        target.clone().prop_map(Breakage::CrossPartition),
        member.clone().prop_map(Breakage::EmptyRegions),
        member.clone().prop_map(Breakage::RetiredAndActive),
        prop_oneof![
            with_bad_char(BAD_TAG_TEXT, "[A-Za-z é]{0,5}"),
            "(aws|AWS|Aws):[a-z]{0,5}",
            Just(String::new()),
            "[a-z]{129,140}",
        ]
        .prop_map(Breakage::TagKey),
        prop_oneof![
            with_bad_char(BAD_TAG_TEXT, "[A-Za-z é]{0,5}"),
            "[a-zé]{257,270}",
        ]
        .prop_map(Breakage::TagValue),
        prop_oneof![
            Just(Value::Integer(1)),
            Just(Value::Boolean(false)),
            Just(Value::Array(vec![s("a")])),
            Just(Value::Float(0.5)),
        ]
        .prop_map(Breakage::TagType),
        invalid_email().prop_map(Breakage::Email),
        Just(Breakage::DuplicateEmail),
        invalid_setting().prop_map(|(k, v)| Breakage::Setting(k, v)),
        prop_oneof![
            Just(String::new()),
            "[a-z]{257,260}",
            with_bad_char(&[".", " ", "${", "\"", "é", ":"], "[a-z]{0,5}"),
        ]
        .prop_map(Breakage::TopicName),
        (target.clone(), invalid_profile()).prop_map(|(t, p)| Breakage::Profile(t, p)),
        (target.clone(), invalid_role_arn()).prop_map(|(t, a)| Breakage::RoleArn(t, a)),
        target.clone().prop_map(Breakage::RoleArnOtherAccount),
        target.clone().prop_map(Breakage::RoleArnOtherPartition),
        target.prop_map(Breakage::BothAccess),
        (
            0usize..10,
            prop_oneof![
                "[a-z_]{1,12}",
                hostile_ascii(20),
                Just(String::new()),
                with_bad_char(
                    &["\u{1b}[2J", "\n", "\r", "\u{7}", "\u{202e}", "\u{2066}"],
                    "[a-z]{0,4}"
                ),
            ]
        )
            .prop_map(|(w, n)| Breakage::UnknownField(w, n)),
        prop_oneof![
            Just(None),
            Just(Some(Value::Integer(2))),
            Just(Some(Value::Integer(0))),
            Just(Some(Value::Integer(i64::MAX))),
            Just(Some(s("1"))),
            Just(Some(Value::Float(1.0))),
        ]
        .prop_map(Breakage::Version),
        (
            0usize..7,
            prop_oneof![
                Just(s("true")),
                Just(Value::Integer(1)),
                Just(Value::Float(2.5)),
                Just(s("us-east-1")),
            ]
        )
            .prop_map(|(w, v)| Breakage::WrongType(w, v)),
        (
            member.clone(),
            prop_oneof![
                Just(String::new()),
                Just("Active".into()),
                hostile_ascii(20)
            ]
        )
            .prop_filter("a valid status", |(_, s)| s != "active" && s != "retired")
            .prop_map(|(i, s)| Breakage::Status(i, s)),
        prop_oneof![
            Just("Default".to_string()),
            Just(String::new()),
            hostile_ascii(20)
        ]
        .prop_filter("a valid bus", |b| b != "default" && b != "dedicated")
        .prop_map(Breakage::IntakeBus),
        Just(Breakage::NoMembers),
        (1i64..200).prop_map(Breakage::QuotaBelowOneMember),
    ]
    .boxed()
}

/// A valid inventory, broken 1 to 3 times; the fields each breakage must be reported at.
fn broken() -> BoxedStrategy<(Spec, Vec<Breakage>)> {
    (spec(), prop::collection::vec(breakage(), 1..=3)).boxed()
}

fn break_document(spec: &Spec, breakages: &[Breakage]) -> (Table, Vec<String>) {
    let mut doc = spec.document();
    let mut fields: Vec<String> = Vec::new();
    for b in breakages {
        let before: BTreeSet<String> = member_keys(&doc).into_iter().collect();
        let Some(field) = b.apply(&mut doc, spec) else {
            continue;
        };
        // A renamed member moves the fields broken before under its new key.
        let after: BTreeSet<String> = member_keys(&doc).into_iter().collect();
        let gone: Vec<&String> = before.difference(&after).collect();
        let new: Vec<&String> = after.difference(&before).collect();
        if let ([old], [new]) = (&gone[..], &new[..]) {
            let (old, new) = (
                format!("members.{}", path_key(old)),
                format!("members.{}", path_key(new)),
            );
            for f in &mut fields {
                if f == &old || f.starts_with(&format!("{old}.")) {
                    *f = format!("{new}{}", &f[old.len()..]);
                }
            }
        }
        fields.push(field);
    }
    (doc, fields)
}

// ---------------------------------------------------------------------------------------------
// Checks

fn valid_key(k: &str) -> bool {
    let mut chars = k.chars();
    k.len() <= 40
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

fn identifier_like(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Parses, builds and renders; `Err` with the diagnostics' text when refused.
fn render(text: &str, format: Format, path: &Path) -> Result<Vec<GeneratedFile>, String> {
    let inventory = inventory::parse(text, format, path).map_err(|d| {
        assert!(!d.0.is_empty(), "refused without a diagnostic");
        d.to_string()
    })?;
    // Keys may only reach identifiers because they are identifiers already.
    for m in &inventory.members {
        assert!(
            valid_key(&m.key.value),
            "accepted member key {:?}",
            m.key.value
        );
    }
    if let Some(name) = &inventory.hub.name {
        assert!(valid_key(&name.value), "accepted hub name {:?}", name.value);
    }
    let model = fanin::model::build(&inventory, path).map_err(|d| {
        assert!(!d.0.is_empty(), "refused without a diagnostic");
        d.to_string()
    })?;
    Ok(fanin::render::render(&model, &[]))
}

fn is_root_tf(f: &GeneratedFile) -> bool {
    f.path.ends_with(".tf") && !f.path.contains('/')
}

/// Every string literal, every object key and every traversal of a body, with the block
/// path where it is.
#[derive(Default, Debug)]
struct Walk {
    strings: Vec<String>,
    problems: Vec<String>,
}

impl Walk {
    fn body(&mut self, body: &Body, at: &str) {
        for structure in body.iter() {
            match structure {
                Structure::Attribute(a) => self.expr(&a.expr, &format!("{at}.{}", a.key.as_str())),
                Structure::Block(b) => {
                    let mut here = format!("{at}/{}", b.identifier.as_str());
                    for label in &b.labels {
                        let label = match label {
                            BlockLabel::String(s) => s.clone(),
                            BlockLabel::Identifier(i) => i.as_str().to_string(),
                        };
                        if !identifier_like(&label) {
                            self.problems.push(format!("{here}: block label {label:?}"));
                        }
                        here.push_str(&format!("[{label}]"));
                    }
                    self.body(&b.body, &here);
                }
            }
        }
    }

    fn expr(&mut self, expr: &Expression, at: &str) {
        match expr {
            Expression::String(s) => self.strings.push(s.clone()),
            Expression::Null | Expression::Bool(_) | Expression::Number(_) => {}
            Expression::Array(items) => items.iter().for_each(|e| self.expr(e, at)),
            Expression::Object(object) => {
                for (k, v) in object.iter() {
                    match k {
                        ObjectKey::Identifier(i) => self.strings.push(i.as_str().to_string()),
                        ObjectKey::Expression(Expression::String(s)) => {
                            self.strings.push(s.clone())
                        }
                        ObjectKey::Expression(other) => {
                            self.problems.push(format!("{at}: object key {other:?}"))
                        }
                        _ => self.problems.push(format!("{at}: object key {k:?}")),
                    }
                    self.expr(v, at);
                }
            }
            Expression::Variable(v) => self.reference(v.as_str(), &[], at),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(v) => self.reference(v.as_str(), &t.operators, at),
                other => self.problems.push(format!("{at}: traversal of {other:?}")),
            },
            // Templates, calls, operators, conditionals, for: fanin never writes them at the
            // root, so any of them would be inventory text turned into code.
            other => self.problems.push(format!("{at}: {other:?}")),
        }
    }

    fn reference(&mut self, root: &str, operators: &[TraversalOperator], at: &str) {
        if !matches!(root, "aws" | "module") {
            self.problems.push(format!("{at}: reference to {root}"));
        }
        for op in operators {
            match op {
                TraversalOperator::GetAttr(i) if identifier_like(i.as_str()) => {}
                other => self.problems.push(format!("{at}: traversal {other:?}")),
            }
        }
    }
}

/// Diagnostics as a terminal shows them: one `error: <file>` line per problem (and the count),
/// with no character of the inventory that a terminal would act on or hide (escape sequences,
/// carriage returns, newlines that forge another line, bidi overrides).
fn assert_plain_diagnostics(message: &str, file: &str) {
    let lines: Vec<&str> = message.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let count = i == lines.len() - 1
            && i > 0
            && line
                .strip_suffix(" problems found")
                .is_some_and(|n| n.parse::<usize>().is_ok());
        assert!(
            count || line.starts_with(&format!("error: {file}")),
            "line {i} of the diagnostics is not an error about {file}:\n{message}"
        );
        assert!(
            !line
                .chars()
                .any(|c| c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')),
            "raw control or bidi character in the diagnostics: {line:?}"
        );
    }
}

/// `${` and `%{` only ever escaped (`$${`, `%%{`): a single one would start a template.
fn assert_no_live_template(path: &str, text: &str) {
    for (marker, escape) in [("${", b'$'), ("%{", b'%')] {
        for (i, _) in text.match_indices(marker) {
            assert!(
                i > 0 && text.as_bytes()[i - 1] == escape,
                "{path}: unescaped {marker} at byte {i}:\n{text}"
            );
        }
    }
}

fn block<'a>(body: &'a Body, kind: &str, label: &str) -> Option<&'a Body> {
    body.blocks()
        .find(|b| {
            b.identifier.as_str() == kind
                && b.labels.first().is_some_and(|l| match l {
                    BlockLabel::String(s) => s == label,
                    BlockLabel::Identifier(i) => i.as_str() == label,
                })
        })
        .map(|b| &b.body)
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key.as_str() == key)
        .map(|a| &a.expr)
}

fn string_attr(body: &Body, key: &str) -> Option<String> {
    match attr(body, key)? {
        Expression::String(s) => Some(s.clone()),
        other => panic!("{key} is not a string literal: {other:?}"),
    }
}

/// The paths fanin renders for the minimal example (without the manifest).
fn fixed_paths() -> &'static BTreeSet<String> {
    static PATHS: std::sync::OnceLock<BTreeSet<String>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| {
        let files = fanin::generate(&common::repo().join("examples/minimal/fanin.toml")).unwrap();
        files
            .into_iter()
            .map(|f| f.path)
            .filter(|p| !p.ends_with(".toml"))
            .collect()
    })
}

/// Property (a) on one rendered tree.
fn check_accepted(spec: &Spec, files: &[GeneratedFile]) {
    // No path is built from the inventory: every inventory writes the same files.
    let paths: BTreeSet<String> = files
        .iter()
        .map(|f| f.path.clone())
        .filter(|p| !p.ends_with(".toml"))
        .collect();
    assert_eq!(
        &paths,
        fixed_paths(),
        "the set of generated files depends on the inventory"
    );
    // Modules are fixed text: nothing from the inventory reaches them.
    for (path, contents) in fanin::modules::FILES {
        let file = files.iter().find(|f| f.path == *path).expect(path);
        assert!(
            file.contents == *contents,
            "{path} differs from the embedded module"
        );
    }
    let mut parsed = BTreeMap::new();
    let mut walk = Walk::default();
    for f in files.iter().filter(|f| is_root_tf(f)) {
        let text = std::str::from_utf8(&f.contents).expect("UTF-8 output");
        assert_no_live_template(&f.path, text);
        let body =
            hcl::parse(text).unwrap_or_else(|e| panic!("{} does not parse: {e}\n{text}", f.path));
        walk.body(&body, &f.path);
        parsed.insert(f.path.clone(), body);
    }
    assert!(walk.problems.is_empty(), "{:#?}", walk.problems);
    let strings: BTreeSet<&String> = walk.strings.iter().collect();
    for injected in spec.injected() {
        assert!(
            strings.contains(&injected),
            "{injected:?} is not a string literal of the output"
        );
    }

    // Providers: exactly the expected ones, each with its account, region, access and tags.
    let providers = &parsed["providers.tf"];
    let expected = spec.expected_providers();
    let mut seen = BTreeSet::new();
    let tags: BTreeMap<&str, &str> = spec
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for b in providers.blocks() {
        assert_eq!(b.identifier.as_str(), "provider");
        let alias = string_attr(&b.body, "alias").expect("alias");
        let (id, region, access) = expected
            .get(&alias)
            .unwrap_or_else(|| panic!("unexpected provider {alias}"));
        assert!(seen.insert(alias.clone()), "provider {alias} twice");
        assert_eq!(string_attr(&b.body, "region").as_ref(), Some(region));
        assert_eq!(
            attr(&b.body, "allowed_account_ids"),
            Some(&Expression::Array(vec![Expression::String(id.clone())]))
        );
        let assume = b
            .body
            .blocks()
            .find(|b| b.identifier.as_str() == "assume_role");
        let rendered = match (string_attr(&b.body, "profile"), assume) {
            (Some(p), None) => Rendered::Profile(p),
            (None, Some(a)) => Rendered::Assume(
                string_attr(&a.body, "role_arn").expect("role_arn"),
                string_attr(&a.body, "external_id"),
            ),
            (None, None) => Rendered::Ambient,
            (Some(_), Some(_)) => panic!("{alias}: profile and assume_role"),
        };
        assert_eq!(&rendered, access, "provider {alias}");
        let default_tags = b
            .body
            .blocks()
            .find(|b| b.identifier.as_str() == "default_tags");
        match default_tags {
            None => assert!(tags.is_empty(), "{alias}: no default_tags"),
            Some(d) => {
                let Some(Expression::Object(object)) = attr(&d.body, "tags") else {
                    panic!("{alias}: tags is not an object")
                };
                let found: BTreeMap<String, &str> = object
                    .iter()
                    .map(|(k, v)| {
                        let k = match k {
                            ObjectKey::Identifier(i) => i.as_str().to_string(),
                            ObjectKey::Expression(Expression::String(s)) => s.clone(),
                            other => panic!("tag key {other:?}"),
                        };
                        let Expression::String(v) = v else {
                            panic!("tag {k}: {v:?}")
                        };
                        (k, v.as_str())
                    })
                    .collect();
                let found: BTreeMap<&str, &str> =
                    found.iter().map(|(k, v)| (k.as_str(), *v)).collect();
                assert_eq!(found, tags, "{alias}: tags");
            }
        }
    }
    assert_eq!(seen.len(), expected.len(), "providers");

    // Modules: the hub with the topic and addresses as written, one spoke per active region.
    let main = &parsed["main.tf"];
    let hub = block(main, "module", "hub").expect("module hub");
    assert_eq!(string_attr(hub, "topic_name"), Some(spec.topic_name()));
    let mut emails = spec.emails.clone();
    emails.sort();
    assert_eq!(
        attr(hub, "notification_emails"),
        Some(&Expression::Array(
            emails.into_iter().map(Expression::String).collect()
        ))
    );
    let spokes: BTreeSet<String> = main
        .blocks()
        .filter(|b| b.identifier.as_str() == "module")
        .filter_map(|b| match b.labels.first() {
            Some(BlockLabel::String(s)) if s.starts_with("spoke_") => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(spokes, spec.expected_spokes(), "spoke modules");
}

fn proptest_config(default_cases: u32) -> Config {
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = default_cases;
    }
    config.max_shrink_iters = 2_000;
    config
}

// ---------------------------------------------------------------------------------------------
// (a) accepted inventories: only escaped literals, the same bytes from every format

proptest! {
    #![proptest_config(proptest_config(256))]

    #[test]
    fn accepted_inventories_render_inventory_text_only_as_string_literals(spec in spec()) {
        let doc = spec.document();
        let mut first: Option<Vec<GeneratedFile>> = None;
        for (format, ext) in FORMATS {
            let text = text(&doc, format);
            let files = render(&text, format, &inventory_path(ext))
                .unwrap_or_else(|e| panic!("a valid inventory was refused:\n{e}\n--- {ext}\n{text}"));
            // `fanin schema` accepts it too: an editor never marks a valid inventory.
            if let Err(errors) = common::schema_verdict(&text, format) {
                panic!("the schema refuses a valid inventory:\n{}\n--- {ext}\n{text}", errors.join("\n"));
            }
            match &first {
                None => {
                    check_accepted(&spec, &files);
                    first = Some(files);
                }
                Some(toml_files) => prop_assert!(
                    *toml_files == files,
                    "{ext} renders differently from TOML"
                ),
            }
        }
    }

    // (b) rejected inventories: the file and the field, in every format

    #[test]
    fn rejected_inventories_name_the_file_and_the_field((spec, breakages) in broken()) {
        let (doc, fields) = break_document(&spec, &breakages);
        prop_assume!(!fields.is_empty());
        for (format, ext) in FORMATS {
            let text = text(&doc, format);
            let path = inventory_path(ext);
            let message = match render(&text, format, &path) {
                Ok(_) => panic!("accepted a broken inventory ({fields:?}):\n--- {ext}\n{text}"),
                Err(message) => message,
            };
            assert_plain_diagnostics(&message, &path.display().to_string());
            // An editor marks it too, when every rule broken is one the schema states.
            if breakages.iter().all(Breakage::schema_states_it) {
                prop_assert!(
                    common::schema_verdict(&text, format).is_err(),
                    "{ext}: the schema accepts a broken inventory ({fields:?}), refused with\n{message}\n--- {ext}\n{text}"
                );
            }
            // One breakage: its field is named. Several: a later one may hide an earlier one
            // (a renamed member, a replaced table), so at least one is named.
            let named: Vec<&String> = fields
                .iter()
                .filter(|f| message.contains(&format!(": {f}: ")))
                .collect();
            if fields.len() == 1 {
                prop_assert!(!named.is_empty(), "{ext}: {} not named in:\n{message}\n--- {ext}\n{text}", fields[0]);
            } else {
                prop_assert!(!named.is_empty(), "{ext}: none of {fields:?} named in:\n{message}\n--- {ext}\n{text}");
            }
        }
    }
}

// (b) through the binary: exit 2, the file and field on stderr, nothing written.

proptest! {
    #![proptest_config(proptest_config(24))]

    #[test]
    fn rejected_inventories_write_nothing(
        (spec, breakages) in broken(),
        format in 0usize..3,
    ) {
        let (doc, fields) = break_document(&spec, &breakages);
        prop_assume!(!fields.is_empty());
        let (format, ext) = FORMATS[format];
        let temp = tempfile::tempdir().unwrap();
        let inventory = temp.path().join(format!("fanin.{ext}"));
        fs::write(&inventory, text(&doc, format)).unwrap();
        let out = temp.path().join("out");
        let output = fanin()
            .arg("generate")
            .arg(&inventory)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        prop_assert_eq!(output.status.code(), Some(2), "{}", stderr);
        prop_assert!(stderr.contains(&inventory.display().to_string()), "{}", stderr);
        prop_assert!(fields.iter().any(|f| stderr.contains(&format!(": {f}: "))), "{fields:?} not in {stderr}");
        prop_assert!(!out.exists(), "{} was created", out.display());
        let left: Vec<_> = fs::read_dir(temp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        prop_assert_eq!(left.len(), 1, "files beside the inventory: {:?}", left);
    }
}

// ---------------------------------------------------------------------------------------------
// (c) fmt-canonical and valid on the engine

/// A hand-written inventory with the most hostile text every field allows.
fn most_hostile() -> Spec {
    let long_unicode: String = UNICODE_TAG_CHARS.iter().cycle().take(256).collect();
    Spec {
        partition: "aws",
        name_prefix: Some("a-very-long-prefix-2".into()),
        role_name: Some("+=,.@_-Role".into()),
        external_id: Some(format!("{}:/", "+=,.@_-".repeat(174))),
        create_analyzer: Some(false),
        hub: Hub {
            name: Some("for".into()),
            account_id: "000000000001".into(),
            region: "us-east-1".into(),
            regions: Some(vec!["eu-west-1".into()]),
            retired_regions: vec!["ap-southeast-7".into()],
            access: Some(Access::Profile(
                "${var.x} %{ if true }\"\\\" = \"$${}%%{} $$${".into(),
            )),
            intake_bus: Some("dedicated"),
            create_analyzer: None,
        },
        emails: vec![
            "${file(\"x\")}@example.com".replace(['(', '"', ')'], ""),
            "%{if}x%{endif}@example.com".into(),
            "$${a}.%%{b}@example.com".into(),
            "a$@sub.example.co".into(),
        ],
        topic_name: Some("T".repeat(256)),
        members: vec![
            Member {
                key: "null".into(),
                account_id: "000000000002".into(),
                regions: Some(vec!["us-east-1".into(), "mx-central-1".into()]),
                retired_regions: vec![],
                access: Some(Access::RoleArn(format!(
                    "arn:aws:iam::000000000002:role/p+=,.@_-/{}",
                    "n".repeat(64)
                ))),
                create_analyzer: Some(true),
                status: Some("active"),
            },
            Member {
                key: format!("a{}", "-_9".repeat(13)),
                account_id: "000000000003".into(),
                regions: None,
                retired_regions: vec!["eu-west-1".into()],
                access: Some(Access::Profile("\\".into())),
                create_analyzer: None,
                status: None,
            },
            Member {
                key: "true".into(),
                account_id: "000000000004".into(),
                regions: None,
                retired_regions: vec![],
                access: None,
                create_analyzer: None,
                status: Some("retired"),
            },
        ],
        tags: vec![
            ("for".into(), "in".into()),
            ("null".into(), "true".into()),
            ("if".into(), String::new()),
            ("_".into(), "-".into()),
            ("-".into(), "_".into()),
            (" ".into(), " ".into()),
            ("a.b".into(), "@:/=+-".into()),
            ("Cost Center".into(), "日本語 Ω".into()),
            ("x".repeat(128), long_unicode),
            ("𝔘𐍈".into(), "ǅﬁ²".into()),
        ],
    }
}

/// The same hostile inventory in the aws-us-gov partition with a role name, and tags whose
/// first key is `for` (a bare `for` opening an object starts a `for` expression).
fn most_hostile_gov() -> Spec {
    let mut spec = most_hostile();
    spec.partition = "aws-us-gov";
    spec.hub.region = "us-gov-west-1".into();
    spec.hub.regions = Some(vec!["us-gov-east-1".into()]);
    spec.hub.retired_regions = vec![];
    spec.hub.intake_bus = Some("default");
    spec.hub.access = None;
    spec.members.truncate(2);
    spec.members[0].regions = Some(vec!["us-gov-east-1".into()]);
    spec.members[0].access = Some(Access::RoleArn(
        "arn:aws-us-gov:iam::000000000002:role/x".into(),
    ));
    spec.members[1].retired_regions = vec!["us-gov-east-1".into()];
    spec.tags = vec![
        ("for".into(), "in".into()),
        ("if".into(), "for".into()),
        ("in".into(), String::new()),
    ];
    spec
}

fn write_tree(dir: &Path, files: &[GeneratedFile]) {
    for f in files {
        let path = dir.join(&f.path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, &f.contents).unwrap();
    }
}

fn run_engine(engine: &Path, dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(engine)
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", engine.display()));
    (
        out.status.success(),
        format!(
            "`{} {}` in {}: {}\n--- stdout\n{}\n--- stderr\n{}",
            engine.display(),
            args.join(" "),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn accepted_trees_are_fmt_canonical_and_valid_on_the_engine() {
    let Some(engine) = engine() else { return };
    const TREES: usize = 64;
    const VALIDATED: usize = 6;

    let mut config = Config::default();
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        config.rng_seed = RngSeed::Fixed(0x4a11_f00d);
    }
    let mut runner = TestRunner::new(config);
    let strategy = spec();
    let mut specs = vec![most_hostile(), most_hostile_gov()];
    while specs.len() < TREES {
        specs.push(strategy.new_tree(&mut runner).unwrap().current());
    }

    let temp = tempfile::tempdir().unwrap();
    let mut trees = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let format = FORMATS[i % 3];
        let inventory = temp.path().join(format!("inventory-{i}.{}", format.1));
        fs::write(&inventory, text(&spec.document(), format.0)).unwrap();
        let files = fanin::generate(&inventory)
            .unwrap_or_else(|e| panic!("a valid inventory was refused:\n{e}\n{spec:#?}"));
        check_accepted(spec, &files);
        let dir = temp.path().join("trees").join(format!("t{i:02}"));
        write_tree(&dir, &files);
        trees.push((spec.hostility(), i, dir));
    }

    let started = Instant::now();
    let (ok, report) = run_engine(
        &engine,
        &temp.path().join("trees"),
        &["fmt", "-check", "-recursive", "-diff"],
    );
    assert!(ok, "generated trees are not fmt-canonical:\n{report}");
    eprintln!("fmt -check over {TREES} trees: {:?}", started.elapsed());

    // The hand-written ones, then the most hostile random ones.
    let mut random: Vec<_> = trees.split_off(2);
    random.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    trees.extend(random.into_iter().take(VALIDATED - 2));
    let started = Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = trees
            .chunks(VALIDATED.div_ceil(2))
            .map(|chunk| {
                let engine = &engine;
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for (_, _, dir) in chunk {
                        for args in [
                            &["init", "-backend=false", "-input=false"][..],
                            &["validate"][..],
                        ] {
                            let (ok, report) = run_engine(engine, dir, args);
                            if !ok {
                                failures.push(report);
                                break;
                            }
                            if args[0] == "init" {
                                common::report_provider("hostile tree validate", dir);
                            }
                        }
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "init + validate of {VALIDATED} trees: {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// Oversized, endless, binary and pathological files: a clear error, quickly, nothing written

/// Runs `fanin generate` on `inventory` and returns stderr, asserting exit 2 and no output.
fn refused(inventory: &Path, limit: Duration) -> String {
    let out = inventory.parent().unwrap().join("out");
    let started = Instant::now();
    let output = fanin()
        .arg("generate")
        .arg(inventory)
        .arg("--out")
        .arg(&out)
        .timeout(limit * 4)
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}: {stderr}",
        inventory.display()
    );
    assert!(
        stderr.starts_with(&format!("error: {}", inventory.display())),
        "the error does not name the file: {}",
        stderr.chars().take(500).collect::<String>()
    );
    assert!(!out.exists(), "{} was created", out.display());
    assert!(took < limit, "{}: took {took:?}", inventory.display());
    stderr
}

fn file_with(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, contents).unwrap();
    path
}

#[test]
fn oversized_endless_and_binary_inventories_get_a_clear_error() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    let limit = Duration::from_secs(10);
    let max = fanin::inventory::MAX_FILE_BYTES as usize;

    // One byte over the limit (a valid inventory padded with a comment) and an endless stream.
    let example = fs::read_to_string(common::repo().join("examples/minimal/fanin.toml")).unwrap();
    let mut big = example.clone();
    big.push('#');
    big.push_str(&"x".repeat(max + 1 - big.len() - 1));
    big.push('\n');
    assert_eq!(big.len(), max + 1);
    let e = refused(&file_with(dir, "big.toml", &big), limit);
    assert!(e.contains("larger than 1024 KiB"), "{e}");
    // ...while exactly the limit is read.
    let mut fits = example;
    fits.push('#');
    fits.push_str(&"x".repeat(max - fits.len() - 1));
    fits.push('\n');
    assert_eq!(fits.len(), max);
    let path = file_with(dir, "fits.toml", &fits);
    fanin::generate(&path).expect("an inventory of exactly the limit is read");
    #[cfg(unix)]
    {
        let zero = dir.join("zero.yaml");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = refused(&zero, limit);
        assert!(e.contains("larger than"), "{e}");
    }

    for (name, bytes, expected) in [
        ("nul.toml", b"version = 1\0\n".to_vec(), "binary"),
        (
            "png.json",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            "binary",
        ),
        (
            "utf16.yaml",
            "\u{feff}version: 1"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
            "binary",
        ),
        (
            "latin1.toml",
            b"version = 1\n[tags]\nOwner = \"s\xe9cops\"\n".to_vec(),
            "not UTF-8",
        ),
        (
            "cut.json",
            "{\"tags\": \"é".as_bytes()[..11].to_vec(),
            "not UTF-8",
        ),
        ("empty.toml", Vec::new(), "version"),
        ("empty.json", Vec::new(), "not valid JSON"),
        ("empty.yaml", Vec::new(), ""),
    ] {
        let e = refused(&file_with(dir, name, bytes), limit);
        assert!(e.contains(expected), "{name}: {e}");
    }
}

#[test]
fn pathological_inventories_are_refused_quickly() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    // A guard against quadratic work, not a measure of speed: a debug build takes about 5 s
    // for the 100 000 keys alone and took 32 s with both cores busy (the end-to-end suite and
    // a benchmark beside it); quadratic work on them takes many minutes.
    let limit = Duration::from_secs(60);
    let n = 100_000;

    let deep = 200_000;
    for (name, text) in [
        (
            "deep.toml",
            format!("a = {}{}", "[".repeat(deep), "]".repeat(deep)),
        ),
        (
            "deep-tables.toml",
            format!(
                "a = {}1{}",
                "{b = ".repeat(deep / 10),
                "}".repeat(deep / 10)
            ),
        ),
        ("dotted.toml", format!("a{} = 1", ".a".repeat(deep))),
        (
            "deep.yaml",
            format!("a: {}{}", "[".repeat(deep), "]".repeat(deep)),
        ),
        (
            "deep-block.yaml",
            (0..1000)
                .map(|i| format!("{}k:\n", " ".repeat(i)))
                .collect(),
        ),
        (
            "deep.json",
            format!("{}{}", "[".repeat(deep), "]".repeat(deep)),
        ),
        (
            "keys.toml",
            (0..n).map(|i| format!("k{i:x} = 0\n")).collect(),
        ),
        (
            "keys.yaml",
            (0..n).map(|i| format!("k{i:x}: 0\n")).collect(),
        ),
        (
            "keys.json",
            format!(
                "{{{}}}",
                (0..n)
                    .map(|i| format!("\"{i:x}\":0"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        (
            "members.json",
            format!(
                "{{\"members\":{{{}}}}}",
                (0..n)
                    .map(|i| format!("\"{i:x}\":0"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        ),
        (
            "members.yaml",
            format!(
                "members:\n{}",
                (0..80_000)
                    .map(|i| format!("  m{i:x}: 0\n"))
                    .collect::<String>()
            ),
        ),
        (
            "laughs.yaml",
            std::iter::once("a: &a [x, x, x, x, x, x, x, x, x]\n".to_string())
                .chain((1..12u8).map(|i| {
                    let (name, prev) = ((b'a' + i) as char, (b'a' + i - 1) as char);
                    format!(
                        "{name}: &{name} [{}]\n",
                        vec![format!("*{prev}"); 9].join(", ")
                    )
                }))
                .collect(),
        ),
        ("duplicate.json", "{\"version\": 1, \"version\": 1}".into()),
        ("duplicate.yaml", "version: 1\nversion: 1\n".into()),
        ("duplicate.toml", "version = 1\nversion = 1\n".into()),
        ("documents.yaml", "version: 1\n---\nversion: 1\n".into()),
        ("null-key.yaml", "version: 1\n~: 1\n".into()),
        ("float-key.yaml", "version: 1\ntags:\n  1e3: x\n".into()),
        (
            "big-int.json",
            format!("{{\"version\": 1{}}}", "0".repeat(400)),
        ),
        ("big-int.toml", "version = 99999999999999999999\n".into()),
        ("datetime.toml", "version = 1979-05-27T07:32:00Z\n".into()),
        ("bom.json", "\u{feff}{\"version\": 1}".into()),
    ] {
        assert!(
            text.len() <= fanin::inventory::MAX_FILE_BYTES as usize,
            "{name} is too big to test parsing"
        );
        refused(&file_with(dir, name, text), limit);
    }
}

// ---------------------------------------------------------------------------------------------
// Unicode normalization

/// HCL normalizes string literals to Unicode NFC: a tag written in another normalization form
/// would reach AWS changed, and two tag keys that differ only in normalization (`Å` U+00C5 and
/// `Å` U+212B ANGSTROM SIGN) would become one key, a value silently dropped; AWS also refuses
/// combining marks. The inventory refuses both, naming the tag.
#[test]
fn refuses_tag_text_the_engine_would_change() {
    let temp = tempfile::tempdir().unwrap();
    let inventory = temp.path().join("fanin.toml");
    let example = fs::read_to_string(common::repo().join("examples/minimal/fanin.toml")).unwrap();
    let tags = "[tags] # default_tags of every provider\n\"\u{c5}\" = \"a\"\n\"\u{212b}\" = \"b\"\nX = \"\u{3b1}\u{345}\"\n";
    let text = example.replacen("[tags] # default_tags of every provider\n", tags, 1);
    assert_ne!(text, example);
    fs::write(&inventory, text).unwrap();
    let problems = fanin::generate(&inventory).expect_err("not-NFC tag text must be refused");
    let fields: Vec<&str> = problems.0.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["tags.\"\u{212b}\"", "tags.X"], "{problems}");
    for d in &problems.0 {
        assert!(d.message.contains("NFC"), "{d}");
    }
}
