//! `cargo xtask dist`: what a release ships, in `target/dist/`: the npm tarball (`npm pack`, checked by publint and
//! arethetypeswrong), the `.crate` file of each publishable crate (`cargo package`, each built from its packaged
//! sources), the CLI binary for this platform, and `SHA256SUMS`. One version number for all of them, checked.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::setup::{self, Result, cargo, root, run};

/// The crates a release publishes, in dependency order.
pub const CRATES: &[&str] =
    &["genesys-auth", "genesys-emulator", "genesys-auth-native", "genesys-auth-web", "genesys-auth-cli"];

/// Removes what earlier `cargo package` runs unpacked of our crates into cargo's home. Cargo verifies a crate
/// against the others through a registry in `target/package`, and unpacks them under `registry/src/-<hash>` (no
/// host: a local registry), keyed by that registry's path; it never unpacks a version again. A checkout in a path
/// packaged before would build against the sources of that earlier run (a method added since "not found").
fn forget_packaged_sources(version: &str) -> Result {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(sources) = home.map(|h| h.join("registry/src")) else { return Ok(()) };
    let Ok(registries) = std::fs::read_dir(&sources) else { return Ok(()) };
    for registry in registries.flatten().filter(|r| r.file_name().to_string_lossy().starts_with('-')) {
        for name in CRATES {
            let unpacked = registry.path().join(format!("{name}-{version}"));
            if unpacked.exists() {
                std::fs::remove_dir_all(&unpacked).map_err(|e| format!("{}: {e}", unpacked.display()))?;
            }
        }
    }
    Ok(())
}

/// Where the release files are written.
pub fn dist_dir() -> PathBuf {
    root().join("target/dist")
}

/// The npm tarball of `version` in [`dist_dir`].
pub fn tarball(version: &str) -> PathBuf {
    dist_dir().join(format!("genesys-auth-{version}.tgz"))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The value of `key = "..."` on the first line of `text` that sets it after `section`.
fn toml_string<'a>(text: &'a str, section: &str, key: &str) -> Option<&'a str> {
    let start = text.find(section)? + section.len();
    text[start..].lines().find_map(|line| {
        let rest = line.trim().strip_prefix(key)?.trim_start().strip_prefix('=')?.trim();
        rest.strip_prefix('"')?.split('"').next()
    })
}

/// The workspace version, after checking that the npm package and every dependency between our crates say the
/// same.
pub fn version() -> Result<String> {
    let workspace = read(&root().join("Cargo.toml"))?;
    let version = toml_string(&workspace, "[workspace.package]", "version")
        .ok_or("Cargo.toml: no version in [workspace.package]")?
        .to_string();
    let npm: serde_json::Value =
        serde_json::from_str(&read(&root().join("npm/package.json"))?).map_err(|e| format!("npm/package.json: {e}"))?;
    let npm_version = npm.get("version").and_then(|v| v.as_str()).unwrap_or_default();
    if npm_version != version {
        return Err(format!(
            "npm/package.json has version {npm_version:?}, the workspace {version:?}: one version for all (set both)"
        ));
    }
    for name in CRATES {
        let path = root().join("crates").join(name).join("Cargo.toml");
        let manifest = read(&path)?;
        if !manifest.contains("version.workspace = true") {
            return Err(format!("{}: the version must be `version.workspace = true`", path.display()));
        }
        for line in manifest.lines().filter(|l| l.starts_with("genesys-") && l.contains("path =")) {
            let wanted = format!("version = \"{version}\"");
            let dev = manifest.find("[dev-dependencies]").is_some_and(|d| manifest.find(line).is_some_and(|i| i > d));
            if !dev && !line.contains(&wanted) {
                return Err(format!("{}: `{line}` must say {wanted}", path.display()));
            }
        }
    }
    Ok(version)
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The host's target triple (for the binary's name).
fn host_triple() -> Result<String> {
    let out = Command::new("rustc").arg("-vV").output().map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .ok_or_else(|| "rustc -vV printed no host".into())
}

