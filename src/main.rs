//! The `apigen` command line.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "apigen",
    version,
    about = "Generate a serverless Rust backend (Lambda, API Gateway, DynamoDB) from an annotated OpenAPI spec"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
        /// Generate into a non-empty folder (files you own are kept).
        #[arg(long)]
        force: bool,
        /// A folder of templates that override the built-in ones.
        #[arg(long)]
        templates: Option<PathBuf>,
    },
    /// Regenerate a project from its spec; files you own are never touched.
    Generate {
        /// The spec [default: openapi.yaml in the current folder].
        spec: Option<PathBuf>,
        /// The project folder [default: the current folder].
        #[arg(short, long)]
        output: Option<PathBuf>,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        templates: Option<PathBuf>,
    },
    /// Check a spec and its hints, and explain what will be generated.
    Check { spec: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // A spec with errors has already been reported in full.
            if let Some(apigen::Error::Invalid(report)) = e.downcast_ref::<apigen::Error>() {
                eprint!("{}", report.render(std::io::stderr().is_terminal()));
                return ExitCode::from(1);
            }
            if let Some(apigen::Error::Load(apigen::load::LoadError::Invalid(report))) =
                e.downcast_ref::<apigen::Error>()
            {
                eprint!("{}", report.render(std::io::stderr().is_terminal()));
                return ExitCode::from(1);
            }
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let color = std::io::stderr().is_terminal();
    match cli.command {
        Command::New {
            spec,
            output,
            name,
            force,
            templates,
        } => {
            let generated = apigen::plan(&spec, &apigen::Options { name, templates })?;
            eprint!("{}", generated.report.render(color));
            let dir = output.unwrap_or_else(|| PathBuf::from(&generated.api.settings.name));
            let outcome =
                apigen::write::create(&generated.plan, &dir, force).map_err(apigen::Error::from)?;
            eprintln!(
                "created `{}` ({} files) from `{}`: {} operations, {} entities",
                dir.display(),
                outcome.written.len(),
                spec.display(),
                generated.api.operations.len(),
                generated.api.entities.len()
            );
            eprintln!("next: cd {} && cargo test && cargo run", dir.display());
        }
        Command::Generate {
            spec,
            output,
            name,
            templates,
        } => {
            let dir = output.unwrap_or_else(|| PathBuf::from("."));
            let spec = spec.unwrap_or_else(|| dir.join("openapi.yaml"));
            let generated = apigen::plan(&spec, &apigen::Options { name, templates })
                .with_context(|| format!("cannot generate from `{}`", spec.display()))?;
            eprint!("{}", generated.report.render(color));
            let outcome =
                apigen::write::update(&generated.plan, &dir).map_err(apigen::Error::from)?;
            eprintln!(
                "{} files written, {} of yours kept",
                outcome.written.len(),
                outcome.kept.len()
            );
        }
        Command::Check { spec } => {
            let generated = apigen::plan(&spec, &apigen::Options::default())?;
            eprint!("{}", generated.report.render(color));
            print!("{}", apigen::explain(&generated.api));
        }
    }
    Ok(ExitCode::SUCCESS)
}
