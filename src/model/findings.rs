//! Which findings travel, and which are archived where they are found: the inventory's
//! `[findings]` and `[[archive]]`, decided once for every analyzer and rule of the tree.

use crate::inventory::{self, FINDING_STATUSES, Inventory};

/// What the tree forwards and archives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Findings {
    /// The statuses the finding rules forward, in the order of `FINDING_STATUSES`; `None`
    /// when every status is (the rules' event pattern then has no `status` at all, as it
    /// had before the choice existed).
    pub statuses: Option<Vec<&'static str>>,
    /// The archive rules of every analyzer fanin creates, in inventory order.
    pub archive_rules: Vec<ArchiveRule>,
}

/// One archive rule: a new finding matching every criterion is archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRule {
    pub name: String,
    /// In inventory order.
    pub filter: Vec<Criterion>,
}

/// How one finding property matches (CreateArchiveRule's `Criterion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    pub property: String,
    pub eq: Vec<String>,
    pub neq: Vec<String>,
    pub contains: Vec<String>,
    pub exists: Option<bool>,
}

impl Findings {
    /// The statuses listed, or by default every status; without ARCHIVED by default when the
    /// inventory has archive rules: a finding an archive rule archives is one the user
    /// expects, and reaching nobody is what the rule is for.
    pub fn from_inventory(inv: &Inventory) -> Findings {
        let listed = |status: &&str| inv.findings.statuses.iter().any(|s| s.value == *status);
        let statuses: Vec<&'static str> = if !inv.findings.statuses.is_empty() {
            FINDING_STATUSES.iter().copied().filter(listed).collect()
        } else if !inv.archive.is_empty() {
            FINDING_STATUSES
                .iter()
                .copied()
                .filter(|s| *s != "ARCHIVED")
                .collect()
        } else {
            FINDING_STATUSES.to_vec()
        };
        Findings {
            statuses: (statuses.len() < FINDING_STATUSES.len()).then_some(statuses),
            archive_rules: inv
                .archive
                .iter()
                .map(ArchiveRule::from_inventory)
                .collect(),
        }
    }
}

impl ArchiveRule {
    fn from_inventory(rule: &inventory::ArchiveRule) -> ArchiveRule {
        let values = |list: &[inventory::Spanned<String>]| -> Vec<String> {
            list.iter().map(|v| v.value.clone()).collect()
        };
        ArchiveRule {
            name: rule.name.value.clone(),
            filter: rule
                .filter
                .iter()
                .map(|c| Criterion {
                    property: c.property.value.clone(),
                    eq: values(&c.eq),
                    neq: values(&c.neq),
                    contains: values(&c.contains),
                    exists: c.exists,
                })
                .collect(),
        }
    }
}
