//! fanin: reads an inventory of AWS accounts and writes an OpenTofu/Terraform tree that fans
//! every member account's IAM Access Analyzer findings in to one hub account.
//!
//! The data flows one way: [`inventory`] (parse, check) -> [`model`] (every decision) ->
//! [`render`] (HCL from the model) -> [`output`] (atomic writes, check) -> [`engine`].

// A function over clippy's default of 100 lines does several things: name them.
#![warn(clippy::too_many_lines)]

pub mod diagnostics;
pub mod engine;
pub mod generated;
pub mod inventory;
pub mod lifecycle;
pub mod manifest;
pub mod model;
pub mod modules;
pub mod output;
pub mod regions;
pub mod render;

/// The example inventory `fanin init` writes in `format` (the minimal example; the TOML and
/// YAML forms are commented, JSON has no comments). All three generate the same tree.
pub fn example_inventory(format: inventory::Format) -> &'static str {
    match format {
        inventory::Format::Toml => include_str!("../examples/minimal/fanin.toml"),
        inventory::Format::Yaml => include_str!("../examples/minimal/fanin.yaml"),
        inventory::Format::Json => include_str!("../examples/minimal/fanin.json"),
    }
}

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Inventory(#[from] diagnostics::Diagnostics),
    #[error("error: {0}")]
    Output(#[from] output::OutputError),
    #[error("error: {0}")]
    Usage(String),
}

/// What `init` drafts an inventory from.
#[derive(Debug, Clone, Copy)]
pub enum DraftSource<'a> {
    /// An AWS CLI config file: one member per profile that names an account.
    AwsConfig(&'a Path),
    /// A CSV list: one member per row.
    Csv(&'a Path),
}

/// An inventory drafted from `source` in `format`, to be written at `path`. The draft is read
/// back and modelled as generate would read it: what `init` writes always generates.
pub fn draft_inventory(
    source: DraftSource<'_>,
    choices: &inventory::draft::Choices,
    path: &Path,
    format: inventory::Format,
) -> Result<inventory::draft::Draft, Error> {
    let (DraftSource::AwsConfig(file) | DraftSource::Csv(file)) = source;
    let text = std::fs::read_to_string(file)
        .map_err(|e| Error::Usage(format!("{}: {e}", file.display())))?;
    let draft = match source {
        DraftSource::AwsConfig(_) => inventory::draft::from_aws_config(&text, choices, format),
        DraftSource::Csv(_) => inventory::draft::from_csv(&text, choices, format),
    }
    .map_err(|message| Error::Usage(format!("{}: {message}", file.display())))?;
    let inventory = inventory::parse(&draft.text, format, path)?;
    model::build(&inventory, path)?;
    Ok(draft)
}

/// What generating `inventory` into a directory would write, and what that directory's
/// manifest said before.
#[derive(Debug)]
pub struct Generation {
    pub previous: Option<manifest::Manifest>,
    /// What writing the whole tree (manifest included) would do to each file in the directory
    /// now, sorted by path: a generated file's change holds its contents (`new`).
    pub changes: Vec<output::Change>,
    /// Refusals that `--force` turned into notes.
    pub forced: Vec<String>,
    /// What the user should know about the tree before running the engine on it.
    pub notes: Vec<String>,
    /// The hub's intake buses and how full each policy is, of `bus_policy_quota` characters.
    pub intake_buses: Vec<model::IntakeBus>,
    pub bus_policy_quota: usize,
}

/// Everything `generate` would write for the inventory into `out`, given what is there now.
pub fn plan_generation(
    inventory: &Path,
    out: &Path,
    options: lifecycle::Options,
) -> Result<Generation, Error> {
    let previous = output::read_manifest(out)?;
    // Members keep the intake bus the tree gave them.
    let earlier = previous
        .as_ref()
        .map(manifest::Manifest::earlier_buses)
        .unwrap_or_default();
    let model = model::load_after(inventory, &earlier)?;
    let outcome = lifecycle::reconcile(&model, previous.as_ref(), options, inventory)?;
    let files = tree(&model, &outcome.moves);
    let changes = output::plan(out, files, previous.as_ref())?;
    Ok(Generation {
        previous,
        changes,
        forced: outcome.forced,
        notes: engine_memory_note(&model)
            .into_iter()
            .chain(archive_rules_note(&model))
            .collect(),
        intake_buses: model.intake_buses,
        bus_policy_quota: model.bus_policy_quota,
    })
}

/// The engine runs one provider process per provider configuration of a root, about 300 MB
/// each with hashicorp/aws 5.100 (`validate` of a root with 33 configurations peaked at
/// 9.7 GB, all processes: BENCHMARKS.md); past this many in one root, planning needs more
/// memory than a common CI runner has.
const PROVIDER_CONFIGS_NOTED: usize = 10;
const PROVIDER_PROCESS_MB: usize = 300;

fn engine_memory_note(model: &model::Model) -> Option<String> {
    let root = &model.stacks[0];
    let configs = root.providers.len();
    (model.layout == model::Layout::Single && configs >= PROVIDER_CONFIGS_NOTED).then(|| {
        format!(
            "the root has {configs} provider configurations; the engine starts one provider process for each, about {PROVIDER_PROCESS_MB} MB with hashicorp/aws 5.100, so plan and apply need about {:.1} GB of memory. settings.layout = \"stacks\" gives the hub and each member a root of its own, planned separately",
            (configs * PROVIDER_PROCESS_MB) as f64 / 1000.0
        )
    })
}

/// Archive rules reach only the analyzers fanin creates: accounts whose analyzer is their own
/// (`create_analyzer = false`) still send the findings the rules would archive.
fn archive_rules_note(model: &model::Model) -> Option<String> {
    if model.findings.archive_rules.is_empty() {
        return None;
    }
    let without: Vec<&str> = model
        .accounts
        .iter()
        .filter(|a| !a.create_analyzer && a.status != model::AccountStatus::Retired)
        .map(|a| a.key.as_str())
        .collect();
    (!without.is_empty()).then(|| {
        format!(
            "the archive rules go only on the analyzers fanin creates; {} {} create_analyzer = false: give {} own analyzers the same rules, or their findings are not archived",
            without.join(", "),
            if without.len() == 1 { "has" } else { "have" },
            if without.len() == 1 { "its" } else { "their" },
        )
    })
}

/// The script that moves a tree's state from layout `from` to the layout the inventory at
/// `path` asks for (`fanin state-moves`).
pub fn state_moves(path: &Path, from: model::Layout) -> Result<String, Error> {
    let inventory = inventory::load(path)?;
    let after = model::build(&inventory, path)?;
    if after.layout == from {
        return Err(Error::Usage(
            "the inventory already has that layout: set settings.layout to the layout to move to"
                .into(),
        ));
    }
    let mut before_inventory = inventory.clone();
    before_inventory.settings.layout = Some(match from {
        model::Layout::Single => inventory::Layout::Single,
        model::Layout::Stacks => inventory::Layout::Stacks,
    });
    let before = model::build(&before_inventory, path)?;
    let moves = model::layout_moves(&before, &after);
    Ok(render::state_moves::script(&moves, from, after.layout))
}

/// Everything `generate` writes for the inventory at `path` into an empty directory.
pub fn generate(path: &Path) -> Result<Vec<generated::GeneratedFile>, diagnostics::Diagnostics> {
    let model = model::load(path)?;
    Ok(tree(&model, &[]))
}

fn tree(model: &model::Model, moves: &[manifest::MoveRecord]) -> Vec<generated::GeneratedFile> {
    let mut files = render::render(model, moves);
    let record = manifest::record(model, moves, &files);
    files.push(generated::GeneratedFile {
        path: manifest::FILE_NAME.to_string(),
        contents: record.to_text().into_bytes(),
    });
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}
