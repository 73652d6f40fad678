//! Typed reading and checking of the document tree. Each function reads one part of the
//! inventory, reports every problem it sees to the collector and returns `None` when the part
//! is unusable, so that one run lists all problems of a file.

use super::tree::{Key, Node, Value};
use super::{
    Access, DeadLetterQueueEncryption, Format, Hub, IntakeBus, Inventory, Member, Notify,
    SUPPORTED_VERSION, Settings, Spanned, Status,
};
use crate::diagnostics::{Collector, Location, did_you_mean, named, shown};
use crate::regions;
use std::collections::BTreeMap;

pub const MAX_KEY_LEN: usize = 40;

/// Account keys and the hub name become parts of HCL identifiers (provider aliases, module
/// names), so they must already be identifiers: fanin never renames silently.
pub fn is_valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    key.len() <= MAX_KEY_LEN
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

const KEY_RULE: &str = "allowed: a lowercase letter, then lowercase letters, digits, `_` or `-`, at most 40 characters";

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
    top.finish(
        &["version", "settings", "hub", "notify", "members", "tags"],
        d,
    );

    let (members, members_ok) = members.unwrap_or_default();
    check_across_fields(&seen, d);
    Some(Inventory {
        settings: settings?,
        hub: hub?,
        notify: notify?,
        members: members_ok.then_some(members)?,
        tags: tags?,
    })
}

fn settings(node: &Node, d: &mut Collector) -> Option<Settings> {
    let mut t = Table::open(node, "settings", d)?;
    let s = Settings {
        name_prefix: t.checked_string("name_prefix", d, check_name_prefix),
        role_name: t.checked_string("role_name", d, check_role_name),
        external_id: t.checked_string("external_id", d, check_external_id),
        create_analyzer: t.bool("create_analyzer", d),
        dead_letter_queues: t.bool("dead_letter_queues", d),
        dead_letter_queue_encryption: t
            .checked_string("dead_letter_queue_encryption", d, |v| match v {
                "sse-sqs" | "sse-kms" => Ok(()),
                _ => Err("unknown encryption; allowed: \"sse-sqs\" (SQS-managed keys, the default: no charge) or \"sse-kms\" (a customer-managed KMS key in every account and region that has a queue: 1 USD a month each, up to 3 with rotations)".into()),
            })
            .map(|s| match s.value.as_str() {
                "sse-kms" => DeadLetterQueueEncryption::SseKms,
                _ => DeadLetterQueueEncryption::SseSqs,
            }),
    };
    t.finish(
        &[
            "name_prefix",
            "role_name",
            "external_id",
            "create_analyzer",
            "dead_letter_queues",
            "dead_letter_queue_encryption",
        ],
        d,
    );
    Some(s)
}

fn hub(node: &Node, seen: &mut Seen, d: &mut Collector) -> Option<Hub> {
    let mut t = Table::open(node, "hub", d)?;
    let name = t.checked_string("name", d, check_key);
    let account_id = t.required_string("account_id", d, check_account_id);
    let region = t.required_string("region", d, check_region);
    let regions = t.regions("regions", d);
    let retired_regions = t.regions("retired_regions", d);
    let (access, role_arn) = t.access(d);
    seen.hub_name = name.as_ref().map(|n| n.value.clone());
    seen.hub_region = region.clone();
    seen.hub = Some(SeenAccount {
        path: "hub".to_string(),
        key: None,
        account_id: account_id.clone(),
        regions: regions.clone().unwrap_or_default(),
        regions_written: true,
        retired_regions: retired_regions.clone().unwrap_or_default(),
        role_arn,
    });
    let intake_bus = t
        .checked_string("intake_bus", d, |v| match v {
            "default" | "dedicated" => Ok(()),
            _ => Err("unknown intake bus; allowed: \"dedicated\" (a bus of its own, the default) or \"default\" (the hub's default bus)".into()),
        })
        .map(|s| match s.value.as_str() {
            "default" => IntakeBus::Default,
            _ => IntakeBus::Dedicated,
        });
    let create_analyzer = t.bool("create_analyzer", d);
    t.finish(
        &[
            "name",
            "account_id",
            "region",
            "regions",
            "retired_regions",
            "role_arn",
            "profile",
            "intake_bus",
            "create_analyzer",
        ],
        d,
    );
    Some(Hub {
        name,
        account_id: account_id?,
        region: region?,
        regions: regions.unwrap_or_default(),
        retired_regions: retired_regions.unwrap_or_default(),
        access: access?,
        intake_bus,
        create_analyzer,
    })
}

