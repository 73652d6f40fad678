//! The `fanin` command line: parses arguments, runs one stage pipeline, maps outcomes to exit
//! codes (0 success, 1 "differences found" or engine checks failed, 2 error in the input or
//! the environment). Errors go to stderr.

// A function over clippy's default of 100 lines does several things: name them.
#![warn(clippy::too_many_lines)]

use clap::{Parser, Subcommand};
use fanin::inventory::Format;
use fanin::lifecycle::Options;
use fanin::{engine, output};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "fanin",
    version,
    about = "Fan IAM Access Analyzer findings in from many AWS accounts to one hub, as an OpenTofu/Terraform tree.",
    long_about = "fanin reads an inventory of AWS accounts (one hub, many members) and writes an \
OpenTofu/Terraform tree: reusable hub and spoke modules and a root with one provider alias per \
account and region (or, with the stacks layout, a root per account), wiring every member's \
default event bus to the hub."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// `init --from-aws-config` / `--from-csv`: an inventory drafted from what a team has.
#[derive(clap::Args)]
#[command(group(
    clap::ArgGroup::new("source")
        .args(["from_aws_config", "from_csv"])
        .requires("hub")
))]
struct DraftFrom {
    /// Draft the inventory from an AWS CLI config file (default: $AWS_CONFIG_FILE, else
    /// ~/.aws/config): one member per profile that names an account (sso_account_id, or the
    /// account of role_arn), reached through that profile. Profiles that cannot be used are
    /// reported and left out.
    #[arg(long, value_name = "FILE")]
    from_aws_config: Option<Option<PathBuf>>,
    /// Draft the inventory from a CSV list of accounts: a header row naming the columns key,
    /// account_id and optionally regions (separated by spaces or ;), profile and role_arn;
    /// one row per account, the hub's included. Rows that cannot be used are reported and
    /// left out.
    #[arg(long, value_name = "FILE", conflicts_with = "from_aws_config")]
    from_csv: Option<PathBuf>,
    /// The hub account: its profile (--from-aws-config) or its row's key (--from-csv).
    #[arg(long, value_name = "NAME", requires = "source")]
    hub: Option<String>,
    /// The hub's home region (default: the hub profile's region, or the first of the hub
    /// row's regions).
    #[arg(long, value_name = "REGION", requires = "source")]
    hub_region: Option<String>,
    /// The regions of every member that lists none, comma-separated (default: the hub's
    /// home region).
    #[arg(
        long,
        value_name = "REGIONS",
        value_delimiter = ',',
        requires = "source"
    )]
    regions: Vec<String>,
    /// An address notified of findings; repeat for several.
    #[arg(long = "email", value_name = "ADDRESS", requires = "source")]
    emails: Vec<String>,
}

impl DraftFrom {
    /// The file to draft from, if any.
    fn source(&self) -> Option<(PathBuf, bool)> {
        if let Some(csv) = &self.from_csv {
            return Some((csv.clone(), false));
        }
        let config = match self.from_aws_config.as_ref()? {
            Some(path) => path.clone(),
            // Where the AWS CLI looks (AWS CLI user guide, "Configuration and credential
            // file settings": AWS_CONFIG_FILE, else ~/.aws/config).
            None => std::env::var_os("AWS_CONFIG_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    let home = std::env::var_os("HOME")
                        .or_else(|| std::env::var_os("USERPROFILE"))
                        .unwrap_or_default();
                    PathBuf::from(home).join(".aws").join("config")
                }),
        };
        Some((config, true))
    }
}