/// `cargo xtask dist [--check]`: the release files; with `--check`, the tarball is also installed outside the
/// repository and signed in with (what `cargo xtask test` runs).
pub fn command(args: &[String]) -> Result {
    let version = build()?;
    if args.iter().any(|a| a == "--check") {
        crate::e2e::installed(&tarball(&version))?;
    }
    Ok(())
}

/// Builds everything a release ships into [`dist_dir`] and returns the version.
pub fn build() -> Result<String> {
    let version = version()?;
    let dist = dist_dir();
    let _ = std::fs::remove_dir_all(&dist);
    std::fs::create_dir_all(&dist).map_err(|e| format!("{}: {e}", dist.display()))?;

    // The npm package, packed as npm publishes it, then checked the way its users' tools read it.
    let pkg = crate::web::build()?;
    run(Command::new("npm").args(["pack", "--pack-destination"]).arg(&dist).current_dir(&pkg))?;
    let tgz = tarball(&version);
    if !tgz.is_file() {
        return Err(format!("npm pack wrote no {}", tgz.display()));
    }
    run(Command::new(setup::npm_bin("publint")).arg("run").arg(&tgz).arg("--strict"))?;
    // ESM only by design (no CommonJS build); the wasm subpath is an asset for bundlers, not a typed module.
    run(Command::new(setup::npm_bin("attw")).arg(&tgz).args([
        "--profile",
        "esm-only",
        "--exclude-entrypoints",
        "genesys_auth_bg.wasm",
        "package.json",
    ]))?;

    // Each crate packaged and built from its packaged sources (cargo resolves our unpublished crates among
    // themselves).
    forget_packaged_sources(&version)?;
    let mut args = vec!["package", "--locked", "--allow-dirty"];
    for name in CRATES {
        args.extend(["-p", name]);
    }
    run(&mut cargo(&args))?;
    for name in CRATES {
        let file = format!("{name}-{version}.crate");
        copy(&root().join("target/package").join(&file), &dist.join(&file))?;
    }

    // The CLI for this platform.
    run(&mut cargo(&["build", "--release", "--locked", "-p", "genesys-auth-cli"]))?;
    let exe = if cfg!(windows) { "genesys-auth.exe" } else { "genesys-auth" };
    let binary = format!("genesys-auth-{version}-{}{}", host_triple()?, if cfg!(windows) { ".exe" } else { "" });
    copy(&root().join("target/release").join(exe), &dist.join(&binary))?;

    let mut names: Vec<String> = std::fs::read_dir(&dist)
        .map_err(|e| format!("{}: {e}", dist.display()))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "SHA256SUMS")
        .collect();
    names.sort();
    let mut sums = String::new();
    for name in &names {
        let bytes = std::fs::read(dist.join(name)).map_err(|e| format!("{name}: {e}"))?;
        sums.push_str(&format!("{}  {name}\n", sha256_hex(&bytes)));
    }
    std::fs::write(dist.join("SHA256SUMS"), &sums).map_err(|e| format!("SHA256SUMS: {e}"))?;
    eprint!("{} (version {version}):\n{sums}", dist.display());
    Ok(version)
}

fn copy(from: &Path, to: &Path) -> Result {
    std::fs::copy(from, to).map(drop).map_err(|e| format!("{}: {e}", from.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_workspace_version_and_sums_like_sha256sum() {
        let text = "[package]\nversion = \"9\"\n[workspace.package]\nedition = \"2024\"\nversion = \"1.2.3\"\n";
        assert_eq!(toml_string(text, "[workspace.package]", "version"), Some("1.2.3"));
        assert_eq!(toml_string(text, "[workspace.package]", "license"), None);
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn the_repository_has_one_version() {
        assert!(version().is_ok_and(|v| !v.is_empty()), "{:?}", version());
    }
}