fn notify(node: &Node, d: &mut Collector) -> Option<Notify> {
    let mut t = Table::open(node, "notify", d)?;
    let emails = t.string_list("emails", d, check_email);
    let topic_name = t.checked_string("topic_name", d, check_topic_name);
    let encrypt_topic = t.bool("encrypt_topic", d);
    t.finish(&["emails", "topic_name", "encrypt_topic"], d);
    let emails = emails.unwrap_or_default();
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
    Some(Notify {
        emails,
        topic_name,
        encrypt_topic,
    })
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
    let account_id = t.required_string("account_id", d, check_account_id);
    let regions_written = t.has("regions");
    let regions = t.regions("regions", d);
    let retired_regions = t.regions("retired_regions", d);
    let (access, role_arn) = t.access(d);
    seen.members.push(SeenAccount {
        path: path.to_string(),
        key: Some(Spanned {
            value: key.to_string(),
            location: key_location,
        }),
        account_id: account_id.clone(),
        regions: regions.clone().unwrap_or_default(),
        regions_written,
        retired_regions: retired_regions.clone().unwrap_or_default(),
        role_arn,
    });
    let status = t
        .checked_string("status", d, |v| match v {
            "active" | "retired" => Ok(()),
            _ => Err(format!(
                "{} is not a status; allowed: \"active\" (the default) or \"retired\" (destroy this account's resources, keep its providers until it leaves the inventory)",
                shown(v)
            )),
        })
        .map_or(Status::Active, |s| match s.value.as_str() {
            "retired" => Status::Retired,
            _ => Status::Active,
        });
    let create_analyzer = t.bool("create_analyzer", d);
    t.finish(
        &[
            "account_id",
            "regions",
            "retired_regions",
            "status",
            "role_arn",
            "profile",
            "create_analyzer",
        ],
        d,
    );
    // An empty list as written (not one whose items were all refused above).
    if let Value::Table(entries) = &node.value
        && let Some((_, list)) = entries.iter().find(|(k, _)| k.name == "regions")
        && matches!(&list.value, Value::Array(items) if items.is_empty())
    {
        d.report(
            &format!("{path}.regions"),
            list.location,
            "is empty; list at least one region, or leave it out to use the hub's home region",
        );
    }
    Some(Member {
        key: Spanned {
            value: key.to_string(),
            location: key_location,
        },
        account_id: account_id?,
        regions: regions.unwrap_or_default(),
        retired_regions: retired_regions.unwrap_or_default(),
        status,
        access: access?,
        create_analyzer,
    })
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
        if let Err(message) = check_tag_key(key) {
            d.report(&path, key_location, message);
        }
        if let Some(v) = string(value, &path, d)
            && check_field(&path, &v, d, check_tag_value)
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
const MAX_TAGS: usize = 50;

/// What the rules across fields look at, each field as far as it could be read on its own:
/// collected while reading, so those rules run whatever else in the file is broken.
#[derive(Default)]
struct Seen {
    hub: Option<SeenAccount>,
    hub_name: Option<String>,
    hub_region: Option<Spanned<String>>,
    members: Vec<SeenAccount>,
}

/// The hub or one member, as far as each field could be read (lists: their valid entries).
struct SeenAccount {
    /// `hub` or `members.<key>`.
    path: String,
    /// A member's key.
    key: Option<Spanned<String>>,
    account_id: Option<Spanned<String>>,
    regions: Vec<Spanned<String>>,
    /// Whether `regions` was written (a member without it uses the hub's home region).
    regions_written: bool,
    retired_regions: Vec<Spanned<String>>,
    role_arn: Option<Spanned<String>>,
}

/// Rules that look at more than one field: duplicates and consistency. They run on every
/// part that could be read, even when other parts have problems, so that one run reports
/// everything.
fn check_across_fields(seen: &Seen, d: &mut Collector) {
    let accounts = || seen.hub.iter().chain(&seen.members);

    // The same account twice would get two providers and two spokes fighting over one account.
    let mut owners: BTreeMap<&str, String> = BTreeMap::new();
    for account in accounts() {
        let Some(id) = &account.account_id else {
            continue;
        };
        let path = format!("{}.account_id", account.path);
        match owners.get(id.value.as_str()) {
            Some(first) => d.report(
                &path,
                id.location,
                format!(
                    "account id {} is already used by {first}; each account appears once",
                    id.value
                ),
            ),
            None => {
                owners.insert(&id.value, path);
            }
        }
    }

    let hub_name = seen.hub_name.as_deref().unwrap_or("hub");
    for m in &seen.members {
        if let Some(key) = &m.key
            && key.value == hub_name
        {
            d.report(
                &m.path,
                key.location,
                format!(
                    "the key `{hub_name}` is the hub's name (hub.name); account keys must differ from it"
                ),
            );
        }
    }

    // The rules below compare with the hub's home region.
    let Some(home) = seen.hub_region.as_ref().map(|r| r.value.as_str()) else {
        return;
    };

    // EventBridge cannot deliver across partitions (aws, aws-cn, aws-us-gov).
    let hub_partition = regions::partition_of(home).unwrap_or("aws");
    for account in accounts() {
        for (list, name) in [
            (&account.regions, "regions"),
            (&account.retired_regions, "retired_regions"),
        ] {
            for (i, region) in list.iter().enumerate() {
                if let Some(p) = regions::partition_of(&region.value)
                    && p != hub_partition
                {
                    d.report(
                        &format!("{}.{name}[{i}]", account.path),
                        region.location,
                        format!(
                            "region {} is in partition {p}, the hub's home region {home} is in {hub_partition}; events cannot cross partitions",
                            region.value
                        ),
                    );
                }
            }
        }
    }

    for account in accounts() {
        // The hub always forwards from its home region; a member without regions uses it.
        let implied = (account.key.is_none() || !account.regions_written).then_some(home);
        for (i, r) in account.retired_regions.iter().enumerate() {
            if account.regions.iter().any(|a| a.value == r.value) || implied == Some(&r.value) {
                d.report(
                    &format!("{}.retired_regions[{i}]", account.path),
                    r.location,
                    format!(
                        "region {} is both in use and retired; a retired region is removed from regions",
                        r.value
                    ),
                );
            }
        }
    }

    if let Some(hub) = &seen.hub {
        for (i, r) in hub.regions.iter().enumerate() {
            if r.value == home {
                d.report(
                    &format!("hub.regions[{i}]"),
                    r.location,
                    format!(
                        "{} is the hub's home region (hub.region); hub.regions lists only the other regions to forward from",
                        r.value
                    ),
                );
            }
        }
    }

    for account in accounts() {
        let Some(arn) = &account.role_arn else {
            continue;
        };
        let path = format!("{}.role_arn", account.path);
        if let Some(id) = &account.account_id
            && let Some(arn_account) = role_arn_account(&arn.value)
            && arn_account != id.value
        {
            d.report(
                &path,
                arn.location,
                format!(
                    "role ARN is in account {arn_account} but account_id is {}; the provider would be refused by allowed_account_ids",
                    id.value
                ),
            );
        }
        let arn_partition = arn.value.split(':').nth(1).unwrap_or_default();
        if arn_partition != hub_partition {
            d.report(
                &path,
                arn.location,
                format!(
                    "role ARN is in partition {arn_partition} but the hub's home region {home} is in {hub_partition}; allowed: arn:{hub_partition}:iam::<account id>:role/<name>"
                ),
            );
        }
    }
}

/// A key as it appears in a field path: bare when TOML would write it bare (`tags.Owner`),
/// quoted otherwise (`tags."Cost Center"`).
fn path_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// A table being read: remembers which keys were used so the rest can be reported as unknown.
struct Table<'a> {
    path: String,
    location: Option<Location>,
    entries: &'a [(Key, Node)],
    used: Vec<bool>,
    /// Required fields that are absent.
    missing: Vec<String>,
}

