//! The model: every decision fanin makes, taken once from a checked inventory. Provider
//! aliases, module names, defaults, partitions and ARNs are fixed here; rendering only prints
//! the model and never looks at the inventory again.

use crate::diagnostics::{Collector, Diagnostics};
use crate::inventory::{self, DeadLetterQueueEncryption, Inventory, Status};
use crate::regions;
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_NAME_PREFIX: &str = "fanin";
pub const DEFAULT_HUB_NAME: &str = "hub";

mod buses;
mod findings;

pub use buses::{BUS_POLICY_QUOTA, EarlierBuses, IntakeBus, QUEUE_POLICY_LIMIT, bus_policy};
pub use findings::{ArchiveRule, Criterion, Findings};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    pub name_prefix: String,
    pub partition: &'static str,
    pub hub: Hub,
    pub layout: Layout,
    /// The roots of the tree: one for the single layout, the hub's then one per member (by
    /// account id) for stacks. Each has its providers and spokes.
    pub stacks: Vec<Stack>,
    /// Where every root keeps its state, when the inventory says.
    pub backend: Option<Backend>,
    /// The hub's intake buses by number, the first always there: each admits the active
    /// members assigned to it, and its policy fits `bus_policy_quota`.
    pub intake_buses: Vec<IntakeBus>,
    /// The hub's "Event bus policy size" quota, in characters.
    pub bus_policy_quota: usize,
    /// `default_tags` of every provider, sorted by key.
    pub tags: BTreeMap<String, String>,
    /// Every cross-account target (and the hub's topic targets) parks what it cannot
    /// deliver in an encrypted dead-letter queue.
    pub dead_letter_queues: bool,
    /// How those queues are encrypted.
    pub dead_letter_queue_encryption: QueueEncryption,
    /// Which findings the rules forward, and the archive rules of fanin's analyzers.
    pub findings: Findings,
    /// Every account (hub first, then members by key) with its lifecycle, for the record of
    /// what was generated and for telling renames and removals apart on the next run.
    pub accounts: Vec<Account>,
    /// What every account needs before the first apply: the role the providers assume.
    pub deploy_role: DeployRole,
}

/// How the tree is cut into roots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// One root for every account.
    #[default]
    Single,
    /// A root for the hub and one per member.
    Stacks,
}

impl Layout {
    pub fn is_single(&self) -> bool {
        *self == Layout::Single
    }

    /// As the inventory and the manifest write it.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Single => "single",
            Layout::Stacks => "stacks",
        }
    }
}

/// The path of `file` in the root whose directory is `root` (empty: the tree itself).
pub fn root_path(root: &str, file: &str) -> String {
    if root.is_empty() {
        file.to_string()
    } else {
        format!("{root}/{file}")
    }
}

/// One root of the generated tree and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// Its directory in the tree, `/`-separated: empty for the single layout's root,
    /// `stacks/hub`, `stacks/member-<account id>`. It depends on the account id only, so a
    /// renamed key keeps its directory and its state.
    pub dir: String,
    /// Its name in state keys: `root`, `hub` or `member-<account id>`.
    pub name: String,
    /// The orchestrator's stable id, unique across a repository that holds several trees:
    /// `fanin-<hub account id>-<name prefix>-<name>`.
    pub id: String,
    /// `(key, account id)` of the account this stack is for; `None` for the single root.
    pub account: Option<(String, String)>,
    /// The stack holds the hub module.
    pub hub: bool,
    /// Sorted by alias, the hub's home provider first where the stack has it.
    pub providers: Vec<Provider>,
    /// Sorted by module name.
    pub spokes: Vec<Spoke>,
    /// Directories of the stacks to apply before this one: a member's targets need the hub's
    /// bus policy to list the member.
    pub after: Vec<String>,
}

impl Stack {
    /// `../` from this stack's directory to the tree's root.
    pub fn to_root(&self) -> String {
        if self.dir.is_empty() {
            "./".to_string()
        } else {
            "../".repeat(self.dir.split('/').count())
        }
    }
}