#[derive(Subcommand)]
enum Command {
    /// Write an example inventory to start from (commented in TOML and YAML), or draft one
    /// from the profiles of an AWS CLI config file.
    Init {
        /// Where to write it: .toml, .yaml/.yml or .json, in that format. Missing
        /// directories are created; an existing file is never overwritten.
        #[arg(default_value = "fanin.toml")]
        path: PathBuf,
        #[command(flatten)]
        from: DraftFrom,
    },
    /// Write the tree for an inventory (all files or none) and its manifest.
    Generate {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        changes: Changes,
    },
    /// Exit 0 when DIR holds exactly what generate would write; 1 with the differing files
    /// (missing, edited by hand, outdated, stale) and the command that fixes them, or when DIR
    /// does not exist; 2 on error. For CI.
    Check {
        #[command(flatten)]
        target: Target,
        /// `text` for people, `json` for tools: one object on stdout with `up_to_date`,
        /// `tree_exists`, `differences` (each `path` and `kind`) and the `fix` command, or
        /// `error`.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Show, as a unified diff, what generate with the same flags would change in DIR
    /// (coloured on a terminal); changes nothing.
    Diff {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        changes: Changes,
    },
    /// Print the shell script that moves a tree's state from layout FROM to the layout the
    /// inventory now asks for, module by module (run it from the tree's directory; see the
    /// README's "Switching layouts").
    StateMoves {
        /// The inventory, with the layout to move to.
        inventory: PathBuf,
        /// The layout the tree's state is in now.
        #[arg(long, value_enum)]
        from: LayoutArg,
    },
    /// Run the engine on a copy of a tree: init -backend=false and validate in every root
    /// (each stack), then fmt -check -recursive. The tree itself is left as it is (no
    /// .terraform, no lock file).
    Validate {
        /// Directory of a generated tree.
        dir: PathBuf,
        /// Engine executable; default: $FANIN_ENGINE, else tofu, else terraform on PATH.
        #[arg(long)]
        engine: Option<PathBuf>,
        /// Roots validated at once (default: the number of cores, at most 4). Each holds one
        /// engine provider process per provider configuration in memory.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// `text` for people, `json` for tools: one object on stdout with `passed`, each
        /// root's result and output, and fmt's, or `error`.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Print the completion script of a shell, made from this command line's definition
    /// (bash: `fanin completions bash > /etc/bash_completion.d/fanin`).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the inventory's JSON Schema (draft-07) for editor completion and checks: Taplo
    /// for TOML (`#:schema ./fanin.schema.json` on the inventory's first line), the YAML
    /// language server (`# yaml-language-server: $schema=./fanin.schema.json`). It states each
    /// field's own rule and the rules across fields JSON Schema can state; those that compare
    /// values from no fixed list (each account once) are `fanin check`'s.
    Schema,
    /// Print a man page (roff), made from this command line's definition: fanin(1), or with
    /// a command, fanin-COMMAND(1) (`fanin man generate > fanin-generate.1`).
    Man {
        /// The command whose page to print.
        command: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LayoutArg {
    Single,
    Stacks,
}

/// The inventory and the tree that generate, check and diff work on.
#[derive(clap::Args)]
struct Target {
    /// The inventory (.toml, .yaml, .yml or .json).
    inventory: PathBuf,
    /// Directory of the generated tree (generate creates it if missing).
    #[arg(long)]
    out: PathBuf,
}

/// What generate (and diff, to show what generate would do) may change.
#[derive(clap::Args)]
struct Changes {
    /// Overwrite or delete generated files edited by hand, and allow removing accounts or
    /// regions that were not retired first.
    #[arg(long)]
    force: bool,
    /// Drop the `moved` blocks of earlier renames: only once every state that uses this tree
    /// has applied them.
    #[arg(long)]
    forget_moves: bool,
    /// Allow removing accounts and regions that are retired: only once `tofu apply` has
    /// destroyed their resources in every state that uses this tree.
    #[arg(long)]
    retired_applied: bool,
}

impl Changes {
    fn options(&self) -> Options {
        Options {
            force: self.force,
            forget_moves: self.forget_moves,
            retired_applied: self.retired_applied,
        }
    }
}

const EXIT_DIFFERENT: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Init { path, from } => match from.source() {
            None => init(&path, None),
            Some((file, aws_config)) => init(&path, Some((&file, aws_config, &from))),
        },
        Command::Generate { target, changes } => {
            generate(&target.inventory, &target.out, changes.options())
        }
        Command::Check { target, format } => check(&target.inventory, &target.out, format),
        Command::Diff { target, changes } => {
            diff(&target.inventory, &target.out, changes.options())
        }
        Command::StateMoves { inventory, from } => {
            let from = match from {
                LayoutArg::Single => fanin::model::Layout::Single,
                LayoutArg::Stacks => fanin::model::Layout::Stacks,
            };
            match fanin::state_moves(&inventory, from) {
                Ok(script) => {
                    print!("{script}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e),
            }
        }
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "fanin", &mut script);
            print_bytes(&script)
        }
        Command::Schema => {
            let mut schema = serde_json::to_string_pretty(&fanin::inventory::json_schema())
                .expect("a JSON value serializes");
            schema.push('\n');
            print_bytes(schema.as_bytes())
        }
        Command::Man { command: name } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            // Building names each command as its man page does (fanin-generate).
            command.build();
            let command = match name {
                None => command,
                Some(name) => match command.find_subcommand(&name) {
                    Some(found) => found.clone().version(env!("CARGO_PKG_VERSION")),
                    None => {
                        let known: Vec<&str> =
                            command.get_subcommands().map(|c| c.get_name()).collect();
                        return fail(format!(
                            "error: no command {}; allowed: {}",
                            fanin::diagnostics::shown(&name),
                            known.join(", ")
                        ));
                    }
                },
            };
            let mut page = Vec::new();
            match clap_mangen::Man::new(command).render(&mut page) {
                Ok(()) => print_bytes(&page),
                Err(e) => fail(format!("error: making the man page: {e}")),
            }
        }
        Command::Validate {
            dir,
            engine,
            jobs,
            format,
        } => validate(&dir, engine.as_deref(), jobs.map(usize::from), format),
    }
}

/// Writes `bytes` to stdout; a closed pipe (`| head`) is an error, not a panic.
fn print_bytes(bytes: &[u8]) -> ExitCode {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(format!("error: writing to stdout: {e}")),
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    ExitCode::from(EXIT_ERROR)
}

/// Writes the example inventory at `path`, or the draft made from an AWS CLI config file.
fn init(path: &Path, from: Option<(&Path, bool, &DraftFrom)>) -> ExitCode {
    use std::io::Write;
    let Some(format) = Format::from_path(path) else {
        return fail(format!(
            "error: {}: fanin reads inventories named *.toml, *.yaml, *.yml or *.json; name the file with one of these and init writes that format",
            path.display()
        ));
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Like generate's --out, a missing directory is created; a file in its place is not.
    if let Some(file) = dir
        .ancestors()
        .find(|a| std::fs::metadata(a).is_ok_and(|meta| !meta.is_dir()))
    {
        return fail(format!(
            "error: {}: is a file, so {} cannot be created below it",
            file.display(),
            path.display()
        ));
    }
    let draft = match from {
        None => None,
        Some((file, aws_config, from)) => {
            let choices = fanin::inventory::draft::Choices {
                hub: from.hub.clone().unwrap_or_default(),
                hub_region: from.hub_region.clone(),
                regions: from.regions.clone(),
                emails: from.emails.clone(),
            };
            let source = if aws_config {
                fanin::DraftSource::AwsConfig(file)
            } else {
                fanin::DraftSource::Csv(file)
            };
            match fanin::draft_inventory(source, &choices, path, format) {
                Ok(draft) => Some((file, draft)),
                Err(e) => return fail(e),
            }
        }
    };
    let contents = draft
        .as_ref()
        .map_or(fanin::example_inventory(format), |(_, d)| d.text.as_str());
    let created = !dir.exists();
    if created && let Err(e) = std::fs::create_dir_all(dir) {
        return fail(format!("error: {}: {e}", dir.display()));
    }
    // Written beside its destination and moved there only when complete, never over an
    // existing file: no half-written inventory, nothing overwritten.
    let written = tempfile::NamedTempFile::new_in(dir).and_then(|mut temp| {
        temp.write_all(contents.as_bytes())?;
        temp.as_file().sync_all()?;
        temp.persist_noclobber(path).map_err(|e| e.error)
    });
    match written {
        Ok(_) => {
            if created {
                println!("created {}", dir.display());
            }
            if let Some((source, draft)) = &draft {
                for skipped in &draft.skipped {
                    eprintln!(
                        "warning: {}: left out {}: {}",
                        source.display(),
                        skipped.what,
                        skipped.reason
                    );
                }
                println!(
                    "drafted {} from {}: the hub and {} members, {} left out",
                    path.display(),
                    source.display(),
                    draft.members,
                    draft.skipped.len()
                );
            }
            println!(
                "wrote {}; edit it, then run: fanin generate {} --out <dir>",
                path.display(),
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => fail(format!(
            "error: {}: already exists; fanin init never overwrites a file",
            path.display()
        )),
        Err(e) => fail(format!("error: {}: {e}", path.display())),
    }
}

fn generate(inventory: &Path, out: &Path, options: Options) -> ExitCode {
    match output::recover(out) {
        Ok(0) => {}
        Ok(n) => eprintln!(
            "note: finished or cleaned up {n} interrupted generate run(s) in {}",
            out.display()
        ),
        Err(e) => return fail(format!("error: {e}")),
    }
    let generation = match fanin::plan_generation(inventory, out, options) {
        Ok(g) => g,
        Err(e) => return fail(e),
    };
    for note in &generation.forced {
        eprintln!("warning: --force: {note}");
    }
    match output::apply(out, &generation.changes, options.force) {
        Ok(report) => {
            for path in &report.written {
                println!("wrote   {}", out.join(path).display());
            }
            for path in &report.deleted {
                println!("deleted {}", out.join(path).display());
            }
            println!(
                "{}: {} written, {} deleted, {} unchanged",
                out.display(),
                report.written.len(),
                report.deleted.len(),
                report.unchanged
            );
            for bus in &generation.intake_buses {
                println!("{}", bus_fill(bus, generation.bus_policy_quota));
            }
            for note in &generation.notes {
                eprintln!("note: {note}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("error: {e}\nnothing was changed")),
    }
}

/// How full an intake bus's policy is: members past the quota go to another bus.
fn bus_fill(bus: &fanin::model::IntakeBus, quota: usize) -> String {
    let members = match bus.members.len() {
        1 => "1 member".to_string(),
        n => format!("{n} members"),
    };
    format!(
        "intake bus {}: {members}, policy {} of {quota} characters ({}%)",
        bus.name,
        bus.policy_len,
        bus.policy_len * 100 / quota.max(1)
    )
}

/// What `check` found: the tree's differences from what generate writes, and the command
/// that fixes them.
struct CheckReport {
    up_to_date: bool,
    tree_exists: bool,
    differences: Vec<output::Difference>,
    /// The command that brings the tree up to date, when it is not.
    fix: Option<String>,
}

impl CheckReport {
    fn json(&self) -> serde_json::Value {
        let differences: Vec<serde_json::Value> = self
            .differences
            .iter()
            .map(|d| serde_json::json!({ "path": d.path(), "kind": d.kind() }))
            .collect();
        let mut report = serde_json::json!({
            "up_to_date": self.up_to_date,
            "tree_exists": self.tree_exists,
            "differences": differences,
        });
        if let Some(fix) = &self.fix {
            report["fix"] = fix.as_str().into();
        }
        report
    }
}

fn check(inventory: &Path, out: &Path, format: ReportFormat) -> ExitCode {
    let report = match check_report(inventory, out) {
        Ok(report) => report,
        Err(message) if format == ReportFormat::Json => {
            eprintln!("{message}");
            println!("{}", serde_json::json!({ "error": message }));
            return ExitCode::from(EXIT_ERROR);
        }
        Err(message) => return fail(message),
    };
    let code = if report.up_to_date {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DIFFERENT)
    };
    if format == ReportFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.json()).expect("a report serializes")
        );
        return code;
    }
    let generate = format!(
        "fanin generate {} --out {}",
        inventory.display(),
        out.display()
    );
    if !report.tree_exists {
        eprintln!(
            "{}: no such directory; `{generate}` writes the tree there",
            out.display()
        );
    } else if report.up_to_date {
        println!(
            "{} is up to date with {}",
            out.display(),
            inventory.display()
        );
    } else {
        for d in &report.differences {
            println!("{d}");
        }
        let count = report.differences.len();
        eprintln!(
            "{} is not what `{generate}` writes: {count} {} differ{}",
            out.display(),
            if count == 1 { "file" } else { "files" },
            if count == 1 { "s" } else { "" },
        );
        let fix = report.fix.as_deref().unwrap_or_default();
        let edited = report
            .differences
            .iter()
            .any(|d| matches!(d, output::Difference::Edited(_)));
        if edited {
            // generate refuses to overwrite a hand edit without --force.
            eprintln!(
                "to fix: `fanin diff {} --out {}` shows each hand edit (as what generate would undo); \
move it into the inventory or a file of your own (such as an *_override.tf), then run `{fix}` and commit",
                inventory.display(),
                out.display()
            );
        } else {
            eprintln!("to fix: run `{fix}` and commit the tree");
        }
    }
    code
}

/// Compares the tree in `out` with what generate writes for `inventory`; `Err` with the
/// message when either cannot be read.
fn check_report(inventory: &Path, out: &Path) -> Result<CheckReport, String> {
    // check answers whether the tree is what generate writes. Whether dropping a retired
    // account is safe yet is asked by generate, when the user runs the fix check names.
    let options = Options {
        retired_applied: true,
        ..Options::default()
    };
    let generation = fanin::plan_generation(inventory, out, options).map_err(|e| e.to_string())?;
    let generate = format!(
        "fanin generate {} --out {}",
        inventory.display(),
        out.display()
    );
    if !out.exists() {
        return Ok(CheckReport {
            up_to_date: false,
            tree_exists: false,
            differences: Vec::new(),
            fix: Some(generate),
        });
    }
    let differences = output::differences(out, &generation.changes, generation.previous.is_some())
        .map_err(|e| format!("error: {e}"))?;
    let edited = differences
        .iter()
        .any(|d| matches!(d, output::Difference::Edited(_)));
    Ok(CheckReport {
        up_to_date: differences.is_empty(),
        tree_exists: true,
        fix: (!differences.is_empty()).then(|| {
            if edited {
                format!("{generate} --force")
            } else {
                generate
            }
        }),
        differences,
    })
}

fn diff(inventory: &Path, out: &Path, options: Options) -> ExitCode {
    use std::io::IsTerminal;
    let generation = match fanin::plan_generation(inventory, out, options) {
        Ok(g) => g,
        Err(e) => return fail(e),
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    print!("{}", output::unified_diff(&generation.changes, color));
    ExitCode::SUCCESS
}

fn validate(
    dir: &Path,
    explicit: Option<&Path>,
    jobs: Option<usize>,
    format: ReportFormat,
) -> ExitCode {
    let json = format == ReportFormat::Json;
    let (engine, validation) = match run_validation(dir, explicit, jobs, json) {
        Ok(done) => done,
        Err(message) if json => {
            eprintln!("{message}");
            println!("{}", serde_json::json!({ "error": message }));
            return ExitCode::from(EXIT_ERROR);
        }
        Err(message) => return fail(message),
    };
    if json {
        return report_validation_json(&engine, &validation);
    }
    report_validation(dir, &engine, &validation)
}

/// Finds the engine and the tree's roots and validates them (`capture`: keep every output
/// for a report instead of printing it).
fn run_validation(
    dir: &Path,
    explicit: Option<&Path>,
    jobs: Option<usize>,
    capture: bool,
) -> Result<(engine::Engine, engine::Validation), String> {
    if !dir.is_dir() {
        return Err(format!("error: {}: not a directory", dir.display()));
    }
    let Some(engine) = engine::find(explicit) else {
        return Err(
            "error: no engine found: install OpenTofu (tofu) or Terraform, or name one with --engine PATH or FANIN_ENGINE".into(),
        );
    };
    // The roots are where fanin wrote a versions.tf; a tree without a manifest is one root.
    let roots = match output::read_manifest(dir) {
        Ok(Some(manifest)) => engine::roots(manifest.files.keys().map(String::as_str)),
        Ok(None) => vec![String::new()],
        Err(e) => return Err(format!("error: {e}")),
    };
    let jobs = jobs.unwrap_or_else(default_jobs);
    match engine::validate(&engine, dir, &roots, jobs, capture) {
        Ok(validation) => Ok((engine, validation)),
        Err(e) => Err(format!(
            "error: cannot run the engine {} (chosen by {}): {e}",
            engine.program.display(),
            engine.chosen_by
        )),
    }
}

/// `validate --format json`: the engine, whether everything passed, each root's result (the
/// step that failed, if one did, and the engine's output) and fmt's.
fn report_validation_json(engine: &engine::Engine, v: &engine::Validation) -> ExitCode {
    let roots: Vec<serde_json::Value> = v
        .roots
        .iter()
        .map(|root| {
            let failed = root.steps.iter().find(|s| !s.passed);
            serde_json::json!({
                "root": root.root,
                "passed": failed.is_none(),
                "failed_step": failed.map(|s| s.args.join(" ")),
                "output": root.output,
            })
        })
        .collect();
    let passed = v.fmt.as_ref().is_some_and(|fmt| fmt.passed);
    let fmt = v.fmt.as_ref().map(|fmt| {
        serde_json::json!({
            "step": fmt.args.join(" "),
            "passed": fmt.passed,
            "output": v.fmt_output,
        })
    });
    let report = serde_json::json!({
        "engine": engine.program.display().to_string(),
        "passed": passed,
        "roots": roots,
        "fmt": fmt,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&report).expect("a report serializes")
    );
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_DIFFERENT)
    }
}

/// Each root's engine processes take memory (one provider process per provider
/// configuration): by default as many roots at once as there are cores, at most 4.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

fn report_validation(dir: &Path, engine: &engine::Engine, v: &engine::Validation) -> ExitCode {
    let program = engine.program.display();
    let several = v.roots.len() > 1;
    for root in &v.roots {
        let place = if root.root.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&root.root)
        };
        match root.steps.iter().find(|s| !s.passed) {
            None if several => println!("{}: init and validate passed", place.display()),
            None => {}
            Some(step) => {
                if several {
                    eprint!("{}", root.output);
                }
                eprintln!(
                    "{}: `{program} {}` failed",
                    place.display(),
                    step.args.join(" ")
                );
            }
        }
    }
    // fmt runs only when every root passed.
    match &v.fmt {
        Some(step) if step.passed => {
            let what = if several {
                format!(
                    "{} roots: init and validate, and fmt -check, passed",
                    v.roots.len()
                )
            } else {
                "init, validate and fmt -check passed".to_string()
            };
            println!("{}: {what} ({program})", dir.display());
            ExitCode::SUCCESS
        }
        Some(step) if !step.passed => {
            eprintln!(
                "{}: `{program} {}` failed",
                dir.display(),
                step.args.join(" ")
            );
            ExitCode::from(EXIT_DIFFERENT)
        }
        _ => ExitCode::from(EXIT_DIFFERENT),
    }
}
