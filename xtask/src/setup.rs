//! Running commands, and installing what the commands need when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A step's failure, in words.
pub type Result<T = ()> = std::result::Result<T, String>;

/// Runs `cmd`, echoing it, and fails with its description when it does not succeed.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("\x1b[1m$ {}\x1b[0m", describe(cmd));
    let status = cmd
        .status()
        .map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(cmd)))
    }
}

/// A `cargo` command at the repository root.
pub fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args).current_dir(root());
    cmd
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// The wasm32 target for the stable toolchain (a no-op when present).
pub fn wasm_target() -> Result {
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

/// `cargo-fuzz` and a nightly toolchain for the fuzz smoke run.
pub fn cargo_fuzz() -> Result {
    if !Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    if !Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        run(&mut cargo(&[
            "install",
            "cargo-fuzz",
            "--version",
            "0.13.2",
        ]))?;
    }
    Ok(())
}