/// The S3 backend every root is written with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub bucket: String,
    pub region: String,
    /// The key pattern; `{stack}` is replaced by each stack's name.
    pub key: String,
    pub use_lockfile: bool,
    pub dynamodb_table: Option<String>,
    pub role_arn: Option<String>,
    pub profile: Option<String>,
}

impl Backend {
    /// The backend as the inventory gives it, with its default lock (a lock file).
    fn from_inventory(b: &inventory::Backend) -> Backend {
        Backend {
            bucket: b.bucket.value.clone(),
            region: b.region.value.clone(),
            key: b.key.value.clone(),
            use_lockfile: b.use_lockfile.unwrap_or(true),
            dynamodb_table: b.dynamodb_table.as_ref().map(|t| t.value.clone()),
            role_arn: b.role_arn.as_ref().map(|r| r.value.clone()),
            profile: b.profile.as_ref().map(|p| p.value.clone()),
        }
    }

    /// The state key of `stack`.
    pub fn key_for(&self, stack: &Stack) -> String {
        self.key
            .replacen(inventory::STACK_PLACEHOLDER, &stack.name, 1)
    }
}

/// The deploy role's template parameters (deploy-role/fanin-deploy-role.yaml) for this
/// inventory, so that the role grants exactly what its tree creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployRole {
    pub external_id: Option<String>,
    pub name_prefix: String,
    /// The template's TopicName: empty when the topic has the default name.
    pub topic_name: String,
    /// The analyzers fanin creates have archive rules to manage.
    pub manages_archive_rules: bool,
    /// The hub keeps EventBridge archives (`[notify] archive_days`).
    pub keeps_archives: bool,
    /// The hub has the findings log group (`[notify] log_days`).
    pub keeps_findings_log: bool,
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
    /// The modules create an unused access analyzer in these accounts.
    pub creates_unused_access_analyzer: bool,
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
    /// The region of the account's unused access analyzer, when fanin creates one (one per
    /// account: it analyzes IAM, which is global): the hub's home region, or a member's first
    /// region in sorted order.
    pub unused_access_analyzer_region: Option<String>,
    /// How the providers reach this account.
    pub access: Access,
    /// The intake bus an active member forwards to (`Model::intake_buses`); none for the hub
    /// and retired members.
    pub intake_bus: Option<u32>,
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
    spoke_module_for(&alias_for(key, region))
}

/// A spoke's module is named after the provider alias it uses, in every layout.
fn spoke_module_for(alias: &str) -> String {
    format!("spoke_{alias}")
}

impl Model {
    /// Every provider of every root.
    pub fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.stacks.iter().flat_map(|s| &s.providers)
    }

    /// `(from, to)` module names of the `moved` blocks that kept renames need: one per region
    /// the renamed account has a spoke address in (the hub's home region has none: the hub
    /// module's address does not depend on its name).
    pub fn spoke_moves(&self, moves: &[MoveRecord]) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if self.layout == Layout::Stacks {
            return pairs; // a stack names its spokes by region alone
        }
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

    /// How the providers reach this account, as the deploy role needs to know: a role of
    /// this account with a plain name (in `partition`), another role, or no role at all.
    pub fn reach(&self, partition: &str) -> Reach {
        match &self.access {
            Access::AssumeRole { role_arn, .. } => role_arn
                .strip_prefix(&format!("arn:{partition}:iam::{}:role/", self.account_id))
                .filter(|name| !name.contains('/'))
                .map_or_else(
                    || Reach::OtherRole(role_arn.clone()),
                    |name| Reach::Role(name.to_string()),
                ),
            Access::Profile(_) | Access::Ambient => Reach::Credentials,
        }
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
    pub topic_name: String,
    /// Sorted.
    pub emails: Vec<String>,
    pub create_analyzer: bool,
    /// The hub's unused access analyzer is created in the hub module (its home region).
    pub create_unused_access_analyzer: bool,
    /// The topic is encrypted with a customer-managed KMS key.
    pub encrypt_topic: bool,
    /// The name of the hub's findings queue, which every finding also goes to; `None`: no
    /// queue.
    pub findings_queue: Option<String>,
    /// The topic gets a line of text per finding instead of the event.
    pub text_messages: bool,
    /// Days the archives of the buses with finding rules keep events; `None`: no archive.
    pub archive_days: Option<u64>,
    /// The log group every finding's event also goes to; `None`: no log group.
    pub findings_log: Option<FindingsLog>,
}

