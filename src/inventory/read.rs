//! Typed reading and checking of the document tree. Each function reads one part of the
//! inventory, reports every problem it sees to the collector and returns `None` when the part
//! is unusable, so that one run lists all problems of a file.

use super::checks::{self, KEY_RULE, is_valid_key};
use super::fields::{Read, Table, Text, check_field, path_key, string};
use super::rules::{Seen, SeenAccount, check_across_fields};
use super::tree::{Node, Value};
use super::{
    ArchiveRule, Backend, Criterion, FieldSpec, Findings, FindingsAsRead, Format, Hub, Inventory,
    Kind, Member, Notify, SUPPORTED_VERSION, Section, Settings, Spanned,
};
use crate::diagnostics::{Collector, Location, named};
use std::collections::BTreeMap;

/// The top level's table of fields: the sections, each read by its own function below.
pub(super) fn top_level() -> Section {
    let field = |name, kind, required, doc| FieldSpec {
        name,
        kind,
        required,
        doc,
    };
    Section {
        path: "",
        fields: vec![
            field(
                "version",
                Kind::Version,
                true,
                &[" The inventory format: 1."],
            ),
            field("settings", Kind::Section("settings"), false, &[]),
            field("hub", Kind::Section("hub"), true, &[]),
            field("notify", Kind::Section("notify"), false, &[]),
            field("findings", Kind::Section("findings"), false, &[]),
            field(
                "archive",
                Kind::Sections("archive[]"),
                false,
                &[" Archive rules for every analyzer fanin creates."],
            ),
            field(
                "members",
                Kind::Keyed {
                    section: "members.<key>",
                    key: checks::KEY.schema,
                    each_not_empty: false,
                },
                true,
                &[" The member accounts by key."],
            ),
            field(
                "tags",
                Kind::Tags,
                false,
                &[" Tags on every resource fanin creates."],
            ),
            field("backend", Kind::Section("backend"), false, &[]),
            field(
                "$schema",
                Kind::Text(checks::SCHEMA_REFERENCE.schema),
                false,
                &[
                    " The JSON Schema editors check this file with (`fanin schema` prints it); fanin ignores it.",
                ],
            ),
        ],
    }
}

pub(super) fn inventory(root: &Node, format: Format, d: &mut Collector) -> Option<Inventory> {
    let mut top = Table::open(root, "", d)?;

    let version = top.take("version");
    match version.map(|n| &n.value) {
        None => d.report(
            "version",
            None,
            format!(
                "missing; add `{}` at the top of the inventory",
                format.assignment("version", &SUPPORTED_VERSION.to_string())
            ),
        ),
        Some(Value::Integer(SUPPORTED_VERSION)) => {}
        Some(Value::Integer(other)) => d.report(
            "version",
            version.unwrap().location,
            format!(
                "inventory version {other} is not supported by this fanin; allowed: {SUPPORTED_VERSION}"
            ),
        ),
        Some(other) => d.report(
            "version",
            version.unwrap().location,
            format!("expected the integer {SUPPORTED_VERSION}, found {}", other.kind()),
        ),
    }

    // For editors only; checked so that it stays one line of text, then left alone.
    Read::read(&Text(checks::SCHEMA_REFERENCE), &mut top, "$schema", d);

    let settings = match top.take("settings") {
        Some(node) => settings(node, d),
        None => Some(Settings::default()),
    };
    let mut seen = Seen::default();
    let hub = match top.take("hub") {
        Some(node) => hub(node, &mut seen, d),
        None => {
            d.report(
                "hub",
                None,
                format!(
                    "missing; the inventory needs a hub table with account_id and region: {}",
                    format.table(&["hub"])
                ),
            );
            None
        }
    };
    let notify = match top.take("notify") {
        Some(node) => notify(node, d),
        None => Some(Notify::default()),
    };
    let findings = match top.take("findings") {
        Some(node) => findings(node, d),
        None => Some(Findings::default()),
    };
    let archive = match top.take("archive") {
        Some(node) => archive(node, format, d),
        None => Some(Vec::new()),
    };
    let members = match top.take("members") {
        Some(node) => members(node, format, &mut seen, d),
        None => {
            d.report(
                "members",
                None,
                format!(
                    "missing; list at least one member account as {}",
                    format.table(&["members", "<key>"])
                ),
            );
            None
        }
    };
    let tags = match top.take("tags") {
        Some(node) => tags(node, d),
        None => Some(Vec::new()),
    };
    let backend = match top.take("backend") {
        Some(node) => backend(node, d).map(Some),
        None => Some(None),
    };
    top.finish(&top_level().names(), d);

    let (members, members_ok) = members.unwrap_or_default();
    check_across_fields(&seen, d);
    Some(Inventory {
        settings: settings?,
        hub: hub?,
        notify: notify?,
        findings: findings?,
        archive: archive?,
        members: members_ok.then_some(members)?,
        tags: tags?,
        backend: backend?,
    })
}

