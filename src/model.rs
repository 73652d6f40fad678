//! The model: every decision fanin makes, taken once from a checked inventory. Provider
//! aliases, module names, defaults, partitions and ARNs are fixed here; rendering only prints
//! the model and never looks at the inventory again.

use crate::diagnostics::{Collector, Diagnostics};
use crate::inventory::{self, DeadLetterQueueEncryption, IntakeBus, Inventory, Status};
use crate::regions;
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_NAME_PREFIX: &str = "fanin";
pub const DEFAULT_HUB_NAME: &str = "hub";

/// EventBridge's default quota for an event bus resource policy, in characters.
pub const BUS_POLICY_QUOTA: usize = 10_240;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub name_prefix: String,
    pub partition: &'static str,
    pub hub: Hub,
    /// One per account and region, sorted by alias (hub home region first).
    pub providers: Vec<Provider>,
    /// One per member account and region and per extra hub region, sorted by module name.
    pub spokes: Vec<Spoke>,
    /// Member account ids allowed to put events on the intake bus, sorted.
    pub member_account_ids: Vec<String>,
    /// `default_tags` of every provider, sorted by key.
    pub tags: BTreeMap<String, String>,
    /// Every cross-account target (and the hub's topic targets) parks what it cannot
    /// deliver in an encrypted dead-letter queue.
    pub dead_letter_queues: bool,
    /// How those queues are encrypted.
    pub dead_letter_queue_encryption: QueueEncryption,
    /// Every account (hub first, then members by key) with its lifecycle, for the record of
    /// what was generated and for telling renames and removals apart on the next run.
    pub accounts: Vec<Account>,
    /// What every account needs before the first apply: the role the providers assume.
    pub deploy_role: DeployRole,
}

/// The deploy role's template parameters (deploy-role/fanin-deploy-role.yaml) for this
/// inventory, so that the role grants exactly what its tree creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRole {
    pub external_id: Option<String>,
    pub name_prefix: String,
    /// The template's TopicName: empty when the topic has the default name.
    pub topic_name: String,
    /// One deployment per distinct set of parameters: the hub's first, then the members'.
    pub deployments: Vec<RoleDeployment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDeployment {
    pub hub: bool,
    /// How the providers reach these accounts.
    pub reach: Reach,
    /// The modules create customer-managed KMS keys in these accounts.
    pub manages_keys: bool,
    /// The modules create the account analyzer in these accounts.
    pub creates_analyzer: bool,
    /// `(key, account id)`, in the order of `Model::accounts`.
    pub accounts: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub key: String,
    pub account_id: String,
    pub status: AccountStatus,
    /// Regions with a spoke (the hub's home region included for the hub), sorted.
    pub regions: Vec<String>,
    /// Regions whose spoke is being destroyed; their providers stay. Sorted.
    pub retired_regions: Vec<String>,
    /// fanin creates the account analyzer in this account's spokes (and the hub's).
    pub create_analyzer: bool,
    /// How the providers reach this account, as the deploy role needs to know.
    pub reach: Reach,
}

/// The account with `account_id` was called `from` and is now called `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveRecord {
    pub account_id: String,
    pub from: String,
    pub to: String,
}

/// The module address of the spoke of account `key` in `region`: it depends on nothing else,
/// so adding or removing other accounts never moves a spoke.
pub fn spoke_module_name(key: &str, region: &str) -> String {
    format!("spoke_{}", alias_for(key, region))
}

impl Model {
    /// `(from, to)` module names of the `moved` blocks that kept renames need: one per region
    /// the renamed account has a spoke address in (the hub's home region has none: the hub
    /// module's address does not depend on its name).
    pub fn spoke_moves(&self, moves: &[MoveRecord]) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        for m in moves {
            let Some(account) = self.accounts.iter().find(|a| a.account_id == m.account_id) else {
                continue;
            };
            for region in &account.regions {
                if account.is_hub() && *region == self.hub.region {
                    continue;
                }
                pairs.push((
                    spoke_module_name(&m.from, region),
                    spoke_module_name(&m.to, region),
                ));
            }
        }
        pairs
    }
}