/// The hub's CloudWatch Logs group of findings (`[notify] log_days`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingsLog {
    pub group_name: String,
    pub retention_days: u64,
}

/// The hub module's names for its findings queue and log group (modules/hub/main.tf), which
/// the tree's README gives: a test holds the module to them.
fn findings_queue_name(name_prefix: &str) -> String {
    format!("{name_prefix}-findings")
}

fn findings_log_group_name(name_prefix: &str) -> String {
    format!("/aws/events/{name_prefix}-findings")
}

/// The topic's encryption and the queues, as the inventory asks for them (decided once).
struct Queues {
    encrypt_topic: bool,
    dead_letter_queues: bool,
    dead_letter_queue_encryption: QueueEncryption,
    findings_queue: bool,
    /// Days the findings log group keeps events (it is encrypted with the hub's key).
    log_days: Option<u64>,
}

impl Queues {
    fn from_inventory(inv: &Inventory) -> Queues {
        Queues {
            encrypt_topic: inv.notify.encrypt_topic.unwrap_or(true),
            dead_letter_queues: inv.settings.dead_letter_queues.unwrap_or(true),
            dead_letter_queue_encryption: match inv.settings.dead_letter_queue_encryption {
                Some(DeadLetterQueueEncryption::SseKms) => QueueEncryption::CustomerManagedKey,
                Some(DeadLetterQueueEncryption::SseSqs) | None => QueueEncryption::SqsManaged,
            },
            findings_queue: inv.notify.queue.unwrap_or(false),
            log_days: inv.notify.log_days.as_ref().map(|d| d.value),
        }
    }

    fn queues_use_keys(&self) -> bool {
        self.dead_letter_queue_encryption == QueueEncryption::CustomerManagedKey
    }

    /// The hub has a KMS key: for its topic, for a queue of its (dead-letter or findings
    /// queue) with sse-kms, or for the findings log group.
    fn hub_key(&self) -> bool {
        self.encrypt_topic
            || (self.queues_use_keys() && (self.dead_letter_queues || self.findings_queue))
            || self.log_days.is_some()
    }

    /// Each spoke has a KMS key: for its dead-letter queue with sse-kms.
    fn spoke_keys(&self) -> bool {
        self.queues_use_keys() && self.dead_letter_queues
    }
}

/// How dead-letter queues (and the findings queue) are encrypted at rest.
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
    /// The account's unused access analyzer is created in this spoke.
    pub create_unused_access_analyzer: bool,
    /// The number and ARN of the intake bus it forwards to.
    pub intake_bus: (u32, String),
}

/// One module whose state moves when a tree changes layout: from its address in one root to
/// its address in another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateMove {
    pub from_root: String,
    pub from_module: String,
    pub to_root: String,
    pub to_module: String,
}

/// The module moves that take the state of `before` (one layout of an inventory) to `after`
/// (the other): the hub module, and every spoke by its account and region. Retired accounts
/// and regions have no module, so nothing of theirs moves.
pub fn layout_moves(before: &Model, after: &Model) -> Vec<StateMove> {
    let hub_root = |model: &Model| {
        model
            .stacks
            .iter()
            .find(|s| s.hub)
            .expect("a model has the hub's root")
            .dir
            .clone()
    };
    let mut moves = vec![StateMove {
        from_root: hub_root(before),
        from_module: "hub".into(),
        to_root: hub_root(after),
        to_module: "hub".into(),
    }];
    for stack in &before.stacks {
        for spoke in &stack.spokes {
            let (to_root, to_spoke) = after
                .stacks
                .iter()
                .find_map(|s| {
                    s.spokes
                        .iter()
                        .find(|t| t.account_id == spoke.account_id && t.region == spoke.region)
                        .map(|t| (s.dir.clone(), t))
                })
                .expect("both layouts of one inventory have the same spokes");
            moves.push(StateMove {
                from_root: stack.dir.clone(),
                from_module: spoke.module_name.clone(),
                to_root,
                to_module: to_spoke.module_name.clone(),
            });
        }
    }
    moves
}

