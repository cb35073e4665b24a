//! `liveops check-config PATH`: validate before deploying. Prints every
//! error as `file:line:col: message` and exits 1 if there is any. A
//! collector file's comms templates are rendered against a sample
//! incident in every channel, state and severity.

use std::path::PathBuf;
use std::process::ExitCode;

use liveops_config::Kind;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A config file, or a directory whose *.toml files are all checked.
    path: PathBuf,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let checked = liveops_config::check_path(&args.path);
    if checked.is_empty() {
        eprintln!("{}: no *.toml files to check", args.path.display());
        return Ok(ExitCode::FAILURE);
    }
    let mut failed = false;
    for c in checked {
        match c.result {
            Ok(kind) => {
                let what = match kind {
                    Kind::Agent => "agent",
                    Kind::Collector => "collector",
                    Kind::Flags => "flag",
                    Kind::Mitigations => "mitigations",
                    Kind::Oncall => "on-call schedule",
                    Kind::Paging => "paging policy",
                };
                if kind == Kind::Collector && !comms_ok(&c.path) {
                    failed = true;
                    continue;
                }
                println!("{}: ok ({what} config)", c.path.display());
            }
            Err(errors) => {
                failed = true;
                eprintln!("{errors}");
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Renders the comms templates a valid collector file names (or the
/// shipped ones) and reads the secret files it names (webhook URLs, the
/// chat bot's signing secret); prints each error.
fn comms_ok(path: &std::path::Path) -> bool {
    let Ok(cfg) = liveops_config::load_collector(path) else {
        return true;
    };
    let errors = match liveops_collector::comms::Templates::from_config(&cfg.comms) {
        Ok(t) => t.check(),
        Err(e) => e,
    };
    for e in &errors {
        eprintln!("{e}");
    }
    // The secret files it names, read as the collector reads them at start.
    let mut ok = errors.is_empty();
    let outbound =
        liveops_collector::comms::deliver::Outbound::new(&cfg.comms, None, Default::default());
    if let Err(e) = outbound {
        eprintln!("{e}");
        ok = false;
    }
    if let Err(e) = liveops_collector::chat::Chat::new(&cfg.chat) {
        eprintln!("{e}");
        ok = false;
    }
    ok
}