/// An account's place in the fan-in, as the model decides it and the manifest records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountStatus {
    Hub,
    Active,
    /// Its spokes are destroyed; its providers stay until it leaves the inventory.
    Retired,
}

impl Account {
    pub fn is_hub(&self) -> bool {
        self.status == AccountStatus::Hub
    }
}

/// How an account's providers get their credentials, as far as the deploy role is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// They assume the role of this name in the account: the template can create it.
    Role(String),
    /// They assume a role the template cannot create under its name (one with a path).
    OtherRole(String),
    /// They use a profile or the engine's own credentials: no role is assumed.
    Credentials,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hub {
    pub name: String,
    pub account_id: String,
    pub region: String,
    pub provider_alias: String,
    pub use_default_bus: bool,
    pub intake_bus_arn: String,
    pub topic_name: String,
    /// Sorted.
    pub emails: Vec<String>,
    pub create_analyzer: bool,
    /// The topic is encrypted with a customer-managed KMS key.
    pub encrypt_topic: bool,
}

/// How dead-letter queues are encrypted at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueEncryption {
    /// SSE-SQS: SQS-managed keys, no charge, no key policy (the default).
    SqsManaged,
    /// SSE-KMS: a customer-managed key (the hub's, and one per spoke).
    CustomerManagedKey,
}