/// Reads, checks and resolves the inventory at `path` for a new tree.
pub fn load(path: &Path) -> Result<Model, Diagnostics> {
    load_after(path, &EarlierBuses::new())
}

/// Reads, checks and resolves the inventory at `path` for a tree whose members were on
/// `earlier` buses (from its manifest).
pub fn load_after(path: &Path, earlier: &EarlierBuses) -> Result<Model, Diagnostics> {
    let inventory = inventory::load(path)?;
    build_after(&inventory, path, earlier)
}

/// A provider alias: the account key and the region, so that it depends on nothing else and
/// never changes when other accounts or regions come and go.
pub fn alias_for(account_key: &str, region: &str) -> String {
    format!("{account_key}_{}", region.replace('-', "_"))
}

/// Resolves a checked inventory for a new tree.
pub fn build(inv: &Inventory, path: &Path) -> Result<Model, Diagnostics> {
    build_after(inv, path, &EarlierBuses::new())
}

/// Resolves a checked inventory: settings, then accounts and their intake buses (members keep
/// their `earlier` bus), then their providers and spokes, then the checks only the resolved
/// names allow (aliases, the policy sizes).
pub fn build_after(
    inv: &Inventory,
    path: &Path,
    earlier: &EarlierBuses,
) -> Result<Model, Diagnostics> {
    let mut d = Collector::new(path);
    let settings = Resolved::settings(inv);
    let mut accounts = accounts(inv, &settings);
    let use_default_bus = inv.hub.intake_bus == Some(inventory::IntakeBus::Default);
    let queues = Queues::from_inventory(inv);
    let findings = Findings::from_inventory(inv);
    if findings.sources.contains(&"unused-access") {
        place_unused_access_analyzers(&mut accounts, &inv.hub.region.value);
    }
    let hub_buses = buses::Buses {
        partition: settings.partition,
        region: &inv.hub.region.value,
        account_id: &inv.hub.account_id.value,
        name_prefix: &settings.name_prefix,
        use_default_bus,
        rule_suffixes: &findings.rule_suffixes(),
    };
    let (intake_buses, bus_policy_quota) =
        intake_buses(&hub_buses, inv, &queues, &mut accounts, earlier, &mut d);
    let hub_account = &accounts[0];
    let layout = Layout::from_inventory(inv);
    let stacks = stacks(
        layout,
        &accounts,
        &intake_buses,
        &inv.hub.region.value,
        &settings,
    );
    let hub_alias = stacks[0].providers[0].alias.clone();
    for stack in &stacks {
        check_aliases(
            &stack.providers,
            stack.hub,
            inv.hub.name.as_ref().and_then(|n| n.location),
            &mut d,
        );
    }

    let mut emails: Vec<String> = inv.notify.emails.iter().map(|e| e.value.clone()).collect();
    emails.sort();
    let default_topic_name = format!("{}-findings", settings.name_prefix);
    let topic_name = inv
        .notify
        .topic_name
        .as_ref()
        .map_or_else(|| default_topic_name.clone(), |t| t.value.clone());
    let tags = inv
        .tags
        .iter()
        .map(|(k, v)| (k.value.clone(), v.value.clone()))
        .collect();

    let archive_days = inv.notify.archive_days.as_ref().map(|d| d.value);
    let findings_queue = queues
        .findings_queue
        .then(|| findings_queue_name(&settings.name_prefix));
    let findings_log = queues.log_days.map(|retention_days| FindingsLog {
        group_name: findings_log_group_name(&settings.name_prefix),
        retention_days,
    });
    let custom_topic_name = (topic_name != default_topic_name).then_some(topic_name.as_str());
    let deploy_role = deploy_role(
        &accounts,
        &settings,
        &findings,
        &queues,
        archive_days,
        custom_topic_name,
    );

    d.finish()?;
    Ok(Model {
        name_prefix: settings.name_prefix,
        partition: settings.partition,
        hub: Hub {
            name: hub_account.key.clone(),
            account_id: hub_account.account_id.clone(),
            region: inv.hub.region.value.clone(),
            provider_alias: hub_alias,
            use_default_bus,
            topic_name,
            emails,
            create_analyzer: hub_account.create_analyzer,
            create_unused_access_analyzer: hub_account.unused_access_analyzer_region.is_some(),
            encrypt_topic: queues.encrypt_topic,
            findings_queue,
            text_messages: inv.notify.format == Some(inventory::MessageFormat::Text),
            archive_days,
            findings_log,
        },
        layout,
        stacks,
        backend: inv.backend.as_ref().map(Backend::from_inventory),
        intake_buses,
        bus_policy_quota,
        tags,
        dead_letter_queues: queues.dead_letter_queues,
        dead_letter_queue_encryption: queues.dead_letter_queue_encryption,
        findings,
        accounts,
        deploy_role,
    })
}

