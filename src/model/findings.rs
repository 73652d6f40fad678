//! Which findings travel, and which are archived where they are found: the inventory's
//! `[findings]` and `[[archive]]`, decided once for every analyzer and rule of the tree.

use crate::inventory::{self, FINDING_SOURCES, FINDING_STATUSES, Inventory, SEVERITIES};

/// What the tree forwards and archives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Findings {
    /// The statuses the finding rules forward, in the order of `FINDING_STATUSES`; `None`
    /// when every status is (the rules' event pattern then has no `status` at all, as it
    /// had before the choice existed).
    pub statuses: Option<Vec<&'static str>>,
    /// Where the findings come from, in the order of `FINDING_SOURCES`; never empty.
    pub sources: Vec<&'static str>,
    /// The resource types of the Access Analyzer findings forwarded, in inventory order;
    /// `None` for every type.
    pub resource_types: Option<Vec<String>>,
    /// The lowest severity of GuardDuty and Security Hub findings forwarded; `None` for all.
    pub min_severity: Option<&'static str>,
    /// Custom event patterns `(name, JSON text as written)`, by name.
    pub custom_patterns: Vec<(String, String)>,
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
    /// Whether the tree forwards only external access findings, as it did before there were
    /// other sources (the modules' default).
    pub fn external_access_only(&self) -> bool {
        self.sources == ["external-access"] && self.custom_patterns.is_empty()
    }

    /// What each finding rule of a hub bus adds to the bus's key (modules/hub/main.tf,
    /// `local.finding_rules`): nothing for external access, `-<source>` for the other
    /// sources, `-custom-<name>` for each custom pattern.
    pub fn rule_suffixes(&self) -> Vec<String> {
        let sources = self.sources.iter().map(|s| match *s {
            "external-access" => String::new(),
            other => format!("-{other}"),
        });
        let custom = self
            .custom_patterns
            .iter()
            .map(|(name, _)| format!("-custom-{name}"));
        sources.chain(custom).collect()
    }

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
        let chosen = &inv.findings.sources;
        let sources = FINDING_SOURCES
            .iter()
            .copied()
            .filter(|s| {
                if chosen.is_empty() {
                    *s == "external-access"
                } else {
                    chosen.iter().any(|c| c.value == *s)
                }
            })
            .collect();
        let resource_types = &inv.findings.resource_types;
        let mut custom_patterns: Vec<(String, String)> = inv
            .findings
            .custom_patterns
            .iter()
            .map(|(name, pattern)| (name.value.clone(), pattern.value.clone()))
            .collect();
        custom_patterns.sort();
        Findings {
            statuses: (statuses.len() < FINDING_STATUSES.len()).then_some(statuses),
            sources,
            resource_types: (!resource_types.is_empty())
                .then(|| resource_types.iter().map(|t| t.value.clone()).collect()),
            min_severity: inv
                .findings
                .min_severity
                .as_ref()
                .and_then(|m| SEVERITIES.iter().copied().find(|s| *s == m.value)),
            custom_patterns,
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
