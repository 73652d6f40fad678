//! Drafting an inventory from what a team already has: the profiles of an AWS CLI config
//! file, or a CSV list of accounts. Every profile that names an account (every valid row)
//! becomes a member; every one that cannot be used is reported with the reason, never guessed
//! at.
//!
//! The config file's format is the AWS CLI's (AWS CLI user guide, "Configuration and
//! credential file settings"): `[default]` and `[profile NAME]` sections of `name = value`
//! settings, beside `[sso-session NAME]` and `[services NAME]` sections that are not
//! profiles. A profile names its account with `sso_account_id` (IAM Identity Center) or in
//! the ARN of the role it assumes (`role_arn`).

use super::Format;
use super::checks::{
    KEY_RULE, MAX_KEY_LEN, check_account_id, check_email, check_profile, check_region,
    is_valid_key, role_arn_account,
};
use crate::diagnostics::shown;
use serde::Serialize;
use std::collections::BTreeMap;

/// What the draft is made from, besides the file.
#[derive(Debug, Clone, Default)]
pub struct Choices {
    /// The hub account: its profile in a config file, its key in a CSV file (required).
    pub hub: String,
    /// The hub's home region; without it, the hub profile's `region` (the first of the hub
    /// row's regions).
    pub hub_region: Option<String>,
    /// The regions of every member that lists none (every profile's); without them, such
    /// members default to the hub's home region.
    pub regions: Vec<String>,
    /// Who is notified of findings.
    pub emails: Vec<String>,
}

/// A profile (or row) left out of the draft, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `profile "NAME"`, or `line N ("KEY")` of a CSV list.
    pub what: String,
    pub reason: String,
}

/// A drafted inventory: its text in the requested format, its member count, and what it
/// leaves out.
#[derive(Debug)]
pub struct Draft {
    pub text: String,
    pub members: usize,
    pub skipped: Vec<Skipped>,
}

#[derive(Serialize)]
struct Document {
    version: i64,
    hub: DraftHub,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify: Option<DraftNotify>,
    members: BTreeMap<String, DraftMember>,
}

#[derive(Serialize)]
struct DraftHub {
    name: String,
    account_id: String,
    region: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    regions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
}

#[derive(Serialize)]
struct DraftNotify {
    emails: Vec<String>,
}

#[derive(Serialize)]
struct DraftMember {
    account_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    regions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role_arn: Option<String>,
}

/// One `[default]` or `[profile NAME]` section.
struct Profile<'a> {
    /// Its place among the file's sections, to report in file order.
    place: usize,
    name: &'a str,
    settings: &'a ini::Properties,
}

/// Drafts an inventory in `format` from the text of an AWS CLI config file. `Err` when the
/// file cannot be read as one, or when the choices cannot make a hub: the message says why.
pub fn from_aws_config(config: &str, choices: &Choices, format: Format) -> Result<Draft, String> {
    let parsed = ini::Ini::load_from_str(config).map_err(|e| {
        format!(
            "cannot be read as an AWS CLI config file near line {}: every line is a `[section]`, a `name = value` setting or a `#` comment (the INI reader said: {})",
            e.line,
            e.msg.trim_end_matches('.')
        )
    })?;
    // With the place of the section each is about: reported in file order.
    let mut skipped: Vec<(usize, Skipped)> = Vec::new();
    let profiles = read_profiles(&parsed, &mut skipped);
    let (hub_index, hub) = hub_of(&profiles, choices)?;
    check_choices(choices)?;
    let members = members_of(&profiles, hub_index, &hub, choices, &mut skipped);
    finish(hub, members, choices, skipped, AWS_CONFIG_INTRO, format)
}

/// The regions and addresses given for every draft, checked as the inventory checks them.
fn check_choices(choices: &Choices) -> Result<(), String> {
    for region in &choices.regions {
        check_region(region).map_err(|e| format!("--regions: {e}"))?;
    }
    for email in &choices.emails {
        check_email(email).map_err(|e| format!("--email: {e}"))?;
    }
    Ok(())
}

