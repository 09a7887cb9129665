//! The `apigen` command line.
//!
//! Exit codes: 0 success, 1 the spec has errors (or `generate --check`
//! found changes), 2 usage, IO, or a refusal to overwrite hand edits.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use apigen::diagnostic::paint;
use apigen::write::{self, Conflict, KeptReason, WriteError};
use clap::{Parser, Subcommand, ValueEnum};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "apigen",
    version,
    about = "Generate a serverless Rust backend (Lambda, API Gateway, DynamoDB) from an annotated OpenAPI spec"
)]
struct Cli {
    /// Colour in messages: `auto` uses it on a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Create a new project from SPEC.
    New {
        /// The OpenAPI document (YAML or JSON, 3.0 or 3.1).
        spec: PathBuf,
        /// Where to create the project [default: the package name].
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The package name [default: `x-apigen.name`, or the spec's title].
        #[arg(long)]
        name: Option<String>,
        /// Generate into a non-empty folder: generated files are overwritten,
        /// files you own are kept.
        #[arg(long)]
        force: bool,
        /// A folder of templates that override the built-in ones.
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Use the apigen-runtime crate in this folder (a copy shared by a workspace's
        /// services, or a checkout of apigen's runtime/) instead of vendoring one into the
        /// project.
        #[arg(long, value_name = "DIR")]
        runtime: Option<PathBuf>,
    },
    /// Regenerate a project from its spec; files you own are never touched.
    Generate {
        /// The spec [default: the project's openapi.yaml].
        spec: Option<PathBuf>,
        /// The project [default: the project the current folder is in].
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The package name [default: as the project was generated].
        #[arg(long)]
        name: Option<String>,
        /// Template overrides [default: as the project was generated].
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Use the apigen-runtime crate in this folder from now on, instead of the vendored
        /// copy (which is removed) [default: as the project was generated].
        #[arg(long, value_name = "DIR")]
        runtime: Option<PathBuf>,
        /// Overwrite generated files that were edited by hand.
        #[arg(long)]
        force: bool,
        /// Write nothing; print what would change as a diff and exit 1 if
        /// anything would.
        #[arg(long, conflicts_with = "force")]
        check: bool,
    },
    /// Check a spec and its hints, and explain what will be generated.
    Check { spec: PathBuf },
    /// Reads and parses SPEC as `new` does first, and nothing more: the baseline that the
    /// benchmark of `new` compares it with.
    #[command(hide = true)]
    Parse { spec: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        Color::Always => true,
        Color::Never => false,
        Color::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    match run(cli.command, color) {
        Ok(code) => code,
        Err(e) => report_error(&e, color),
    }
}

fn report_error(e: &anyhow::Error, color: bool) -> ExitCode {
    let error = paint(color, "1;31", "error");
    match e.downcast_ref::<apigen::Error>() {
        // A spec with errors is reported in full, each with its location.
        Some(
            apigen::Error::Invalid(report)
            | apigen::Error::Load(apigen::load::LoadError::Invalid(report)),
        ) => {
            eprint!("{}", report.render(color));
            ExitCode::from(1)
        }
        Some(apigen::Error::Emit(apigen::emit::EmitError::Overrides(report))) => {
            eprint!("{}", report.render(color));
            ExitCode::from(1)
        }
        Some(apigen::Error::Write(WriteError::Edited(conflicts))) => {
            eprint!("{}", edited(conflicts, color));
            ExitCode::from(2)
        }
        _ => {
            eprintln!("{error}: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn edited(conflicts: &[Conflict], color: bool) -> String {
    let n = conflicts.len();
    let mut out = format!(
        "{}: {} generated file{} changed by hand since apigen wrote {}; nothing was written\n",
        paint(color, "1;31", "error"),
        n,
        if n == 1 { "" } else { "s" },
        if n == 1 { "it" } else { "them" },
    );
    for c in conflicts {
        out.push_str(&format!("  {}: {}\n", c.path, c.reason.describe()));
    }
    let eq = paint(color, "1;34", "=");
    out.push_str(&format!("  {eq} help: keep your code in src/handlers.rs (or a --templates override), or delete a file's `@generated` line to make it yours\n"));
    out.push_str(&format!("  {eq} help: `apigen generate --check` shows the changes; `apigen generate --force` overwrites the edits\n"));
    out
}

fn run(command: Command, color: bool) -> anyhow::Result<ExitCode> {
    match command {
        Command::Parse { spec } => {
            apigen::load::load(&spec).map_err(apigen::Error::from)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::New {
            spec,
            output,
            name,
            force,
            templates,
            runtime,
        } => {
            let mut options = apigen::Options {
                name,
                templates,
                ..apigen::Options::default()
            };
            if let Some(folder) = &runtime {
                prepare_runtime(folder, color)?;
            }
            // The project's folder is known before its name only when `-o` gives it.
            let mut dir = output.clone();
            options.overrides = dir.as_ref().map(|d| d.join(apigen::overrides::FILE));
            if let (Some(folder), Some(dir)) = (&runtime, &dir) {
                options = options.runtime_at(folder, dir);
            }
            let mut generated = apigen::plan(&spec, &options)?;
            let dir = match dir.take() {
                Some(dir) => dir,
                None => {
                    let dir = PathBuf::from(&generated.api.settings.name);
                    if let Some(folder) = &runtime {
                        options = options.runtime_at(folder, &dir);
                        generated = apigen::plan(&spec, &options)?;
                    }
                    dir
                }
            };
            eprint!("{}", generated.report.render(color));
            // `--force` over an existing project regenerates it in place.
            let _lock = if dir.join(write::manifest::PATH).is_file() {
                Some(write::lock(&dir).map_err(apigen::Error::from)?)
            } else {
                None
            };
            let recorded = apigen::record(&options, &dir);
            let outcome = write::create(&generated.plan, &dir, &recorded, force)
                .map_err(apigen::Error::from)?;
            eprintln!(
                "{} `{}` ({}) from `{}`: {}, {}",
                paint(color, "1;32", "created"),
                dir.display(),
                apigen::tally(outcome.changed.len(), "file"),
                spec.display(),
                apigen::tally(generated.api.operations.len(), "operation"),
                apigen::tally(generated.api.entities.len(), "entity")
            );
            eprintln!("next: cd {} && cargo test && cargo run", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            spec,
            output,
            name,
            templates,
            runtime,
            force,
            check,
        } => {
            let dir = match output {
                Some(dir) => dir,
                None => project_dir()?,
            };
            // Held from reading the project to writing it: two runs would
            // each plan against files the other is replacing.
            let _lock = if check {
                None
            } else {
                Some(write::lock(&dir).map_err(apigen::Error::from)?)
            };
            if !check && write::recover(&dir, &mut write::OsFs).map_err(apigen::Error::from)? {
                eprintln!(
                    "{}: rolled back an interrupted regeneration first (its journal was `{}`)",
                    paint(color, "1;36", "note"),
                    write::transaction::JOURNAL
                );
            }
            let mut options = apigen::Options {
                name,
                templates,
                ..apigen::Options::default()
            };
            if let Some(folder) = &runtime {
                prepare_runtime(folder, color)?;
                options = options.runtime_at(folder, &dir);
            }
            let plan = apigen::regeneration(&dir, spec.as_deref(), options)?;
            eprint!("{}", plan.generated.report.render(color));
            if check {
                return check_only(&plan, color);
            }
            let outcome = write::regenerate(&plan.generated.plan, &dir, &plan.recorded, force)
                .map_err(apigen::Error::from)?;
            summarize(&plan, &outcome, color);
            advise(&plan, color);
            if let Some(path) = runtime.and(plan.recorded.runtime.as_deref()) {
                eprintln!(
                    "{}: in Cargo.toml, give apigen-runtime `path = \"{path}\"`",
                    paint(color, "1;36", "note"),
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { spec } => {
            let generated = apigen::plan(&spec, &apigen::Options::default())?;
            eprint!("{}", generated.report.render(color));
            print!("{}", apigen::explain(&generated.api));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The project the current folder is in; the current folder itself when it
/// is not in one but holds a spec.
/// The folder `--runtime` names: an apigen-runtime crate to use, or a missing or empty folder
/// to put the runtime in, so that a typo is an error here rather than a cargo error later.
fn prepare_runtime(folder: &std::path::Path, color: bool) -> anyhow::Result<()> {
    let wanted = apigen::emit::RUNTIME_VERSION;
    let manifest = folder.join("Cargo.toml");
    if manifest.is_file() {
        let text = std::fs::read_to_string(&manifest)
            .with_context(|| format!("cannot read `{}`", manifest.display()))?;
        anyhow::ensure!(
            text.lines().any(|l| l.trim() == "name = \"apigen-runtime\""),
            "`{}` is not the apigen-runtime crate (its Cargo.toml names another package)\n  = help: give --runtime an apigen-runtime folder, or a missing or empty one for apigen to fill",
            folder.display()
        );
        let version = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("version = \""))
            .and_then(|v| v.strip_suffix('"'));
        if version != Some(wanted) {
            eprintln!(
                "{}: `{}` holds apigen-runtime {}; the generated code is written for {wanted}\n  {} help: empty the folder and run again to put {wanted} there",
                paint(color, "1;33", "warning"),
                folder.display(),
                version.unwrap_or("of an unknown version"),
                paint(color, "1;34", "="),
            );
        }
        return Ok(());
    }
    let empty = match std::fs::read_dir(folder) {
        Ok(mut entries) => entries.next().is_none(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(e).with_context(|| format!("cannot read `{}`", folder.display())),
    };
    anyhow::ensure!(
        empty,
        "`{}` holds files but no Cargo.toml, so it is not an apigen-runtime crate\n  = help: give --runtime an apigen-runtime folder, or a missing or empty one for apigen to fill",
        folder.display()
    );
    for (path, text) in apigen::emit::RUNTIME_FILES {
        let target = folder.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create `{}`", parent.display()))?;
        }
        write::write_file(&target, text).map_err(apigen::Error::from)?;
    }
    eprintln!(
        "{} apigen-runtime {wanted} in `{}`, for every project given this --runtime",
        paint(color, "1;32", "wrote"),
        folder.display()
    );
    Ok(())
}

fn project_dir() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    if let Some(dir) = apigen::find_project(&cwd) {
        return Ok(dir);
    }
    anyhow::ensure!(
        cwd.join("openapi.yaml").is_file(),
        "`{}` is not in a generated project (no .apigen/manifest.json here or above, and no openapi.yaml)\n  = help: run it inside a project, or name one: `apigen generate SPEC -o DIR`",
        cwd.display()
    );
    Ok(cwd)
}

fn check_only(plan: &apigen::Regeneration, color: bool) -> anyhow::Result<ExitCode> {
    // Forced, so that the diff also shows what hand edits would become.
    let changes = write::changes(&plan.generated.plan, &plan.dir, &plan.recorded, true)
        .map_err(apigen::Error::from)?;
    print!("{}", write::diff::unified(&changes));
    for c in &changes.overwritten {
        eprintln!(
            "{}: `{}` was {}; `apigen generate` would refuse to overwrite it",
            paint(color, "1;33", "warning"),
            c.path,
            c.reason.describe()
        );
    }
    if changes.is_empty() {
        eprintln!(
            "`{}` is up to date with `{}`",
            plan.dir.display(),
            plan.spec.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let n = changes.changes.len();
    eprintln!(
        "{}: regenerating `{}` from `{}` would change {n} file{}",
        paint(color, "1;31", "error"),
        plan.dir.display(),
        plan.spec.display(),
        if n == 1 { "" } else { "s" }
    );
    Ok(ExitCode::from(1))
}

fn summarize(plan: &apigen::Regeneration, outcome: &write::Outcome, color: bool) {
    for (verb, path) in &outcome.changed {
        eprintln!("{:>12} {path}", paint(color, "1;32", &capitalize(verb)));
    }
    for c in &outcome.overwritten {
        eprintln!(
            "{}: overwrote your edits to `{}` (--force)",
            paint(color, "1;33", "warning"),
            c.path
        );
    }
    for k in outcome.kept.iter().filter(|k| k.why == KeptReason::Adopted) {
        eprintln!(
            "{}: `{}` is yours (its `@generated` line is gone), so it was not regenerated",
            paint(color, "1;36", "note"),
            k.path
        );
        if k.path == "template.yaml" {
            adopted_template(plan, color);
        }
    }
    let yours: Vec<&str> = outcome.kept.iter().map(|k| k.path.as_str()).collect();
    let yours = match yours.len() {
        0 => "none of yours to keep".to_string(),
        n => format!("{n} of yours kept ({})", yours.join(", ")),
    };
    eprintln!(
        "{} `{}` from `{}`: {} file{} changed, {yours}",
        paint(color, "1;32", "regenerated"),
        plan.dir.display(),
        plan.spec.display(),
        outcome.changed.len(),
        if outcome.changed.len() == 1 { "" } else { "s" },
    );
}

/// A template the user took over deploys only the routes it lists: say which of the spec's
/// it lacks, as requests to them would never reach the function.
fn adopted_template(plan: &apigen::Regeneration, color: bool) {
    let Ok(adopted) = std::fs::read_to_string(plan.dir.join("template.yaml")) else {
        return;
    };
    let Some(generated) = plan.generated.plan.get("template.yaml") else {
        return;
    };
    let missing = apigen::overrides::routes::missing(&adopted, &generated.contents);
    if missing.is_empty() {
        return;
    }
    let routes: Vec<String> = missing.iter().map(|(m, p)| format!("{m} {p}")).collect();
    eprintln!(
        "{}: `template.yaml` deploys no route for {}: API Gateway answers them 404 and never calls the function
  = help: add those events to it, or put the `@generated` line back and move your changes to `{}`, which apigen merges into the template it generates",
        paint(color, "1;33", "warning"),
        routes.join(", "),
        apigen::overrides::FILE,
    );
}

/// What the new spec asks of the user's code: the compiler will say it too,
/// but not with the code to paste.
fn advise(plan: &apigen::Regeneration, color: bool) {
    runtime_changed(plan, color);
    let api = &plan.generated.api;
    let gaps = apigen::user_code::handler_gaps(api, &plan.dir);
    let at = gaps
        .files
        .first()
        .map(|f| apigen::emit::project_path(f, &plan.dir))
        .unwrap_or_default();
    if !gaps.missing.is_empty() {
        let n = gaps.missing.len();
        eprintln!(
            "{}: `impl Handlers` in {at} has no method for {n} operation{}; the build fails until it does. Add:\n",
            paint(color, "1;33", "warning"),
            if n == 1 { "" } else { "s" }
        );
        for m in &gaps.missing {
            eprintln!("{}", m.stub);
        }
    }
    for method in &gaps.unknown {
        eprintln!(
            "{}: `impl Handlers` in {at} has `{method}`, which is no longer an operation: delete it",
            paint(color, "1;33", "warning")
        );
    }
    let planned = plan
        .generated
        .plan
        .get("Cargo.toml")
        .map(|f| f.contents.as_str());
    let yours = std::fs::read_to_string(plan.dir.join("Cargo.toml")).ok();
    if let (Some(planned), Some(yours)) = (planned, yours) {
        let missing = apigen::user_code::missing_dependencies(planned, &yours);
        if !missing.is_empty() {
            eprintln!(
                "{}: Cargo.toml is yours and lacks dependencies the generated code now uses; add to [dependencies]:\n",
                paint(color, "1;33", "warning")
            );
            for line in missing {
                eprintln!("    {line}");
            }
            eprintln!();
        }
        for (krate, feature) in apigen::user_code::missing_features(planned, &yours) {
            eprintln!(
                "{}: Cargo.toml is yours and its `{krate}` lacks the feature `{feature}` that the generated code now uses; add it to that dependency's `features`",
                paint(color, "1;33", "warning"),
            );
        }
    }
}

/// Says when the generated code now targets another runtime than the project's last
/// generation did, and what changed in between.
fn runtime_changed(plan: &apigen::Regeneration, color: bool) {
    let now = apigen::emit::RUNTIME_VERSION;
    let before = plan.runtime_before.as_deref();
    if before == Some(now) {
        return;
    }
    let vendored = plan.recorded.runtime.is_none();
    let was = before.map_or_else(
        || "a runtime inside src/generated/ (before apigen-runtime)".to_string(),
        |v| format!("apigen-runtime {v}"),
    );
    eprintln!(
        "{}: the generated code now needs apigen-runtime {now}; the project had {was}",
        paint(color, "1;36", "note"),
    );
    let eq = paint(color, "1;34", "=");
    if vendored {
        eprintln!(
            "  {eq} the copy in {}/ was updated; in Cargo.toml, require version \"{}\" of apigen-runtime",
            apigen::emit::VENDOR,
            apigen::emit::runtime_requirement()
        );
    } else {
        eprintln!(
            "  {eq} update the runtime in `{}` to {now}",
            plan.recorded.runtime.as_deref().unwrap_or_default()
        );
    }
    let changes = apigen::emit::runtime_changes_since(before);
    if !changes.is_empty() {
        eprintln!("  {eq} what changed:");
        for line in changes.lines() {
            eprintln!("    {line}");
        }
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
