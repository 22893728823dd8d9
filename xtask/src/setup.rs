//! Running commands, and installing what the commands need when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root (the parent of `xtask/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A step's failure, in words.
pub type Result<T = ()> = std::result::Result<T, String>;

/// The command-line option `flag`: `None` when absent, `Some(None)` when it ends the arguments without its value.
pub fn option<'a>(args: &'a [String], flag: &str) -> Option<Option<&'a str>> {
    args.iter().position(|a| a == flag).map(|i| args.get(i + 1).map(String::as_str))
}

/// Runs `cmd`, echoing it, and fails with its description when it does not succeed.
pub fn run(cmd: &mut Command) -> Result {
    eprintln!("\x1b[1m$ {}\x1b[0m", describe(cmd));
    let status = cmd.status().map_err(|e| format!("cannot start `{}`: {e}", describe(cmd)))?;
    if status.success() { Ok(()) } else { Err(format!("`{}` failed ({status})", describe(cmd))) }
}

/// A `cargo` command at the repository root.
pub fn cargo(args: &[&str]) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(args).current_dir(root());
    cmd
}

/// A `cargo +nightly` command at the repository root (through the rustup proxy, not the stable cargo running us).
pub fn cargo_nightly(args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly").args(args).current_dir(root());
    for var in ["RUSTUP_TOOLCHAIN", "RUSTC", "RUSTDOC", "CARGO"] {
        cmd.env_remove(var);
    }
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

/// True when `program` runs (`program --version` succeeds).
pub fn has(program: &str) -> bool {
    Command::new(program).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// The wasm32 target for the stable toolchain (a no-op when present).
pub fn wasm_target() -> Result {
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

fn nightly() -> Result {
    if !Command::new("rustup").args(["run", "nightly", "rustc", "--version"]).output().is_ok_and(|o| o.status.success())
    {
        run(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))?;
    }
    Ok(())
}

/// Nightly with the wasm32 target and the standard library's source (for the size-optimized browser build).
pub fn nightly_wasm() -> Result {
    nightly()?;
    run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown", "--toolchain", "nightly"]))?;
    run(Command::new("rustup").args(["component", "add", "rust-src", "--toolchain", "nightly"]))
}

/// `cargo-fuzz` and a nightly toolchain for the fuzz smoke run.
pub fn cargo_fuzz() -> Result {
    nightly()?;
    if !Command::new("cargo").args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success()) {
        run(&mut cargo(&["install", "cargo-fuzz", "--version", "0.13.2"]))?;
    }
    Ok(())
}

/// `cargo-deny` (from crates.io, pinned) for the licence, ban and source checks.
pub fn cargo_deny() -> Result {
    if !Command::new("cargo").args(["deny", "--version"]).output().is_ok_and(|o| o.status.success()) {
        run(&mut cargo(&["install", "cargo-deny", "--version", "0.20.2", "--locked"]))?;
    }
    Ok(())
}

/// `npm ci` at the repository root when `node_modules` is missing or older than the lock file.
pub fn npm_packages() -> Result {
    let root = root();
    let stamp = root.join("node_modules/.package-lock.json");
    let lock = root.join("package-lock.json");
    let fresh = match (
        std::fs::metadata(&stamp).and_then(|m| m.modified()),
        std::fs::metadata(&lock).and_then(|m| m.modified()),
    ) {
        (Ok(installed), Ok(locked)) => installed >= locked,
        _ => false,
    };
    if fresh {
        return Ok(());
    }
    if !has("npm") {
        return Err("npm is missing: install Node.js 20+ with npm (Debian: `apt-get install -y nodejs npm`)".into());
    }
    // No package here needs its install script (esbuild finds its platform binary without it).
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"]).current_dir(&root))
}

/// A tool installed by `npm ci` (`node_modules/.bin/<name>`).
pub fn npm_bin(name: &str) -> PathBuf {
    root().join("node_modules/.bin").join(name)
}

/// Debian packages, installed with apt-get when we are root; otherwise a precise instruction.
pub fn debian_packages(programs: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = programs.iter().filter(|(prog, _)| !has(prog)).map(|(_, pkg)| *pkg).collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !is_root() {
        return Err(format!(
            "missing {}: install with `sudo apt-get install -y {}` and run again",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    run(Command::new("apt-get").arg("update").env("DEBIAN_FRONTEND", "noninteractive"))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}
