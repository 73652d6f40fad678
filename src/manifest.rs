//! The record fanin keeps in every generated tree (`fanin-manifest.toml`): which files it
//! wrote with their content hashes, which account id each key had, which regions were active
//! or retired, and the renames whose `moved` blocks are still kept. The next `generate` reads
//! it to tell a rename from a removal, to delete only files it wrote and to refuse hand edits.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const FILE_NAME: &str = "fanin-manifest.toml";
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub format: u32,
    /// How the tree was cut into roots (absent: single, as before layouts existed).
    #[serde(default, skip_serializing_if = "Layout::is_single")]
    pub layout: Layout,
    pub hub: HubRecord,
    /// By account id: the identity that survives a rename.
    pub accounts: BTreeMap<String, AccountRecord>,
    /// Renames whose `moved` blocks are still emitted, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<MoveRecord>,
    /// Path -> sha256 of the bytes fanin wrote.
    pub files: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HubRecord {
    pub account_id: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRecord {
    pub key: String,
    pub status: AccountStatus,
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_regions: Vec<String>,
    /// The intake bus an active member forwards to, when not the first: it keeps it on the
    /// next generation. Absent: the first bus (as before there were several).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intake_bus: Option<u32>,
}

/// The model's layout, recorded as is.
pub use crate::model::Layout;

/// The model's account status, recorded as is.
pub use crate::model::AccountStatus;

use crate::model::EarlierBuses;

/// The renames the model keeps, recorded as they are.
pub use crate::model::MoveRecord;

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Manifest {
    pub fn to_text(&self) -> String {
        let body = toml::to_string(self).expect("the manifest always serializes");
        format!("{}\n\n{body}", crate::generated::MANIFEST)
    }

    /// The bus each active member was on: the first unless recorded otherwise.
    pub fn earlier_buses(&self) -> EarlierBuses {
        self.accounts
            .iter()
            .filter(|(_, a)| a.status == AccountStatus::Active)
            .map(|(id, a)| (id.clone(), a.intake_bus.unwrap_or(1)))
            .collect()
    }

    pub fn parse(text: &str) -> Result<Manifest, String> {
        let manifest: Manifest = toml::from_str(text).map_err(|e| e.to_string())?;
        if manifest.format != FORMAT {
            return Err(format!(
                "manifest format {} is not supported by this fanin (expected {FORMAT})",
                manifest.format
            ));
        }
        Ok(manifest)
    }
}

/// The record of a generation: the model's accounts, the kept renames and the hashes of
/// `files` (the manifest itself excluded).
pub fn record(
    model: &crate::model::Model,
    moves: &[MoveRecord],
    files: &[crate::generated::GeneratedFile],
) -> Manifest {
    let accounts = model
        .accounts
        .iter()
        .map(|a| {
            (
                a.account_id.clone(),
                AccountRecord {
                    key: a.key.clone(),
                    status: a.status,
                    regions: a.regions.clone(),
                    retired_regions: a.retired_regions.clone(),
                    intake_bus: a.intake_bus.filter(|n| *n != 1),
                },
            )
        })
        .collect();
    Manifest {
        format: FORMAT,
        layout: model.layout,
        hub: HubRecord {
            account_id: model.hub.account_id.clone(),
            region: model.hub.region.clone(),
        },
        accounts,
        moves: moves.to_vec(),
        files: files
            .iter()
            .filter(|f| f.path != FILE_NAME)
            .map(|f| (f.path.clone(), sha256_hex(&f.contents)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let m = Manifest {
            format: FORMAT,
            layout: Layout::Stacks,
            hub: HubRecord {
                account_id: "111111111111".into(),
                region: "eu-west-1".into(),
            },
            accounts: BTreeMap::from([(
                "222222222222".into(),
                AccountRecord {
                    key: "prod".into(),
                    status: AccountStatus::Active,
                    regions: vec!["eu-west-1".into()],
                    retired_regions: vec![],
                    intake_bus: Some(2),
                },
            )]),
            moves: vec![MoveRecord {
                account_id: "222222222222".into(),
                from: "production".into(),
                to: "prod".into(),
            }],
            files: BTreeMap::from([("main.tf".into(), sha256_hex(b"x"))]),
        };
        let text = m.to_text();
        assert!(text.starts_with("# Generated by fanin."));
        assert_eq!(Manifest::parse(&text).unwrap(), m);
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