impl<'a> Table<'a> {
    fn open(node: &'a Node, path: &str, d: &mut Collector) -> Option<Table<'a>> {
        match &node.value {
            Value::Table(entries) => Some(Table {
                path: path.to_string(),
                location: node.location,
                entries,
                used: vec![false; entries.len()],
                missing: Vec::new(),
            }),
            other => {
                let what = if path.is_empty() {
                    "the inventory"
                } else {
                    path
                };
                d.report(
                    path,
                    node.location,
                    format!("expected {what} to be a table, found {}", other.kind()),
                );
                None
            }
        }
    }

    fn take(&mut self, key: &str) -> Option<&'a Node> {
        let i = self.entries.iter().position(|(k, _)| k.name == key)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    fn has(&self, key: &str) -> bool {
        self.entries.iter().any(|(k, _)| k.name == key)
    }

    fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Reports unknown fields (with the allowed field each is a near miss of) and missing
    /// required fields, except one an unknown field already names (`regoin` for `region`:
    /// "missing" on top would only repeat it).
    fn finish(self, allowed: &[&str], d: &mut Collector) {
        let unknown = |key: &Key| !allowed.contains(&key.name.as_str());
        for missing in &self.missing {
            let misspelt = self.entries.iter().zip(&self.used).any(|((key, _), used)| {
                !used && unknown(key) && !did_you_mean(&key.name, [missing.as_str()]).is_empty()
            });
            if !misspelt {
                // Point at the table that lacks it.
                d.report(
                    &self.field(missing),
                    self.location,
                    "missing; this field is required",
                );
            }
        }
        for ((key, node), used) in self.entries.iter().zip(&self.used) {
            if !used {
                d.report(
                    &join(&self.path, &path_key(&key.name)),
                    key.location.or(node.location),
                    format!(
                        "unknown field {}{}; allowed: {}",
                        named(&key.name),
                        did_you_mean(&key.name, allowed.iter().copied()),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn checked_string(
        &mut self,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Spanned<String>> {
        let node = self.take(key)?;
        let path = self.field(key);
        let value = string(node, &path, d)?;
        check_field(&path, &value, d, check).then_some(value)
    }

    /// A string that must be present; `None` (after a report) when missing or invalid.
    fn required_string(
        &mut self,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Spanned<String>> {
        if !self.has(key) {
            // Reported by `finish`, which knows whether it was misspelt.
            self.missing.push(key.to_string());
            return None;
        }
        self.checked_string(key, d, check)
    }

    fn bool(&mut self, key: &str, d: &mut Collector) -> Option<bool> {
        let node = self.take(key)?;
        match node.value {
            Value::Bool(b) => Some(b),
            ref other => {
                d.report(
                    &self.field(key),
                    node.location,
                    format!("expected true or false, found {}", other.kind()),
                );
                None
            }
        }
    }

    fn string_list(
        &mut self,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Vec<Spanned<String>>> {
        let node = self.take(key)?;
        let path = self.field(key);
        let Value::Array(items) = &node.value else {
            d.report(
                &path,
                node.location,
                format!("expected a list of strings, found {}", node.value.kind()),
            );
            return None;
        };
        let mut values = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            if let Some(v) = string(item, &item_path, d)
                && check_field(&item_path, &v, d, &check)
            {
                values.push(v);
            }
        }
        Some(values)
    }

    /// A region list: every entry a known region, none twice.
    fn regions(&mut self, key: &str, d: &mut Collector) -> Option<Vec<Spanned<String>>> {
        let path = self.field(key);
        let regions = self.string_list(key, d, check_region)?;
        for (i, r) in regions.iter().enumerate() {
            if let Some(first) = regions[..i].iter().position(|p| p.value == r.value) {
                d.report(
                    &format!("{path}[{i}]"),
                    r.location,
                    format!(
                        "region {} is listed twice (also {path}[{first}]); list each region once",
                        r.value
                    ),
                );
            }
        }
        Some(regions)
    }

    /// `role_arn` or `profile`, never both (`Some(None)` when neither is set), and the role
    /// ARN when it could be read, for the checks across fields.
    fn access(&mut self, d: &mut Collector) -> (Option<Option<Access>>, Option<Spanned<String>>) {
        let role_present = self.has("role_arn");
        let profile_present = self.has("profile");
        let role = self.checked_string("role_arn", d, check_role_arn);
        let profile = self.checked_string("profile", d, check_profile);
        let both = role_present && profile_present;
        if both {
            let location = self
                .entries
                .iter()
                .find(|(k, _)| k.name == "profile")
                .and_then(|(k, n)| k.location.or(n.location));
            d.report(
                &self.field("profile"),
                location,
                "role_arn and profile are both set; choose one way to reach the account",
            );
        }
        let unreadable = (role_present && role.is_none()) || (profile_present && profile.is_none());
        let access = (!both && !unreadable).then(|| {
            role.clone()
                .map(Access::RoleArn)
                .or(profile.map(Access::Profile))
        });
        (access, role)
    }
}

fn string(node: &Node, path: &str, d: &mut Collector) -> Option<Spanned<String>> {
    match &node.value {
        Value::String(s) => Some(Spanned {
            value: s.clone(),
            location: node.location,
        }),
        Value::Integer(_) if path.ends_with("account_id") => {
            d.report(
                path,
                node.location,
                "expected a string of 12 digits, found an integer; quote it (\"012345678901\"): numbers lose leading zeros",
            );
            None
        }
        other => {
            d.report(
                path,
                node.location,
                format!("expected a string, found {}", other.kind()),
            );
            None
        }
    }
}

fn check_field(
    path: &str,
    value: &Spanned<String>,
    d: &mut Collector,
    check: impl Fn(&str) -> Result<(), String>,
) -> bool {
    match check(&value.value) {
        Ok(()) => true,
        Err(message) => {
            d.report(path, value.location, message);
            false
        }
    }
}

fn check_key(v: &str) -> Result<(), String> {
    if is_valid_key(v) {
        Ok(())
    } else {
        Err(format!("{} is not a valid name; {KEY_RULE}", shown(v)))
    }
}

fn check_account_id(v: &str) -> Result<(), String> {
    if v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{} is not an AWS account id; allowed: exactly 12 digits",
            shown(v)
        ))
    }
}

fn check_region(v: &str) -> Result<(), String> {
    if regions::partition_of(v).is_some() {
        return Ok(());
    }
    let what = if regions::looks_like_region(v) {
        "is not a region fanin knows"
    } else {
        "is not a region name"
    };
    Err(format!(
        "{} {what}{}; allowed: {}, {}, {}",
        shown(v),
        did_you_mean(v, regions::all()),
        regions::names_in("aws").join(", "),
        regions::names_in("aws-cn").join(", "),
        regions::names_in("aws-us-gov").join(", ")
    ))
}

fn check_name_prefix(v: &str) -> Result<(), String> {
    let ok = (1..=20).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid name prefix; allowed: 1 to 20 of a-z, 0-9 and -",
            shown(v)
        ))
    }
}

/// IAM role names: 1-64 of letters, digits and `+=,.@_-`.
fn check_role_name(v: &str) -> Result<(), String> {
    if is_iam_name(v, 64) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid IAM role name; allowed: 1 to 64 of letters, digits and +=,.@_-",
            shown(v)
        ))
    }
}