/// The draft of `hub` and `members`, with what was left out in file order (`skipped` holds
/// each with its place in the file). `Err` when no member is left: an inventory needs one.
fn finish(
    hub: DraftHub,
    members: BTreeMap<String, DraftMember>,
    choices: &Choices,
    mut skipped: Vec<(usize, Skipped)>,
    intro: &[&str],
    format: Format,
) -> Result<Draft, String> {
    let document = Document {
        version: super::SUPPORTED_VERSION,
        hub,
        notify: (!choices.emails.is_empty()).then(|| DraftNotify {
            emails: choices.emails.clone(),
        }),
        members,
    };
    skipped.sort_by_key(|(place, _)| *place);
    let skipped: Vec<Skipped> = skipped.into_iter().map(|(_, s)| s).collect();
    if document.members.is_empty() {
        let left_out: Vec<String> = skipped
            .iter()
            .map(|s| format!("{}: {}", s.what, s.reason))
            .collect();
        return Err(format!(
            "no member account besides the hub; an inventory needs at least one{}",
            if left_out.is_empty() {
                String::new()
            } else {
                format!(" (left out: {})", left_out.join("; "))
            }
        ));
    }
    Ok(Draft {
        text: render(&document, intro, &skipped, format),
        members: document.members.len(),
        skipped,
    })
}

/// The file's profiles, in file order; sections that are not (or not usable as) profiles go
/// to `skipped`. `sso-session` and `services` sections are not profiles and are passed over.
fn read_profiles<'a>(
    parsed: &'a ini::Ini,
    skipped: &mut Vec<(usize, Skipped)>,
) -> Vec<Profile<'a>> {
    let mut profiles: Vec<Profile<'a>> = Vec::new();
    for (place, (section, settings)) in parsed.iter().enumerate() {
        let mut leave_out =
            |profile: &str, reason: &str| skipped.push((place, skip_profile(profile, reason)));
        let Some(section) = section else {
            if !settings.is_empty() {
                skipped.push((
                    place,
                    Skipped {
                        what: "the settings before the first section".into(),
                        reason: "they belong to no profile".into(),
                    },
                ));
            }
            continue;
        };
        let name = match section.trim() {
            "default" => "default",
            other => match other.split_once(char::is_whitespace) {
                Some(("profile", name)) => name.trim(),
                Some(("sso-session" | "services", _)) => continue,
                _ => {
                    skipped.push((
                        place,
                        Skipped {
                            // Escaped like every name from the file: a section name
                            // could hold characters a terminal acts on.
                            what: format!("section {}", shown(&format!("[{}]", section.trim()))),
                            reason: "is not a profile: a config file names profiles `[profile NAME]` (or `[default]`)".into(),
                        },
                    ));
                    continue;
                }
            },
        };
        if profiles.iter().any(|p| p.name == name) {
            leave_out(
                name,
                "is defined twice in the file; keep one section per profile",
            );
            continue;
        }
        profiles.push(Profile {
            place,
            name,
            settings,
        });
    }
    profiles
}

/// The place of `hub` among `names`; else the message `missing` (its `{}` the name given),
/// with the nearest names.
fn find_hub<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    hub: &str,
    missing: &str,
) -> Result<usize, String> {
    names.clone().position(|name| name == hub).ok_or_else(|| {
        missing.replacen("{}", &shown(hub), 1) + &crate::diagnostics::did_you_mean(hub, names)
    })
}

