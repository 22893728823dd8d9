//! `genesys-emulator`: a local Genesys Cloud (login + API host) for development and tests.

use std::process::ExitCode;

use clap::Parser;

/// A strict, local Genesys Cloud login + API host.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Command {
    #[command(flatten)]
    args: genesys_emulator::cli::Args,
}

fn main() -> ExitCode {
    genesys_emulator::cli::run(Command::parse().args)
}