fn is_iam_name(v: &str, max: usize) -> bool {
    (1..=max).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// The account id in `arn:<partition>:iam::<id>:role/<path/name>`, when it has that shape.
fn role_arn_account(v: &str) -> Option<&str> {
    let rest = v.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
        return None;
    }
    let rest = rest.strip_prefix("iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let name_path = resource.strip_prefix("role/")?;
    let valid_account = account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    let valid_name = name_path.split('/').all(|p| is_iam_name(p, 64)) && name_path.len() <= 512;
    (valid_account && valid_name).then_some(account)
}

fn check_role_arn(v: &str) -> Result<(), String> {
    match role_arn_account(v) {
        Some(_) => Ok(()),
        None => Err(format!(
            "{} is not an IAM role ARN; allowed: arn:aws:iam::<12-digit account id>:role/<name> (partition aws, aws-cn or aws-us-gov)",
            shown(v)
        )),
    }
}

/// The external id as STS accepts it: 2-1224 of letters, digits and `+=,.@:/-_`.
fn check_external_id(v: &str) -> Result<(), String> {
    let ok = (2..=1224).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@:/-_".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(
            "is not a valid external id; allowed: 2 to 1224 of letters, digits and +=,.@:/-_"
                .into(),
        )
    }
}

/// Profile names live in the user's AWS config: printable ASCII on one line. Non-ASCII is
/// refused so that no invisible or bidirectional character can hide in a reviewed diff.
fn check_profile(v: &str) -> Result<(), String> {
    let ok = !v.trim().is_empty()
        && v.len() <= 128
        && v.chars().all(|c| c.is_ascii_graphic() || c == ' ');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a usable profile name; allowed: 1 to 128 printable ASCII characters",
            shown(v)
        ))
    }
}

