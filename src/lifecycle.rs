//! What changed since the last generation, and whether it is safe: compares the model with
//! the manifest of the tree being regenerated. Renames (same account id, new key) become
//! `moved` blocks so nothing is destroyed; removals must go through retirement first so that
//! no resource is left in state without a provider; the hub never moves in place.

use crate::diagnostics::{Collector, Diagnostics};
use crate::manifest::{AccountRecord, AccountStatus, Manifest, MoveRecord};
use crate::model::{Account, Layout, Model};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Allow removing accounts or regions that were not retired first.
    pub force: bool,
    /// Drop the `moved` blocks of earlier renames (once every state has applied them).
    pub forget_moves: bool,
    /// The user says the apply that destroyed retired accounts' and regions' resources has
    /// run, so their providers may go. fanin cannot see state, so it asks.
    pub retired_applied: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Renames to emit as `moved` blocks, oldest first.
    pub moves: Vec<MoveRecord>,
    /// What `--force` let through, to print.
    pub forced: Vec<String>,
}

fn field_of(account: &str, is_hub: bool) -> String {
    if is_hub {
        "hub".to_string()
    } else {
        format!("members.{account}")
    }
}

pub fn reconcile(
    model: &Model,
    previous: Option<&Manifest>,
    options: Options,
    inventory: &Path,
) -> Result<Outcome, Diagnostics> {
    let Some(previous) = previous else {
        return Ok(Outcome::default());
    };
    let mut d = Collector::new(inventory);
    if !hub_stays(previous, model, &mut d) {
        // A hub that moves is migrated into another tree, so what else changed here does not
        // matter; reporting it (regions that followed the home region by default, the old
        // hub's region) would only mislead.
        return d.finish().map(|()| Outcome::default());
    }
    let mut step = Reconciling {
        current: model
            .accounts
            .iter()
            .map(|a| (a.account_id.as_str(), a))
            .collect(),
        current_keys: model
            .accounts
            .iter()
            .map(|a| (a.key.as_str(), a.account_id.as_str()))
            .collect(),
        options,
        d,
        outcome: Outcome::default(),
    };
    step.layout_stays(previous.layout, model.layout);
    for (id, before) in &previous.accounts {
        let Some(now) = step.current.get(id.as_str()).copied() else {
            step.account_gone(id, before);
            continue;
        };
        step.spoke_regions_keep_providers(id, before, now);
        step.retired_regions_wait_for_apply(id, before, now);
        step.renamed(id, before, now);
    }
    step.outcome.moves = step.kept_moves(&previous.moves);
    step.d.finish()?;
    Ok(step.outcome)
}

/// The hub's account and home region never change in place.
fn hub_stays(previous: &Manifest, model: &Model, d: &mut Collector) -> bool {
    if previous.hub.account_id != model.hub.account_id {
        d.report(
            "hub.account_id",
            None,
            format!(
                "the hub was account {} and is now {}; a hub cannot move in place (its bus, topic and subscriptions would be destroyed while members still forward to it). Migrate instead: generate a tree for the new hub with another name_prefix into another directory and apply it, confirm findings arrive there, then run `tofu destroy` in this tree",
                previous.hub.account_id, model.hub.account_id
            ),
        );
    }
    if previous.hub.region != model.hub.region {
        d.report(
            "hub.region",
            None,
            format!(
                "the hub's home region was {} and is now {}; the intake bus and topic cannot move in place. Migrate instead: generate a tree with the new home region and another name_prefix into another directory and apply it, confirm findings arrive there, then run `tofu destroy` in this tree",
                previous.hub.region, model.hub.region
            ),
        );
    }
    previous.hub.account_id == model.hub.account_id && previous.hub.region == model.hub.region
}

/// One comparison of the previous generation with the model: each step looks at one account.
struct Reconciling<'a> {
    /// The model's accounts by id.
    current: BTreeMap<&'a str, &'a Account>,
    /// The model's account ids by key.
    current_keys: BTreeMap<&'a str, &'a str>,
    options: Options,
    d: Collector,
    outcome: Outcome,
}

