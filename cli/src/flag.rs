//! `liveops flag …`: the flag catalogue. (Setting scoped overrides through
//! the collector comes with mitigations.)

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Render a flag file as Markdown (docs/flags.md is this for config/flags.toml).
    Docs {
        /// The flag file; the shipped config/flags.toml when omitted.
        file: Option<PathBuf>,
    },
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Docs { file } = cmd;
    let (set, source) = match &file {
        Some(path) => match liveops_config::load_flags(path) {
            Ok(set) => (set, path.display().to_string()),
            Err(errors) => {
                eprintln!("{errors}");
                return Ok(ExitCode::FAILURE);
            }
        },
        None => (
            liveops_config::flags::parse("config/flags.toml", liveops_config::DEFAULT_FLAGS_TOML)?,
            "config/flags.toml".to_owned(),
        ),
    };
    print!("{}", liveops_config::flags::docs::markdown(&set, &source));
    Ok(ExitCode::SUCCESS)
}
