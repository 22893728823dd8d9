//! Repository commands. `cargo xtask <command>`:
//!
//! * `test`  — every test: fmt, clippy, unit/property/black-box tests, wasm build, fuzz smoke, browser tests.
//! * `demo`  — builds the npm package, starts the emulator and serves the demo SPA.
//! * `build-web` — builds the npm package `genesys-auth` into `target/npm/genesys-auth`.
//! * `bench` — benchmarks; prints a table and writes `target/bench/results.json`.
//! * `mutants` — mutation testing of the core and the emulator's OAuth handler (slow; by hand).
//!
//! Each command installs what it is missing (the wasm32 target, cargo-fuzz, Chromium when run as root, npm
//! packages from the committed lock files) or stops and says exactly what to install.

mod bench;
mod dist;
mod e2e;
mod mutants;
mod serve;
mod setup;
mod shrink;
mod test;
mod web;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::all(&args[1..]),
        Some("demo") => serve::demo(&args[1..]),
        Some("build-web") => web::build().map(|_| ()),
        Some("e2e") => e2e::command(&args[1..]),
        Some("bench") => bench::command(&args[1..]),
        Some("dist") => dist::command(&args[1..]),
        Some("mutants") => mutants::command(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <test|demo|build-web|e2e|bench|dist|mutants>");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