impl Reconciling<'_> {
    /// Another layout puts every resource in another root and state: applying it as it is
    /// would create everything again while the old state still holds it.
    fn layout_stays(&mut self, before: Layout, now: Layout) {
        if before == now {
            return;
        }
        let message = format!(
            "the tree was generated with layout = \"{}\" and the inventory now says \"{}\": every resource moves to another root and state, and applying the new roots as they are would create every resource again while the old state still holds it. Keep layout = \"{}\", or pull every root's state, write the new layout with --force and run the script `fanin state-moves` prints before any apply (README: \"Switching an existing tree\")",
            before.name(),
            now.name(),
            before.name()
        );
        self.forced_or_report("settings.layout", message);
    }

    /// An account of the previous generation that the model no longer has.
    fn account_gone(&mut self, id: &str, before: &AccountRecord) {
        if before.status == AccountStatus::Retired {
            // The second phase of a removal, safe only once the retirement was applied.
            if !self.options.retired_applied {
                self.d.report(
                    &field_of(&before.key, false),
                    None,
                    format!(
                        "account {id} (key `{}`) was retired and is now removed from the inventory; {RETIRED_APPLIED} keep it with status = \"retired\" until it has",
                        before.key
                    ),
                );
            }
            return;
        }
        if let Some(new_id) = self.current_keys.get(before.key.as_str()) {
            // The key stayed and its account changed: retiring "under that key" would retire
            // the new account.
            let message = format!(
                "the key `{key}` was account {id} and is now account {new_id}; account {id}'s spoke resources are still in state and would lose their provider, and a key names one account. Replace it in two steps: 1. give account {new_id} a key of its own (say `{key}-new`), put account {id} back under `{key}` as it was (regions, access) with status = \"retired\", run fanin generate and tofu apply (this destroys only account {id}'s resources and creates account {new_id}'s); 2. remove `{key}`, run fanin generate --retired-applied (then, if you like, rename `{key}-new` to `{key}`: fanin moves its resources)",
                key = before.key
            );
            let field = format!("{}.account_id", field_of(&before.key, false));
            self.forced_or_report(&field, message);
            return;
        }
        let message = format!(
            "account {id} (key `{}`) left the inventory without being retired; its spoke resources are still in state and would lose their provider. Remove it in two steps: 1. put it back with status = \"retired\" on member `{}`, run fanin generate and tofu apply (this destroys only that account's resources); 2. remove it from the inventory and run fanin generate --retired-applied",
            before.key, before.key
        );
        self.forced_or_report(&field_of(&before.key, false), message);
    }

    /// Every region that had a spoke must keep its provider until its spoke is destroyed.
    fn spoke_regions_keep_providers(&mut self, id: &str, before: &AccountRecord, now: &Account) {
        if before.status == AccountStatus::Retired {
            return;
        }
        for region in &before.regions {
            let still_reachable =
                now.regions.contains(region) || now.retired_regions.contains(region);
            if !still_reachable {
                let message = format!(
                    "region {region} of account {id} left the inventory without being retired; its spoke is still in state. Remove it in two steps: 1. move it from regions to retired_regions, run fanin generate and tofu apply; 2. remove it from retired_regions and run fanin generate --retired-applied"
                );
                let field = format!("{}.regions", field_of(&now.key, now.is_hub()));
                self.forced_or_report(&field, message);
            }
        }
    }

    /// A retired region's provider goes only once the user says its destroy was applied.
    fn retired_regions_wait_for_apply(&mut self, id: &str, before: &AccountRecord, now: &Account) {
        if self.options.retired_applied {
            return;
        }
        for region in &before.retired_regions {
            let still_listed = now.regions.contains(region) || now.retired_regions.contains(region);
            if !still_listed {
                self.d.report(
                    &format!("{}.retired_regions", field_of(&now.key, now.is_hub())),
                    None,
                    format!(
                        "region {region} of account {id} was retired and is now removed from the inventory; {RETIRED_APPLIED} keep it in retired_regions until it has"
                    ),
                );
            }
        }
    }

    /// A new key for the same account becomes a move, unless a retirement is in progress.
    fn renamed(&mut self, id: &str, before: &AccountRecord, now: &Account) {
        if now.key == before.key {
            return;
        }
        let retiring = before.status == AccountStatus::Retired
            || !before.retired_regions.is_empty()
            || now.status == AccountStatus::Retired
            || !now.retired_regions.is_empty();
        if retiring {
            self.d.report(
                &field_of(&now.key, now.is_hub()),
                None,
                format!(
                    "account {id} was called `{}` and is now `{}` while a retirement is in progress; finish the retirement (generate, apply, remove the retired entries) before renaming, so the destroyed resources keep their provider",
                    before.key, now.key
                ),
            );
        } else {
            self.outcome.moves.push(MoveRecord {
                account_id: id.to_string(),
                from: before.key.clone(),
                to: now.key.clone(),
            });
        }
    }

    /// Earlier renames stay while their account exists, unless the user says every state has
    /// applied them; a `from` that is a current key again means the rename was undone. Then
    /// this generation's renames, oldest first.
    fn kept_moves(&mut self, previous: &[MoveRecord]) -> Vec<MoveRecord> {
        let mut kept = Vec::new();
        if !self.options.forget_moves {
            for m in previous {
                if !self.current.contains_key(m.account_id.as_str()) {
                    continue;
                }
                match self.current_keys.get(m.from.as_str()) {
                    Some(owner) if *owner == m.account_id => continue,
                    Some(owner) => self.d.report(
                        &format!("members.{}", m.from),
                        None,
                        format!(
                            "the key `{}` belonged to account {} until it was renamed to `{}`, and its `moved` blocks are still kept; account {owner} can use this key only after every state has applied the rename and `fanin generate --forget-moves` has dropped them",
                            m.from, m.account_id, m.to
                        ),
                    ),
                    None => kept.push(m.clone()),
                }
            }
        }
        for m in self.outcome.moves.drain(..) {
            if !kept.contains(&m) {
                kept.push(m);
            }
        }
        kept
    }

    fn forced_or_report(&mut self, field: &str, message: String) {
        if self.options.force {
            self.outcome.forced.push(format!("{field}: {message}"));
        } else {
            self.d
                .report(field, None, format!("{message} (--force overrides)"));
        }
    }
}

/// Why removing a retired account or region needs the user's word, and how to give it.
const RETIRED_APPLIED: &str = "fanin cannot see state, and its provider may go only once `tofu apply` has destroyed what retiring it removed. If that apply has run (in every state that uses this tree), run generate again with --retired-applied; if not,";
