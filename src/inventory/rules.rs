//! Rules that look at more than one field: duplicates and consistency. They run on every
//! part that could be read, even when other parts have problems, so that one run reports
//! everything. Each rule is one function.

use super::Spanned;
use super::checks::role_arn_account;
use crate::diagnostics::Collector;
use crate::regions;
use std::collections::BTreeMap;

/// What the rules across fields look at, each field as far as it could be read on its own:
/// collected while reading, so those rules run whatever else in the file is broken.
#[derive(Default)]
pub(super) struct Seen {
    pub hub: Option<SeenAccount>,
    pub hub_name: Option<String>,
    pub hub_region: Option<Spanned<String>>,
    pub members: Vec<SeenAccount>,
}

/// The hub or one member, as far as each field could be read (lists: their valid entries).
pub(super) struct SeenAccount {
    /// `hub` or `members.<key>`.
    pub path: String,
    /// A member's key.
    pub key: Option<Spanned<String>>,
    pub account_id: Option<Spanned<String>>,
    pub regions: Vec<Spanned<String>>,
    /// Whether `regions` was written (a member without it uses the hub's home region).
    pub regions_written: bool,
    pub retired_regions: Vec<Spanned<String>>,
    pub role_arn: Option<Spanned<String>>,
}

impl Seen {
    fn accounts(&self) -> impl Iterator<Item = &SeenAccount> {
        self.hub.iter().chain(&self.members)
    }
}

pub(super) fn check_across_fields(seen: &Seen, d: &mut Collector) {
    each_account_once(seen, d);
    member_keys_differ_from_hub_name(seen, d);
    // The rules below compare with the hub's home region.
    let Some(home) = seen.hub_region.as_ref().map(|r| r.value.as_str()) else {
        return;
    };
    regions_in_hub_partition(seen, home, d);
    retired_regions_out_of_use(seen, home, d);
    hub_regions_without_home(seen, home, d);
    role_arns_match_account_and_partition(seen, home, d);
}

/// The same account twice would get two providers and two spokes fighting over one account.
fn each_account_once(seen: &Seen, d: &mut Collector) {
    let mut owners: BTreeMap<&str, String> = BTreeMap::new();
    for account in seen.accounts() {
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
}

/// The hub's name and the member keys share one namespace: provider aliases, module names.
fn member_keys_differ_from_hub_name(seen: &Seen, d: &mut Collector) {
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
}

/// EventBridge cannot deliver across partitions (aws, aws-cn, aws-us-gov).
fn regions_in_hub_partition(seen: &Seen, home: &str, d: &mut Collector) {
    let hub_partition = regions::partition_of(home).unwrap_or("aws");
    for account in seen.accounts() {
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
}

/// A retired region is on its way out: it cannot also be in use.
fn retired_regions_out_of_use(seen: &Seen, home: &str, d: &mut Collector) {
    for account in seen.accounts() {
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
}

/// `hub.regions` lists the hub's other regions; its home region is always used.
fn hub_regions_without_home(seen: &Seen, home: &str, d: &mut Collector) {
    let Some(hub) = &seen.hub else {
        return;
    };
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

/// A role in another account would be refused by `allowed_account_ids`, and one in another
/// partition cannot be assumed from the hub's.
fn role_arns_match_account_and_partition(seen: &Seen, home: &str, d: &mut Collector) {
    let hub_partition = regions::partition_of(home).unwrap_or("aws");
    for account in seen.accounts() {
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