fn check_topic_name(v: &str) -> Result<(), String> {
    let ok = (1..=256).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid SNS topic name; allowed: 1 to 256 of letters, digits, - and _",
            shown(v)
        ))
    }
}

/// A plain address `local@domain.tld` as SNS email subscriptions take it: the local part a
/// dot-atom, the domain DNS labels with a letter-only top level. Stricter than RFC 5322 on
/// purpose: quoted local parts and address literals are not deliverable through SNS.
fn check_email(v: &str) -> Result<(), String> {
    let err = || {
        Err(format!(
            "{} is not a valid email address; allowed: name@example.com",
            shown(v)
        ))
    };
    let Some((local, domain)) = v.rsplit_once('@') else {
        return err();
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&b));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.len())
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
    if local_ok && domain_ok && v.len() <= 254 {
        Ok(())
    } else {
        err()
    }
}

/// AWS tag rules: keys 1-128 and values 0-256 characters of letters, digits, spaces and
/// `_.:/=+-@`; keys starting with `aws:` are reserved. The text must also be in Unicode NFC
/// without combining marks: OpenTofu/Terraform normalise string literals to NFC, so other
/// forms would reach AWS changed (and two keys could silently merge), and AWS refuses marks.
fn is_tag_text(v: &str) -> bool {
    use unicode_normalization::{char::is_combining_mark, is_nfc};
    is_nfc(v)
        && v.chars().all(|c| {
            (c.is_alphanumeric() && !is_combining_mark(c)) || c == ' ' || "_.:/=+-@".contains(c)
        })
}