/// What `settings` decides for every account.
struct Resolved<'a> {
    name_prefix: String,
    partition: &'static str,
    create_analyzer: bool,
    external_id: Option<String>,
    role_name: Option<&'a str>,
}

impl<'a> Resolved<'a> {
    fn settings(inv: &'a Inventory) -> Self {
        let settings = &inv.settings;
        Resolved {
            name_prefix: settings
                .name_prefix
                .as_ref()
                .map_or(DEFAULT_NAME_PREFIX, |s| &s.value)
                .to_string(),
            partition: regions::partition_of(&inv.hub.region.value)
                .expect("the inventory checks that the hub region is known"),
            create_analyzer: settings.create_analyzer.unwrap_or(true),
            external_id: settings.external_id.as_ref().map(|s| s.value.clone()),
            role_name: settings.role_name.as_ref().map(|s| s.value.as_str()),
        }
    }

    /// How the providers of `account_id` reach it: the account's own role ARN or profile
    /// (the inventory refuses both), else `settings.role_name`, else the engine's credentials.
    fn access(
        &self,
        role_arn: Option<&inventory::Spanned<String>>,
        profile: Option<&inventory::Spanned<String>>,
        account_id: &str,
    ) -> Access {
        let assume = |role_arn: String| Access::AssumeRole {
            role_arn,
            external_id: self.external_id.clone(),
        };
        match (role_arn, profile, self.role_name) {
            (Some(arn), _, _) => assume(arn.value.clone()),
            (None, Some(p), _) => Access::Profile(p.value.clone()),
            (None, None, Some(role)) => assume(format!(
                "arn:{}:iam::{account_id}:role/{role}",
                self.partition
            )),
            (None, None, None) => Access::Ambient,
        }
    }
}

/// The hub, then the members by key.
fn accounts(inv: &Inventory, settings: &Resolved<'_>) -> Vec<Account> {
    let values = |list: &[inventory::Spanned<String>]| -> Vec<String> {
        list.iter().map(|r| r.value.clone()).collect()
    };
    let hub = &inv.hub;
    let mut hub_regions = values(&hub.regions);
    hub_regions.push(hub.region.value.clone());
    let mut accounts = vec![account(
        hub.name.as_ref().map_or(DEFAULT_HUB_NAME, |n| &n.value),
        &hub.account_id.value,
        AccountStatus::Hub,
        (hub_regions, values(&hub.retired_regions)),
        settings.access(
            hub.role_arn.as_ref(),
            hub.profile.as_ref(),
            &hub.account_id.value,
        ),
        hub.create_analyzer.unwrap_or(settings.create_analyzer),
    )];
    let mut members: Vec<&inventory::Member> = inv.members.iter().collect();
    members.sort_by(|a, b| a.key.value.cmp(&b.key.value));
    for m in members {
        // A member without regions forwards from the hub's home region.
        let regions = if m.regions.is_empty() {
            vec![hub.region.value.clone()]
        } else {
            values(&m.regions)
        };
        accounts.push(account(
            &m.key.value,
            &m.account_id.value,
            match m.status {
                Some(Status::Retired) => AccountStatus::Retired,
                Some(Status::Active) | None => AccountStatus::Active,
            },
            (regions, values(&m.retired_regions)),
            settings.access(m.role_arn.as_ref(), m.profile.as_ref(), &m.account_id.value),
            m.create_analyzer.unwrap_or(settings.create_analyzer),
        ));
    }
    accounts
}

