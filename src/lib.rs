//! fanin: reads an inventory of AWS accounts and writes an OpenTofu/Terraform tree that fans
//! every member account's IAM Access Analyzer findings in to one hub account.
//!
//! The data flows one way: [`inventory`] (parse, check) -> [`model`] (every decision) ->
//! [`render`] (HCL from the model) -> [`output`] (atomic writes, check) -> [`engine`].

pub mod diagnostics;
pub mod engine;
pub mod inventory;
pub mod model;
pub mod modules;
pub mod output;
pub mod regions;
pub mod render;

/// The commented example inventory `fanin init` writes (also the minimal example).
pub const EXAMPLE_INVENTORY: &str = include_str!("../examples/minimal/fanin.toml");

/// Everything `generate` would write for the inventory at `path`.
pub fn generate(
    path: &std::path::Path,
) -> Result<Vec<render::GeneratedFile>, diagnostics::Diagnostics> {
    let model = model::load(path)?;
    Ok(render::render(&model))
}