fn settings(node: &Node, d: &mut Collector) -> Option<Settings> {
    let mut t = Table::open(node, "settings", d)?;
    Settings::read(&mut t, d).complete()
}

fn hub(node: &Node, seen: &mut Seen, d: &mut Collector) -> Option<Hub> {
    let mut t = Table::open(node, "hub", d)?;
    let hub = Hub::read(&mut t, d);
    one_way_to_reach(&t, d);
    seen.hub_name = hub.name.clone().flatten().map(|n| n.value);
    seen.hub_region = hub.region.clone();
    seen.hub = Some(SeenAccount {
        path: "hub".to_string(),
        key: None,
        account_id: hub.account_id.clone(),
        regions: hub.regions.clone().unwrap_or_default(),
        regions_written: true,
        retired_regions: hub.retired_regions.clone().unwrap_or_default(),
        role_arn: hub.role_arn.clone().flatten(),
    });
    hub.complete()
}

fn notify(node: &Node, d: &mut Collector) -> Option<Notify> {
    let mut t = Table::open(node, "notify", d)?;
    let notify = Notify::read(&mut t, d);
    each_address_once(notify.emails.as_deref().unwrap_or_default(), d);
    notify.complete()
}

fn each_address_once(emails: &[Spanned<String>], d: &mut Collector) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, email) in emails.iter().enumerate() {
        if let Some(first) = seen.insert(email.value.to_ascii_lowercase(), i) {
            d.report(
                &format!("notify.emails[{i}]"),
                email.location,
                format!(
                    "`{}` is listed twice (also notify.emails[{first}]); each address gets one subscription",
                    email.value
                ),
            );
        }
    }
}

fn findings(node: &Node, d: &mut Collector) -> Option<Findings> {
    let mut t = Table::open(node, "findings", d)?;
    let findings = Findings::read(&mut t, d);
    filters_meet_their_sources(&findings, d);
    findings.complete()
}

/// The sources `findings.statuses` and `findings.resource_types` filter.
pub(super) const ACCESS_ANALYZER_SOURCES: [&str; 3] =
    ["external-access", "unused-access", "internal-access"];
/// The sources `findings.min_severity` filters.
pub(super) const SEVERITY_SOURCES: [&str; 2] = ["guardduty", "security-hub"];

/// A filter written for sources that are not forwarded filters nothing: the user meant
/// something else, so it is refused rather than ignored.
fn filters_meet_their_sources(findings: &FindingsAsRead, d: &mut Collector) {
    // Unreadable sources are reported already; leaving them out means external access.
    let Some(sources) = &findings.sources else {
        return;
    };
    let forwards = |wanted: &[&str]| {
        if sources.is_empty() {
            wanted.contains(&"external-access")
        } else {
            sources.iter().any(|s| wanted.contains(&s.value.as_str()))
        }
    };
    for (field, list) in [
        ("statuses", &findings.statuses),
        ("resource_types", &findings.resource_types),
    ] {
        if let Some(first) = list.as_ref().and_then(|l| l.first())
            && !forwards(&ACCESS_ANALYZER_SOURCES)
        {
            d.report(
                &format!("findings.{field}"),
                first.location,
                "filters Access Analyzer findings, and findings.sources has none; add \"external-access\", \"unused-access\" or \"internal-access\" to sources, or leave it out".to_string(),
            );
        }
    }
    if let Some(Some(severity)) = &findings.min_severity
        && !forwards(&SEVERITY_SOURCES)
    {
        d.report(
            "findings.min_severity",
            severity.location,
            "filters GuardDuty and Security Hub findings, and findings.sources has neither; add \"guardduty\" or \"security-hub\" to sources, or leave it out".to_string(),
        );
    }
}