/// The hub, from the profile `--hub` names, and that profile's place in `profiles`.
fn hub_of(profiles: &[Profile<'_>], choices: &Choices) -> Result<(usize, DraftHub), String> {
    let hub_index = find_hub(
        profiles.iter().map(|p| p.name),
        &choices.hub,
        "no profile {} in the file; --hub names the hub account's profile",
    )?;
    let profile = &profiles[hub_index];
    let account_id = account_of(profile)
        .map_err(|reason| format!("the hub profile {} {reason}", shown(profile.name)))?;
    check_profile(profile.name).map_err(|e| format!("the hub profile: {e}"))?;
    let region = match (&choices.hub_region, profile.settings.get("region")) {
        (Some(region), _) => region.clone(),
        (None, Some(region)) => region.trim().to_string(),
        (None, None) => {
            return Err(format!(
                "the hub profile {} sets no region; give the hub's home region with --hub-region",
                shown(profile.name)
            ));
        }
    };
    check_region(&region).map_err(|e| format!("the hub's region: {e}"))?;
    let hub = DraftHub {
        name: key_for(profile.name),
        account_id,
        region,
        regions: Vec::new(),
        profile: Some(profile.name.to_string()),
        role_arn: None,
    };
    Ok((hub_index, hub))
}

/// One member per profile but the hub's that names an account no earlier profile took, under
/// a key no earlier profile took; the others go to `skipped`.
fn members_of(
    profiles: &[Profile<'_>],
    hub_index: usize,
    hub: &DraftHub,
    choices: &Choices,
    skipped: &mut Vec<(usize, Skipped)>,
) -> BTreeMap<String, DraftMember> {
    let mut members = BTreeMap::new();
    // Which profile took each account and each key, to name it when another wants it.
    let hub_profile = hub.profile.as_deref().unwrap_or_default();
    let mut account_taken: BTreeMap<String, &str> = BTreeMap::new();
    let mut key_taken: BTreeMap<String, &str> = BTreeMap::new();
    account_taken.insert(hub.account_id.clone(), hub_profile);
    key_taken.insert(hub.name.clone(), hub_profile);
    for (index, profile) in profiles.iter().enumerate() {
        if index == hub_index {
            continue;
        }
        let mut leave_out =
            |reason: &str| skipped.push((profile.place, skip_profile(profile.name, reason)));
        let account = match account_of(profile) {
            Ok(account) => account,
            Err(reason) => {
                leave_out(&reason);
                continue;
            }
        };
        if let Err(e) = check_profile(profile.name) {
            leave_out(&format!(
                "cannot be written as the way to reach its account: {e}"
            ));
            continue;
        }
        if let Some(first) = account_taken.get(&account) {
            let whose = if *first == hub_profile {
                "the hub's account, reached through"
            } else {
                "already the member reached through"
            };
            leave_out(&format!(
                "names account {account}, {whose} profile {}; one account is one member",
                shown(first)
            ));
            continue;
        }
        let key = key_for(profile.name);
        if let Some(first) = key_taken.get(&key) {
            leave_out(&format!(
                "would be named {key}, like profile {}; rename one of them",
                shown(first)
            ));
            continue;
        }
        account_taken.insert(account.clone(), profile.name);
        key_taken.insert(key.clone(), profile.name);
        members.insert(
            key,
            DraftMember {
                account_id: account,
                regions: choices.regions.clone(),
                profile: Some(profile.name.to_string()),
                role_arn: None,
            },
        );
    }
    members
}

/// The columns a CSV list may have; `key` and `account_id` are required.
const CSV_COLUMNS: [&str; 5] = ["key", "account_id", "regions", "profile", "role_arn"];

/// One row of a CSV list, as written.
struct Row {
    line: u64,
    key: String,
    account_id: String,
    regions: Vec<String>,
    profile: Option<String>,
    role_arn: Option<String>,
}

/// Drafts an inventory in `format` from a CSV list of accounts: a header row naming its
/// columns (`key`, `account_id`, and optionally `regions`, separated by spaces or `;`,
/// `profile` and `role_arn`: how fanin reaches the account), then one row per account, the
/// hub's included (`--hub` gives its key). `#` starts a comment line. `Err` when the header
/// or the hub's row cannot be used.
pub fn from_csv(list: &str, choices: &Choices, format: Format) -> Result<Draft, String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .flexible(true)
        .from_reader(list.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| format!("cannot read the header row: {e}"))?
        .clone();
    for header in &headers {
        if !CSV_COLUMNS.contains(&header) {
            return Err(format!(
                "the header row names a column {}; allowed: {} (key and account_id required)",
                shown(header),
                CSV_COLUMNS.join(", ")
            ));
        }
    }
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(key_column), Some(account_column)) = (column("key"), column("account_id")) else {
        return Err("the header row must name the columns key and account_id".into());
    };
    let cell = |record: &csv::StringRecord, name: &str| {
        column(name)
            .and_then(|i| record.get(i))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let mut skipped: Vec<(usize, Skipped)> = Vec::new();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let what = format!("line {line}");
                skipped.push((
                    line as usize,
                    Skipped {
                        what,
                        reason: e.to_string(),
                    },
                ));
                continue;
            }
        };
        rows.push(Row {
            line: record.position().map_or(0, |p| p.line()),
            key: record.get(key_column).unwrap_or_default().to_string(),
            account_id: record.get(account_column).unwrap_or_default().to_string(),
            regions: cell(&record, "regions")
                .map(|r| {
                    r.split([' ', ';'])
                        .filter(|r| !r.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            profile: cell(&record, "profile"),
            role_arn: cell(&record, "role_arn"),
        });
    }
    let (hub_index, hub) = hub_row(&rows, choices)?;
    check_choices(choices)?;
    let members = member_rows(&rows, hub_index, &hub, choices, &mut skipped);
    finish(hub, members, choices, skipped, CSV_INTRO, format)
}

/// What is wrong with a row, if anything: its key, account id, regions and way of access,
/// each checked as the inventory checks them.
fn row_problem(row: &Row) -> Option<String> {
    if !is_valid_key(&row.key) {
        return Some(format!(
            "key {} is not a valid name; {KEY_RULE}",
            shown(&row.key)
        ));
    }
    if let Err(e) = check_account_id(&row.account_id) {
        return Some(e);
    }
    for (i, region) in row.regions.iter().enumerate() {
        if let Err(e) = check_region(region) {
            return Some(e);
        }
        if row.regions[..i].contains(region) {
            return Some(format!("lists region {region} twice"));
        }
    }
    match (&row.profile, &row.role_arn) {
        (Some(_), Some(_)) => {
            Some("gives both a profile and a role_arn; keep the one fanin should use".into())
        }
        (Some(profile), None) => check_profile(profile).err(),
        (None, Some(arn)) => match role_arn_account(arn) {
            None => Some(format!(
                "role_arn {} is not an IAM role ARN (arn:aws:iam::<12-digit account id>:role/<name>)",
                shown(arn)
            )),
            Some(account) if account != row.account_id => Some(format!(
                "role_arn {} is in account {account}, not {}",
                shown(arn),
                row.account_id
            )),
            Some(_) => None,
        },
        (None, None) => None,
    }
}

/// The hub, from the row whose key `--hub` gives, and that row's place in `rows`.
fn hub_row(rows: &[Row], choices: &Choices) -> Result<(usize, DraftHub), String> {
    let index = find_hub(
        rows.iter().map(|r| r.key.as_str()),
        &choices.hub,
        "no row with the key {}; --hub names the hub's row",
    )?;
    let row = &rows[index];
    if let Some(problem) = row_problem(row) {
        return Err(format!("the hub's row (line {}): {problem}", row.line));
    }
    let region = match (&choices.hub_region, row.regions.first()) {
        (Some(region), _) => region.clone(),
        (None, Some(first)) => first.clone(),
        (None, None) => {
            return Err(format!(
                "the hub's row (line {}) lists no region; list its home region first, or give --hub-region",
                row.line
            ));
        }
    };
    check_region(&region).map_err(|e| format!("the hub's region: {e}"))?;
    let hub = DraftHub {
        name: row.key.clone(),
        account_id: row.account_id.clone(),
        regions: row
            .regions
            .iter()
            .filter(|r| **r != region)
            .cloned()
            .collect(),
        region,
        profile: row.profile.clone(),
        role_arn: row.role_arn.clone(),
    };
    Ok((index, hub))
}

/// One member per row but the hub's that is valid and names an account and a key no earlier
/// row took; the others go to `skipped`.
fn member_rows(
    rows: &[Row],
    hub_index: usize,
    hub: &DraftHub,
    choices: &Choices,
    skipped: &mut Vec<(usize, Skipped)>,
) -> BTreeMap<String, DraftMember> {
    let mut members = BTreeMap::new();
    let hub_line = rows[hub_index].line;
    // The line of the row that took each account and each key.
    let mut account_taken: BTreeMap<&str, u64> =
        BTreeMap::from([(hub.account_id.as_str(), hub_line)]);
    let mut key_taken: BTreeMap<&str, u64> = BTreeMap::from([(hub.name.as_str(), hub_line)]);
    for (index, row) in rows.iter().enumerate() {
        if index == hub_index {
            continue;
        }
        let taken = |line: u64| {
            if line == hub_line {
                "the hub's row".to_string()
            } else {
                format!("line {line}")
            }
        };
        let problem = row_problem(row)
            .or_else(|| {
                account_taken.get(row.account_id.as_str()).map(|line| {
                    format!(
                        "account {} is already on {}; one account is one member",
                        row.account_id,
                        taken(*line)
                    )
                })
            })
            .or_else(|| {
                key_taken
                    .get(row.key.as_str())
                    .map(|line| format!("key {} is already on {}", row.key, taken(*line)))
            });
        if let Some(reason) = problem {
            let what = format!("line {} ({})", row.line, shown(&row.key));
            skipped.push((row.line as usize, Skipped { what, reason }));
            continue;
        }
        account_taken.insert(&row.account_id, row.line);
        key_taken.insert(&row.key, row.line);
        let regions = if row.regions.is_empty() {
            choices.regions.clone()
        } else {
            row.regions.clone()
        };
        members.insert(
            row.key.clone(),
            DraftMember {
                account_id: row.account_id.clone(),
                regions,
                profile: row.profile.clone(),
                role_arn: row.role_arn.clone(),
            },
        );
    }
    members
}

fn skip_profile(profile: &str, reason: &str) -> Skipped {
    Skipped {
        what: format!("profile {}", shown(profile)),
        reason: reason.to_string(),
    }
}

/// The account a profile names: `sso_account_id`, or the account in `role_arn`; both, when
/// they agree.
fn account_of(profile: &Profile<'_>) -> Result<String, String> {
    let sso = profile.settings.get("sso_account_id").map(str::trim);
    let role = profile.settings.get("role_arn").map(str::trim);
    let from_role = match role {
        Some(arn) => Some(role_arn_account(arn).ok_or_else(|| {
            format!(
                "has role_arn {}, which is not an IAM role ARN (arn:aws:iam::<12-digit account id>:role/<name>)",
                shown(arn)
            )
        })?),
        None => None,
    };
    if let Some(id) = sso
        && check_account_id(id).is_err()
    {
        return Err(format!(
            "has sso_account_id {}, which is not an account id (exactly 12 digits)",
            shown(id)
        ));
    }
    match (sso, from_role) {
        (Some(sso), Some(role)) if sso != role => Err(format!(
            "names two accounts, {sso} (sso_account_id) and {role} (role_arn); keep the one fanin should reach"
        )),
        (Some(id), _) | (None, Some(id)) => Ok(id.to_string()),
        (None, None) => Err(
            "names no account (neither sso_account_id nor role_arn): add it to the inventory by hand, with its account_id"
                .into(),
        ),
    }
}

/// The inventory key for a profile name: lowercase, every character a key cannot hold as
/// `-`, a letter first, at most the key length. The profile itself is kept as written.
fn key_for(profile: &str) -> String {
    let mut key: String = profile
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '-') => c,
            _ => '-',
        })
        .collect();
    if !key.starts_with(|c: char| c.is_ascii_lowercase()) {
        key.insert_str(0, "p-");
    }
    key.truncate(MAX_KEY_LEN);
    debug_assert!(is_valid_key(&key), "{key}");
    key
}