impl Layout {
    /// The inventory's `settings.layout`: single unless it asks for stacks.
    fn from_inventory(inv: &Inventory) -> Layout {
        match inv.settings.layout {
            Some(inventory::Layout::Stacks) => Layout::Stacks,
            Some(inventory::Layout::Single) | None => Layout::Single,
        }
    }
}

/// Where each account that lets fanin create analyzers gets its unused access analyzer
/// (retired members too: the deploy role must still let the engine delete it).
fn place_unused_access_analyzers(accounts: &mut [Account], hub_region: &str) {
    for account in accounts.iter_mut().filter(|a| a.create_analyzer) {
        account.unused_access_analyzer_region = if account.is_hub() {
            Some(hub_region.to_string())
        } else {
            account.regions.first().cloned()
        };
    }
}

/// One account, its regions and retired regions sorted.
fn account(
    key: &str,
    account_id: &str,
    status: AccountStatus,
    (mut regions, mut retired_regions): (Vec<String>, Vec<String>),
    access: Access,
    create_analyzer: bool,
) -> Account {
    regions.sort();
    retired_regions.sort();
    Account {
        key: key.to_string(),
        account_id: account_id.to_string(),
        status,
        regions,
        retired_regions,
        create_analyzer,
        unused_access_analyzer_region: None,
        access,
        intake_bus: None,
    }
}

/// The roots: in the single layout one with every provider and spoke; with stacks the hub's
/// (the hub account's regions) and one per member (its regions), by account id. In a stack
/// of its own an account's providers and spokes are named by region alone, so a renamed key
/// changes no address there.
fn stacks(
    layout: Layout,
    accounts: &[Account],
    intake_buses: &[IntakeBus],
    hub_region: &str,
    settings: &Resolved<'_>,
) -> Vec<Stack> {
    let hub_account = &accounts[0];
    let bus_arns: BTreeMap<u32, &str> = intake_buses
        .iter()
        .map(|b| (b.number, b.arn.as_str()))
        .collect();
    let place = |stack: &mut Stack, account: &Account, alias: &dyn Fn(&str, &str) -> String| {
        add_account(stack, account, hub_region, &bus_arns, alias);
    };
    let stack_of = |name: &str, dir: String, account: Option<&Account>, hub: bool| Stack {
        id: format!(
            "fanin-{}-{}-{name}",
            hub_account.account_id, settings.name_prefix
        ),
        name: name.to_string(),
        dir,
        account: account.map(|a| (a.key.clone(), a.account_id.clone())),
        hub,
        providers: Vec::new(),
        spokes: Vec::new(),
        after: Vec::new(),
    };
    let mut stacks = match layout {
        Layout::Single => {
            let mut root = stack_of("root", String::new(), None, true);
            for account in accounts {
                place(&mut root, account, &alias_for);
            }
            vec![root]
        }
        Layout::Stacks => {
            let by_region = |_: &str, region: &str| region.replace('-', "_");
            let mut hub = stack_of("hub", "stacks/hub".into(), Some(hub_account), true);
            place(&mut hub, hub_account, &by_region);
            let mut members: Vec<&Account> = accounts[1..].iter().collect();
            members.sort_by(|a, b| a.account_id.cmp(&b.account_id));
            let mut stacks = vec![hub];
            for account in members {
                let name = format!("member-{}", account.account_id);
                let mut stack = stack_of(&name, format!("stacks/{name}"), Some(account), false);
                stack.after = vec!["stacks/hub".to_string()];
                place(&mut stack, account, &by_region);
                stacks.push(stack);
            }
            stacks
        }
    };
    for stack in &mut stacks {
        // The hub's home provider first, then by alias: a stable order whatever the file order.
        let first = usize::from(stack.hub);
        stack.providers[first..].sort_by(|a, b| a.alias.cmp(&b.alias));
        stack
            .spokes
            .sort_by(|a, b| a.module_name.cmp(&b.module_name));
    }
    stacks
}