/// `[[archive]]` entries: each rule read on its own, names unique.
fn archive(node: &Node, format: Format, d: &mut Collector) -> Option<Vec<ArchiveRule>> {
    let Value::Array(items) = &node.value else {
        d.report(
            "archive",
            node.location,
            format!(
                "expected a list of archive rules ({}), found {}",
                match format {
                    Format::Toml => "[[archive]] tables",
                    Format::Yaml => "archive: a list of mappings",
                    Format::Json => "\"archive\": an array of objects",
                },
                node.value.kind()
            ),
        );
        return None;
    };
    let mut rules = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let path = format!("archive[{i}]");
        let rule =
            Table::open(item, &path, d).and_then(|mut t| ArchiveRule::read(&mut t, d).complete());
        match rule {
            Some(rule) => rules.push(rule),
            None => ok = false,
        }
    }
    for (i, rule) in rules.iter().enumerate() {
        let name = rule.name.value.to_ascii_lowercase();
        if let Some(first) = rules[..i]
            .iter()
            .position(|r| r.name.value.to_ascii_lowercase() == name)
        {
            d.report(
                &format!("archive[{i}].name"),
                rule.name.location,
                format!(
                    "archive rule {} is named twice (also archive[{first}]); each rule needs a name of its own in every analyzer",
                    named(&rule.name.value)
                ),
            );
        }
    }
    ok.then_some(rules)
}

/// The most values a criterion compares with (CreateArchiveRule: `eq`, `neq` and
/// `contains` hold 1 to 20 items).
const MAX_FILTER_VALUES: usize = 20;

/// A criterion's `eq`, `neq` or `contains`: when written, 1 to 20 filter values.
pub(super) struct FilterValues;

impl Read for FilterValues {
    type Output = Vec<Spanned<String>>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        let values = t.string_list(name, d, checks::FILTER_VALUE.check);
        t.refuse_count(
            name,
            1..=MAX_FILTER_VALUES,
            |n| format!("has {n} values; allowed: 1 to {MAX_FILTER_VALUES}"),
            d,
        )?;
        Some(values.unwrap_or_default())
    }
    fn kind(&self) -> Kind {
        Kind::TextList {
            item: checks::FILTER_VALUE.schema,
            each_once: false,
            min_items: 1,
            max_items: Some(MAX_FILTER_VALUES),
        }
    }
}

/// An archive rule's `filter`: a table of finding properties, each with its comparisons.
pub(super) struct Filter;

impl Read for Filter {
    type Output = Vec<Criterion>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        let node = t.take_required(name)?;
        let path = t.field(name);
        let example = "filter.resourceType = { eq = [\"AWS::S3::Bucket\"] }";
        let Value::Table(entries) = &node.value else {
            d.report(
                &path,
                node.location,
                format!(
                    "expected a table of finding properties ({example}), found {}",
                    node.value.kind()
                ),
            );
            return None;
        };
        if entries.is_empty() {
            d.report(
                &path,
                node.location,
                format!("is empty: the rule would archive every finding; name at least one finding property, as {example}"),
            );
            return None;
        }
        let mut criteria = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (key, value) in entries {
            let key_location = key.location.or(value.location);
            let criterion_path = format!("{path}.{}", path_key(&key.name));
            if let Err(message) = (checks::FILTER_KEY.check)(&key.name) {
                d.report(&criterion_path, key_location, message);
                ok = false;
            }
            let Some(mut ct) = Table::open(value, &criterion_path, d) else {
                ok = false;
                continue;
            };
            let read = Criterion::read(&mut ct, d);
            ok &= comparisons_written(&ct, &criterion_path, value, d);
            let property = Spanned {
                value: key.name.clone(),
                location: key_location,
            };
            match read.complete(property) {
                Some(criterion) => criteria.push(criterion),
                None => ok = false,
            }
        }
        ok.then_some(criteria)
    }
    fn kind(&self) -> Kind {
        Kind::Keyed {
            section: "archive[].filter.<property>",
            key: checks::FILTER_KEY.schema,
            // comparisons_written
            each_not_empty: true,
        }
    }
    fn required(&self) -> bool {
        true
    }
}

/// A criterion compares: at least one of its fields (eq, neq, contains, exists) is written.
fn comparisons_written(ct: &Table<'_>, path: &str, node: &Node, d: &mut Collector) -> bool {
    let any = Criterion::NAMES.iter().any(|c| ct.has(c));
    if !any {
        d.report(
            path,
            node.location,
            "compares with nothing; allowed: eq, neq or contains (lists of 1 to 20 values) and exists (true or false)",
        );
    }
    any
}