const AWS_CONFIG_INTRO: &[&str] = &[
    "fanin inventory drafted by `fanin init --from-aws-config`: one member per profile that",
    "names an account (sso_account_id, or the account of role_arn), reached through that",
    "profile. Review it, then run `fanin generate`.",
];

const CSV_INTRO: &[&str] = &[
    "fanin inventory drafted by `fanin init --from-csv`: one member per row of the list.",
    "Review it, then run `fanin generate`.",
];

/// The draft's text: a comment saying what it was made from and what it leaves out (TOML and
/// YAML; JSON has no comments), then the inventory.
fn render(document: &Document, intro: &[&str], skipped: &[Skipped], format: Format) -> String {
    let mut comment: Vec<String> = intro.iter().map(|line| line.to_string()).collect();
    if !skipped.is_empty() {
        comment.push(String::new());
        comment.push("Left out:".to_string());
        for s in skipped {
            comment.push(format!("- {}: {}", s.what, s.reason));
        }
    }
    let header: String = comment
        .iter()
        .map(|line| {
            let line = line.replace(['\n', '\r'], " ");
            if line.is_empty() {
                "#\n".to_string()
            } else {
                format!("# {line}\n")
            }
        })
        .collect();
    match format {
        Format::Toml => {
            let body = toml::to_string(document).expect("a draft serializes to TOML");
            format!("{header}\n{body}")
        }
        Format::Yaml => {
            let body = serde_saphyr::to_string(document).expect("a draft serializes to YAML");
            let end = if body.ends_with('\n') { "" } else { "\n" };
            format!("{header}\n{body}{end}")
        }
        Format::Json => {
            let body = serde_json::to_string_pretty(document).expect("a draft serializes to JSON");
            format!("{body}\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_valid_for_any_profile_name() {
        for (profile, key) in [
            ("prod", "prod"),
            ("Prod.Admin", "prod-admin"),
            ("123-dev", "p-123-dev"),
            ("team a/ops", "team-a-ops"),
            ("é", "p--"),
        ] {
            assert_eq!(key_for(profile), key);
        }
        assert_eq!(key_for(&"x".repeat(60)).len(), MAX_KEY_LEN);
    }
}