/// Adds an account's providers and spokes to `stack`: a provider for every region, active or
/// retired; a spoke for every active region of an account that is not retired (a retired one
/// keeps only its provider, so that the engine can still reach the account to destroy what
/// the spoke had created). The hub's home provider goes first and has no spoke: the hub
/// module covers that region.
fn add_account(
    stack: &mut Stack,
    account: &Account,
    hub_region: &str,
    bus_arns: &BTreeMap<u32, &str>,
    alias: &dyn Fn(&str, &str) -> String,
) {
    for region in account.regions.iter().chain(&account.retired_regions) {
        let home = account.is_hub() && region == hub_region;
        let provider = Provider {
            alias: alias(&account.key, region),
            account_key: account.key.clone(),
            account_id: account.account_id.clone(),
            region: region.clone(),
            access: account.access.clone(),
        };
        if !home && account.status != AccountStatus::Retired && account.regions.contains(region) {
            stack.spokes.push(Spoke {
                module_name: spoke_module_for(&provider.alias),
                provider_alias: provider.alias.clone(),
                account_key: account.key.clone(),
                account_id: account.account_id.clone(),
                region: region.clone(),
                create_analyzer: account.create_analyzer,
                create_unused_access_analyzer: account.unused_access_analyzer_region.as_ref()
                    == Some(region),
                intake_bus: spoke_bus(account, bus_arns),
            });
        }
        if home {
            stack.providers.insert(0, provider);
        } else {
            stack.providers.push(provider);
        }
    }
}

/// The bus a member's spokes forward to; the hub's own spokes forward to bus 1. Without
/// buses (the quota was refused, and the model is not returned) any value does.
fn spoke_bus(account: &Account, bus_arns: &BTreeMap<u32, &str>) -> (u32, String) {
    let number = account.intake_bus.unwrap_or(1);
    let arn = bus_arns.get(&number).copied().unwrap_or_default();
    (number, arn.to_string())
}

/// Keys and regions are checked separately, so in theory two (key, region) pairs could spell
/// the same alias in one root; refuse rather than emit a duplicate provider. With `hub`,
/// `providers[0]` is the hub's home provider.
fn check_aliases(
    providers: &[Provider],
    hub: bool,
    hub_name_location: Option<crate::diagnostics::Location>,
    d: &mut Collector,
) {
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
    let hub_alias = &providers[0].alias;
    if hub && providers[1..].iter().any(|p| p.alias == *hub_alias) {
        d.report(
            "hub.name",
            hub_name_location,
            format!("the hub's provider alias {hub_alias} collides with a member's; rename one"),
        );
    }
}

/// The intake buses and the quota they fit: only active members may put events on them
/// (retiring a member removes its permission together with its spokes). Each member keeps its
/// `earlier` bus; the others fill the buses with room. Sets every active member's
/// `intake_bus`.
fn intake_buses(
    hub: &buses::Buses<'_>,
    inv: &Inventory,
    queues: &Queues,
    accounts: &mut [Account],
    earlier: &EarlierBuses,
    d: &mut Collector,
) -> (Vec<IntakeBus>, usize) {
    let raised = inv.settings.bus_policy_quota.as_ref();
    let quota = raised.map_or(BUS_POLICY_QUOTA, |q| {
        usize::try_from(q.value).unwrap_or(usize::MAX)
    });
    let mut members: Vec<&str> = accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Active)
        .map(|a| a.account_id.as_str())
        .collect();
    members.sort_unstable();
    let member_count = members.len();
    let whose = if raised.is_some() {
        "the hub's quota"
    } else {
        "EventBridge's default quota"
    };
    let buses = match hub.assign(&members, earlier, quota) {
        Ok(buses) => buses,
        Err(problems) => {
            let (field, location) = match raised {
                Some(q) => ("settings.bus_policy_quota", q.location),
                None => ("members", None),
            };
            for problem in problems {
                d.report(field, location, overflow_message(&problem, whose, quota));
            }
            return (Vec::new(), quota);
        }
    };
    let bus_of: BTreeMap<&str, u32> = buses
        .iter()
        .flat_map(|b| b.members.iter().map(|id| (id.as_str(), b.number)))
        .collect();
    for account in accounts.iter_mut() {
        account.intake_bus = bus_of.get(account.account_id.as_str()).copied();
    }
    // The hub's queues that every finding rule sends to list every rule in their policy
    // (built only for the queues the inventory has).
    let rule_queues: [(bool, &str, &dyn Fn() -> String); 2] = [
        (queues.dead_letter_queues, "dead-letter queue", &|| {
            hub.dead_letter_policy(&buses)
        }),
        (queues.findings_queue, "findings queue", &|| {
            hub.findings_queue_policy(&buses)
        }),
    ];
    for (_, queue, policy) in rule_queues.into_iter().filter(|(used, ..)| *used) {
        let policy_len = policy().len();
        if policy_len > QUEUE_POLICY_LIMIT {
            d.report(
                "members",
                None,
                format!(
                    "{} members need {} intake buses under {whose} of {quota} characters, and the hub's {queue} policy, which names every finding rule of every bus, would be {policy_len} bytes, over SQS's limit of {QUEUE_POLICY_LIMIT}: ask AWS to raise the hub's \"Event bus policy size\" quota and set settings.bus_policy_quota to it, so that fewer buses are needed (each finding source adds a rule per bus)",
                    member_count,
                    buses.len(),
                ),
            );
        }
    }
    (buses, quota)
}