/// The members that could be read, and whether all could.
fn members(
    node: &Node,
    format: Format,
    seen: &mut Seen,
    d: &mut Collector,
) -> Option<(Vec<Member>, bool)> {
    let member_table = format.table(&["members", "<key>"]);
    let Value::Table(entries) = &node.value else {
        d.report(
            "members",
            node.location,
            format!(
                "expected a table of member accounts ({member_table}), found {}",
                node.value.kind()
            ),
        );
        return None;
    };
    let mut members = Vec::new();
    let mut ok = true;
    for (key, value) in entries {
        let key_location = key.location.or(value.location);
        let key = &key.name;
        let path = format!("members.{}", path_key(key));
        if !is_valid_key(key) {
            d.report(
                &path,
                key_location,
                format!(
                    "{} is not a valid account key; {KEY_RULE} (fanin uses keys as they are written, in provider aliases and module addresses)",
                    named(key)
                ),
            );
            ok = false;
        }
        match member(key, key_location, value, &path, seen, d) {
            Some(m) => members.push(m),
            None => ok = false,
        }
    }
    if entries.is_empty() {
        d.report(
            "members",
            node.location,
            format!("no member accounts; list at least one as {member_table}"),
        );
    }
    Some((members, ok))
}

fn member(
    key: &str,
    key_location: Option<Location>,
    node: &Node,
    path: &str,
    seen: &mut Seen,
    d: &mut Collector,
) -> Option<Member> {
    let mut t = Table::open(node, path, d)?;
    let member = Member::read(&mut t, d);
    one_way_to_reach(&t, d);
    let key = Spanned {
        value: key.to_string(),
        location: key_location,
    };
    seen.members.push(SeenAccount {
        path: path.to_string(),
        key: Some(key.clone()),
        account_id: member.account_id.clone(),
        regions: member.regions.clone().unwrap_or_default(),
        regions_written: t.has("regions"),
        retired_regions: member.retired_regions.clone().unwrap_or_default(),
        role_arn: member.role_arn.clone().flatten(),
    });
    member.complete(key)
}

fn backend(node: &Node, d: &mut Collector) -> Option<Backend> {
    let mut t = Table::open(node, "backend", d)?;
    let backend = Backend::read(&mut t, d);
    one_way_to_reach(&t, d);
    // Two runs on one unlocked state can each write it and lose the other's resources.
    if let Some((_, node)) = t.peek("use_lockfile")
        && node.value == Value::Bool(false)
        && !t.has("dynamodb_table")
    {
        d.report(
            &t.field("use_lockfile"),
            node.location,
            "the state would have no lock; allowed: use_lockfile = true (the default), or a dynamodb_table",
        );
    }
    backend.complete()
}

/// `role_arn` or `profile`, never both.
fn one_way_to_reach(t: &Table<'_>, d: &mut Collector) {
    if t.has("role_arn")
        && let Some((key, node)) = t.peek("profile")
    {
        d.report(
            &t.field("profile"),
            key.location.or(node.location),
            "role_arn and profile are both set; choose one way to reach the account",
        );
    }
}

fn tags(node: &Node, d: &mut Collector) -> Option<Vec<(Spanned<String>, Spanned<String>)>> {
    let Value::Table(entries) = &node.value else {
        d.report(
            "tags",
            node.location,
            format!(
                "expected a table of tag names to values, found {}",
                node.value.kind()
            ),
        );
        return None;
    };
    let mut tags = Vec::new();
    for (key, value) in entries {
        let key_location = key.location.or(value.location);
        let key = &key.name;
        let path = format!("tags.{}", path_key(key));
        if let Err(message) = (checks::TAG_KEY.check)(key) {
            d.report(&path, key_location, message);
        }
        if let Some(v) = string(value, &path, d)
            && check_field(&path, &v, d, checks::TAG_VALUE.check)
        {
            tags.push((
                Spanned {
                    value: key.clone(),
                    location: key_location,
                },
                v,
            ));
        }
    }
    if entries.len() > MAX_TAGS {
        d.report(
            "tags",
            node.location,
            format!(
                "{} tags; AWS allows at most {MAX_TAGS} on a resource",
                entries.len()
            ),
        );
    }
    Some(tags)
}

/// AWS's limit of user tags per resource; default_tags apply to every resource.
pub(super) const MAX_TAGS: usize = 50;
