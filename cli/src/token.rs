//! `liveops token new`: make a random API token and print it with the
//! `[[token]]` table (its SHA-256) to paste into the collector's config.
//! The collector never stores the token itself.

use std::process::ExitCode;

use liveops_config::Role;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print a new token and its config entry.
    New {
        /// A name for who uses it (shown in the audit log).
        #[arg(long)]
        name: String,
        /// agent, viewer, responder or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| {
        format!("unknown role `{s}`, expected agent, viewer, responder, comms or admin")
    })
}

pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::New { name, role } = cmd;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let sha = hex::encode(Sha256::digest(token.as_bytes()));
    println!("# token (give it to {name}; it is shown only now):\n# {token}\n");
    println!(
        "[[token]]\nname = \"{name}\"\nrole = \"{}\"\nsha256 = \"{sha}\"",
        role.as_str()
    );
    Ok(ExitCode::SUCCESS)
}