/// What to do when members cannot be given buses within the quota.
fn overflow_message(problem: &buses::Overflow, whose: &str, quota: usize) -> String {
    match problem {
        buses::Overflow::QuotaBelowOneMember { needed } => format!(
            "an intake bus policy naming one member takes {needed} characters, over {whose} of {quota}: set settings.bus_policy_quota to the hub's \"Event bus policy size\" quota (EventBridge's default is {BUS_POLICY_QUOTA})"
        ),
        buses::Overflow::BusOverQuota {
            bus,
            members,
            policy_len,
        } => format!(
            "the intake bus {bus} admits {members} members, whose policy takes {policy_len} characters, over {whose} of {quota}; members keep their bus from one generation to the next (moving one would replace its targets), so the quota must allow the policy: set settings.bus_policy_quota to at least {policy_len} (the hub's \"Event bus policy size\" quota, raised by AWS if needed), or retire members of {bus}"
        ),
    }
}

/// What the deploy roles must allow, from the choices already made for the tree; the topic
/// name only when it is not the default one.
fn deploy_role(
    accounts: &[Account],
    settings: &Resolved,
    findings: &Findings,
    queues: &Queues,
    archive_days: Option<u64>,
    custom_topic_name: Option<&str>,
) -> DeployRole {
    DeployRole {
        manages_archive_rules: !findings.archive_rules.is_empty(),
        keeps_archives: archive_days.is_some(),
        keeps_findings_log: queues.log_days.is_some(),
        external_id: settings.external_id.clone(),
        name_prefix: settings.name_prefix.clone(),
        topic_name: custom_topic_name.unwrap_or_default().to_string(),
        deployments: role_deployments(
            accounts,
            settings.partition,
            queues.hub_key(),
            queues.spoke_keys(),
        ),
    }
}

/// Accounts grouped by the deploy role's parameters: the hub alone, then members that need
/// the same grants together (retired ones too: their resources are destroyed with the role).
fn role_deployments(
    accounts: &[Account],
    partition: &str,
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
        let reach = account.reach(partition);
        let same = deployments.iter_mut().find(|d| {
            !d.hub
                && !account.is_hub()
                && d.reach == reach
                && d.manages_keys == manages_keys
                && d.creates_analyzer == account.create_analyzer
                && d.creates_unused_access_analyzer
                    == account.unused_access_analyzer_region.is_some()
        });
        let entry = (account.key.clone(), account.account_id.clone());
        match same {
            Some(deployment) => deployment.accounts.push(entry),
            None => deployments.push(RoleDeployment {
                hub: account.is_hub(),
                reach,
                manages_keys,
                creates_analyzer: account.create_analyzer,
                creates_unused_access_analyzer: account.unused_access_analyzer_region.is_some(),
                accounts: vec![entry],
            }),
        }
    }
    deployments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_join_key_and_region() {
        assert_eq!(alias_for("prod", "us-east-1"), "prod_us_east_1");
        assert_eq!(alias_for("prod-eu", "eu-west-1"), "prod-eu_eu_west_1");
    }
}