impl QueueEncryption {
    /// The modules' `dead_letter_queue_encryption` value.
    pub fn module_value(self) -> &'static str {
        match self {
            QueueEncryption::SqsManaged => "sse-sqs",
            QueueEncryption::CustomerManagedKey => "sse-kms",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    AssumeRole {
        role_arn: String,
        external_id: Option<String>,
    },
    Profile(String),
    /// The credentials of the environment that runs the engine.
    Ambient,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub alias: String,
    pub account_key: String,
    pub account_id: String,
    pub region: String,
    pub access: Access,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spoke {
    pub module_name: String,
    pub provider_alias: String,
    pub account_key: String,
    pub account_id: String,
    pub region: String,
    pub create_analyzer: bool,
}

/// Reads, checks and resolves the inventory at `path`.
pub fn load(path: &Path) -> Result<Model, Diagnostics> {
    let inventory = inventory::load(path)?;
    build(&inventory, path)
}

/// A provider alias: the account key and the region, so that it depends on nothing else and
/// never changes when other accounts or regions come and go.
pub fn alias_for(account_key: &str, region: &str) -> String {
    format!("{account_key}_{}", region.replace('-', "_"))
}

pub fn build(inv: &Inventory, path: &Path) -> Result<Model, Diagnostics> {
    let mut d = Collector::new(path);

    let name_prefix = inv
        .settings
        .name_prefix
        .as_ref()
        .map_or(DEFAULT_NAME_PREFIX, |s| &s.value)
        .to_string();
    let partition = regions::partition_of(&inv.hub.region.value)
        .expect("the inventory checks that the hub region is known");
    let default_analyzer = inv.settings.create_analyzer.unwrap_or(true);
    let external_id = inv.settings.external_id.as_ref().map(|s| s.value.clone());
    let role_name = inv.settings.role_name.as_ref().map(|s| s.value.as_str());

    // The inventory refuses an account with both a role ARN and a profile.
    let access_for = |role_arn: &Option<inventory::Spanned<String>>,
                      profile: &Option<inventory::Spanned<String>>,
                      account_id: &str| match (role_arn, profile) {
        (Some(arn), _) => Access::AssumeRole {
            role_arn: arn.value.clone(),
            external_id: external_id.clone(),
        },
        (None, Some(p)) => Access::Profile(p.value.clone()),
        (None, None) => match role_name {
            Some(role) => Access::AssumeRole {
                role_arn: format!("arn:{partition}:iam::{account_id}:role/{role}"),
                external_id: external_id.clone(),
            },
            None => Access::Ambient,
        },
    };

    let hub_name = inv
        .hub
        .name
        .as_ref()
        .map_or(DEFAULT_HUB_NAME, |n| &n.value)
        .to_string();
    let hub_id = inv.hub.account_id.value.clone();
    let hub_region = inv.hub.region.value.clone();
    let use_default_bus = inv.hub.intake_bus == Some(IntakeBus::Default);
    let intake_bus_name = intake_bus_name(&name_prefix, use_default_bus);
    let hub_create_analyzer = inv.hub.create_analyzer.unwrap_or(default_analyzer);
    let hub_access = access_for(&inv.hub.role_arn, &inv.hub.profile, &hub_id);

    let mut providers = Vec::new();
    let mut spokes = Vec::new();
    let hub_alias = alias_for(&hub_name, &hub_region);
    providers.push(Provider {
        alias: hub_alias.clone(),
        account_key: hub_name.clone(),
        account_id: hub_id.clone(),
        region: hub_region.clone(),
        access: hub_access.clone(),
    });
    let mut accounts = Vec::new();
    // A spoke exists for an active region; a retired one keeps only its provider, so that
    // the engine can still reach the account to destroy what the spoke had created.
    let mut add_account = |key: &str,
                           account_id: &str,
                           retired: bool,
                           mut regions: Vec<String>,
                           mut retired_regions: Vec<String>,
                           access: &Access,
                           analyzer: bool| {
        regions.sort();
        retired_regions.sort();
        let is_hub = key == hub_name && account_id == hub_id;
        for region in regions.iter().chain(&retired_regions) {
            if is_hub && *region == hub_region {
                continue; // the hub's home provider is already there
            }
            let alias = alias_for(key, region);
            providers.push(Provider {
                alias: alias.clone(),
                account_key: key.to_string(),
                account_id: account_id.to_string(),
                region: region.to_string(),
                access: access.clone(),
            });
            if !retired && regions.contains(region) {
                spokes.push(Spoke {
                    module_name: spoke_module_name(key, region),
                    provider_alias: alias,
                    account_key: key.to_string(),
                    account_id: account_id.to_string(),
                    region: region.to_string(),
                    create_analyzer: analyzer,
                });
            }
        }
        accounts.push(Account {
            key: key.to_string(),
            account_id: account_id.to_string(),
            status: if is_hub {
                AccountStatus::Hub
            } else if retired {
                AccountStatus::Retired
            } else {
                AccountStatus::Active
            },
            regions,
            retired_regions,
            create_analyzer: analyzer,
            reach: match access {
                Access::AssumeRole { role_arn, .. } => role_arn
                    .strip_prefix(&format!("arn:{partition}:iam::{account_id}:role/"))
                    .filter(|name| !name.contains('/'))
                    .map_or_else(
                        || Reach::OtherRole(role_arn.clone()),
                        |name| Reach::Role(name.to_string()),
                    ),
                Access::Profile(_) | Access::Ambient => Reach::Credentials,
            },
        });
    };
    let values = |list: &[inventory::Spanned<String>]| -> Vec<String> {
        list.iter().map(|r| r.value.clone()).collect()
    };
    let mut hub_regions = values(&inv.hub.regions);
    hub_regions.push(hub_region.clone());
    add_account(
        &hub_name,
        &hub_id,
        false,
        hub_regions,
        values(&inv.hub.retired_regions),
        &hub_access,
        hub_create_analyzer,
    );
    let mut members: Vec<&inventory::Member> = inv.members.iter().collect();
    members.sort_by(|a, b| a.key.value.cmp(&b.key.value));
    for m in members {
        let regions = if m.regions.is_empty() {
            vec![hub_region.clone()]
        } else {
            values(&m.regions)
        };
        add_account(
            &m.key.value,
            &m.account_id.value,
            m.status == Some(Status::Retired),
            regions,
            values(&m.retired_regions),
            &access_for(&m.role_arn, &m.profile, &m.account_id.value),
            m.create_analyzer.unwrap_or(default_analyzer),
        );
    }
    // Hub home provider first, then the rest by alias: a stable order whatever the file order.
    providers[1..].sort_by(|a, b| a.alias.cmp(&b.alias));
    spokes.sort_by(|a, b| a.module_name.cmp(&b.module_name));

    // Keys and regions are checked separately, so in theory two (key, region) pairs could
    // spell the same alias; refuse rather than emit a duplicate provider.
    for pair in providers.windows(2) {
        if pair[0].alias == pair[1].alias {
            d.report(
                "members",
                None,
                format!(
                    "accounts {} and {} would both get the provider alias {}; rename one of the keys",
                    pair[0].account_key, pair[1].account_key, pair[0].alias
                ),
            );
        }
    }
    if providers[1..].iter().any(|p| p.alias == hub_alias) {
        d.report(
            "hub.name",
            inv.hub.name.as_ref().and_then(|n| n.location),
            format!("the hub's provider alias {hub_alias} collides with a member's; rename one"),
        );
    }

    // Only active members may put events on the intake bus: retiring a member removes its
    // permission together with its spokes.
    let mut member_account_ids: Vec<String> = inv
        .members
        .iter()
        .filter(|m| m.status != Some(Status::Retired))
        .map(|m| m.account_id.value.clone())
        .collect();
    member_account_ids.sort();

    let intake_bus_arn =
        format!("arn:{partition}:events:{hub_region}:{hub_id}:event-bus/{intake_bus_name}");
    let policy_len = bus_policy_len(partition, &intake_bus_arn, &member_account_ids);
    if policy_len > BUS_POLICY_QUOTA {
        let fit = members_that_fit(partition, &intake_bus_arn);
        d.report(
            "members",
            None,
            format!(
                "{} members need an intake bus policy of {policy_len} characters, over EventBridge's quota of {BUS_POLICY_QUOTA}; at most {fit} members fit in one intake bus, and fanin gives a hub one intake bus: keep at most {fit} active members per hub (fanin cannot use a raised quota)",
                member_account_ids.len()
            ),
        );
    }

    let mut emails: Vec<String> = inv.notify.emails.iter().map(|e| e.value.clone()).collect();
    emails.sort();
    let topic_name = inv
        .notify
        .topic_name
        .as_ref()
        .map_or_else(|| format!("{name_prefix}-findings"), |t| t.value.clone());
    let tags = inv
        .tags
        .iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect();

    let encrypt_topic = inv.notify.encrypt_topic.unwrap_or(true);
    let dead_letter_queues = inv.settings.dead_letter_queues.unwrap_or(true);
    let dead_letter_queue_encryption = match inv.settings.dead_letter_queue_encryption {
        Some(DeadLetterQueueEncryption::SseKms) => QueueEncryption::CustomerManagedKey,
        Some(DeadLetterQueueEncryption::SseSqs) | None => QueueEncryption::SqsManaged,
    };
    let queue_keys =
        dead_letter_queues && dead_letter_queue_encryption == QueueEncryption::CustomerManagedKey;
    let deploy_role = DeployRole {
        external_id: external_id.clone(),
        name_prefix: name_prefix.clone(),
        topic_name: if topic_name == format!("{name_prefix}-findings") {
            String::new()
        } else {
            topic_name.clone()
        },
        deployments: role_deployments(&accounts, encrypt_topic || queue_keys, queue_keys),
    };

    d.finish()?;
    Ok(Model {
        name_prefix,
        partition,
        hub: Hub {
            name: hub_name,
            account_id: hub_id,
            region: hub_region,
            provider_alias: hub_alias,
            use_default_bus,
            intake_bus_arn,
            topic_name,
            emails,
            create_analyzer: hub_create_analyzer,
            encrypt_topic,
        },
        providers,
        spokes,
        member_account_ids,
        tags,
        dead_letter_queues,
        dead_letter_queue_encryption,
        accounts,
        deploy_role,
    })
}

/// Accounts grouped by the deploy role's parameters: the hub alone, then members that need
/// the same grants together (retired ones too: their resources are destroyed with the role).
fn role_deployments(
    accounts: &[Account],
    hub_manages_keys: bool,
    member_manages_keys: bool,
) -> Vec<RoleDeployment> {
    let mut deployments: Vec<RoleDeployment> = Vec::new();
    for account in accounts {
        let manages_keys = if account.is_hub() {
            hub_manages_keys
        } else {
            member_manages_keys
        };
        let same = deployments.iter_mut().find(|d| {
            !d.hub
                && !account.is_hub()
                && d.reach == account.reach
                && d.manages_keys == manages_keys
                && d.creates_analyzer == account.create_analyzer
        });
        let entry = (account.key.clone(), account.account_id.clone());
        match same {
            Some(deployment) => deployment.accounts.push(entry),
            None => deployments.push(RoleDeployment {
                hub: account.is_hub(),
                reach: account.reach.clone(),
                manages_keys,
                creates_analyzer: account.create_analyzer,
                accounts: vec![entry],
            }),
        }
    }
    deployments
}

/// The name the hub module gives the intake bus (modules/hub/main.tf, `local.intake_bus_name`).
fn intake_bus_name(name_prefix: &str, use_default_bus: bool) -> String {
    if use_default_bus {
        "default".to_string()
    } else {
        format!("{name_prefix}-intake")
    }
}

/// The intake bus policy as modules/hub/main.tf writes it (`aws_cloudwatch_event_bus_policy`,
/// `jsonencode` output: no spaces), with `members` in its principal array.
fn bus_policy(partition: &str, bus_arn: &str, members: &[String]) -> String {
    let principals: Vec<String> = members
        .iter()
        .map(|id| format!(r#""arn:{partition}:iam::{id}:root""#))
        .collect();
    format!(
        r#"{{"Statement":[{{"Action":"events:PutEvents","Effect":"Allow","Principal":{{"AWS":[{}]}},"Resource":"{bus_arn}","Sid":"MemberAccountsPutEvents"}}],"Version":"2012-10-17"}}"#,
        principals.join(",")
    )
}

/// Length of the whole bus policy for these members.
fn bus_policy_len(partition: &str, bus_arn: &str, members: &[String]) -> usize {
    bus_policy(partition, bus_arn, members).len()
}

fn members_that_fit(partition: &str, bus_arn: &str) -> usize {
    // Every principal has the same length (account ids are all 12 digits), plus a comma
    // between two of them.
    let envelope = bus_policy_len(partition, bus_arn, &[]);
    let one = bus_policy_len(partition, bus_arn, &["000000000000".to_string()]) - envelope;
    (BUS_POLICY_QUOTA - envelope + 1) / (one + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_join_key_and_region() {
        assert_eq!(alias_for("prod", "us-east-1"), "prod_us_east_1");
        assert_eq!(alias_for("prod-eu", "eu-west-1"), "prod-eu_eu_west_1");
    }

    #[test]
    fn policy_length_counts_commas_between_principals() {
        let arn = "arn:aws:events:us-east-1:111111111111:event-bus/fanin-intake";
        let none = bus_policy_len("aws", arn, &[]);
        let one = bus_policy_len("aws", arn, &["222222222222".into()]);
        let two = bus_policy_len("aws", arn, &["222222222222".into(), "333333333333".into()]);
        let principal = r#""arn:aws:iam::222222222222:root""#.len();
        assert_eq!(one - none, principal);
        assert_eq!(two - one, principal + 1);
        let fit = members_that_fit("aws", arn);
        let ids: Vec<String> = (0..fit).map(|i| format!("{i:012}")).collect();
        assert!(bus_policy_len("aws", arn, &ids) <= BUS_POLICY_QUOTA);
        let ids: Vec<String> = (0..=fit).map(|i| format!("{i:012}")).collect();
        assert!(bus_policy_len("aws", arn, &ids) > BUS_POLICY_QUOTA);
    }

    #[test]
    fn bus_policy_is_the_json_the_hub_module_writes() {
        let arn = "arn:aws:events:us-east-1:111111111111:event-bus/fanin-intake";
        let policy: serde_json::Value =
            serde_json::from_str(&bus_policy("aws", arn, &["222222222222".into()])).unwrap();
        assert_eq!(
            policy,
            serde_json::json!({
                "Version": "2012-10-17",
                "Statement": [{
                    "Sid": "MemberAccountsPutEvents",
                    "Effect": "Allow",
                    "Principal": {"AWS": ["arn:aws:iam::222222222222:root"]},
                    "Action": "events:PutEvents",
                    "Resource": arn,
                }],
            })
        );
    }
}