fn check_tag_key(v: &str) -> Result<(), String> {
    if v.to_ascii_lowercase().starts_with("aws:") {
        return Err("tag keys starting with aws: are reserved by AWS".into());
    }
    if (1..=128).contains(&v.chars().count()) && is_tag_text(v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid tag key; allowed: 1 to 128 letters, digits, spaces and _.:/=+-@ (Unicode in NFC form, no combining marks)",
            shown(v)
        ))
    }
}

fn check_tag_value(v: &str) -> Result<(), String> {
    if v.chars().count() <= 256 && is_tag_text(v) {
        Ok(())
    } else {
        Err(format!(
            "{} is not a valid tag value; allowed: up to 256 letters, digits, spaces and _.:/=+-@ (Unicode in NFC form, no combining marks)",
            shown(v)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_identifier_rule() {
        assert!(is_valid_key("prod"));
        assert!(is_valid_key("prod-eu_2"));
        assert!(!is_valid_key("Prod"));
        assert!(!is_valid_key("2prod"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key(&"a".repeat(41)));
    }

    #[test]
    fn emails() {
        assert!(check_email("secops@example.com").is_ok());
        assert!(check_email("a.b+c@mail.example.co").is_ok());
        for bad in [
            "",
            "a",
            "a@b",
            "@b.com",
            "a@.com",
            "a b@c.com",
            "a@b.c",
            "a..b@c.com",
            "a@b_c.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn role_arns() {
        assert_eq!(
            role_arn_account("arn:aws:iam::111111111111:role/x"),
            Some("111111111111")
        );
        assert_eq!(
            role_arn_account("arn:aws:iam::111111111111:role/path/x"),
            Some("111111111111")
        );
        assert_eq!(role_arn_account("arn:aws:iam::11111111111:role/x"), None);
        assert_eq!(role_arn_account("arn:aws:iam::111111111111:user/x"), None);
        assert_eq!(
            role_arn_account("arn:aws:iam::111111111111:role/x\"y"),
            None
        );
    }
}
