//! `cargo xtask test`: every test of the repository, in the order that fails fastest.

use std::process::Command;

use crate::setup::{self, Result, cargo, root, run};

/// Runs every test: static checks, native tests, the wasm32 build of the core, browser tests (wasm-bindgen-test
/// and end-to-end in Chromium against the npm package, the Leptos example for the Rust API), the package's TypeScript declarations,
/// the release files (`cargo xtask dist`) with the tarball installed outside the repository and signed in with, and
/// the fuzz smoke run (`--quick` skips it).
pub fn all(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    setup::wasm_target()?;
    run(&mut cargo(&["fmt", "--all", "--", "--check"]))?;
    run(&mut cargo(&["fmt", "--manifest-path", "examples/leptos/Cargo.toml", "--", "--check"]))?;
    run(&mut cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    run(&mut cargo(&[
        "clippy",
        "-p",
        "genesys-auth-web",
        "--target",
        "wasm32-unknown-unknown",
        "--all-targets",
        "--all-features",
        "--",
        "-D",
        "warnings",
    ]))?;
    run(&mut cargo(&["test", "--workspace"]))?;
    // The emulator's flood soak once more with its figures in the log (requests, resident memory, every count).
    run(&mut cargo(&["test", "-p", "genesys-emulator", "--test", "soak", "--", "--nocapture", "a_flood"]))?;
    run(cargo(&["doc", "--no-deps", "--workspace", "--all-features"]).env("RUSTDOCFLAGS", "-D warnings"))?;
    core_builds_for_wasm_without_url()?;
    native_library_stays_lean()?;
    // Every dependency's licence, source and duplicates (deny.toml). Advisories need the RustSec database, which this
    // machine cannot reach: said in the README, not skipped silently.
    setup::cargo_deny()?;
    eprintln!("cargo deny: the advisories check is not run here (no access to the RustSec database); see the README");
    run(&mut cargo(&["deny", "check", "licenses", "bans", "sources"]))?;
    setup::npm_packages()?;
    crate::e2e::wasm_bindgen_tests()?;
    crate::e2e::end_to_end(crate::e2e::SUITES)?;
    // The package's hand-written TypeScript declarations against apps that use every part of the API: the main
    // entry, and each framework binding.
    for (app, jsx) in [("e2e/types.ts", None), ("e2e/types-react.tsx", Some("react-jsx")), ("e2e/types-vue.ts", None)] {
        let mut tsc = Command::new(setup::npm_bin("tsc"));
        tsc.current_dir(root()).args(["--noEmit", "--strict", "--target", "es2022", "--module", "esnext"]);
        tsc.args(["--moduleResolution", "bundler", "--lib", "es2022,dom"]);
        if let Some(jsx) = jsx {
            tsc.args(["--jsx", jsx]);
        }
        run(tsc.arg(app))?;
    }
    // What a release ships (npm tarball checked by publint and arethetypeswrong, packaged crates built from their
    // packaged sources, the CLI binary, SHA256SUMS), and the tarball installed the way a user installs it.
    crate::dist::command(&["--check".to_string()])?;
    if !quick {
        fuzz_smoke()?;
    }
    Ok(())
}

fn core_builds_for_wasm_without_url() -> Result {
    run(&mut cargo(&["build", "-p", "genesys-auth", "--target", "wasm32-unknown-unknown"]))?;
    let out = cargo(&[
        "tree",
        "-p",
        "genesys-auth",
        "--target",
        "wasm32-unknown-unknown",
        "-e",
        "normal",
        "--prefix",
        "none",
    ])
    .output()
    .map_err(|e| format!("cargo tree: {e}"))?;
    let tree = String::from_utf8_lossy(&out.stdout);
    if tree.lines().any(|l| l.starts_with("url ")) {
        return Err("the core pulls in the `url` crate on wasm32 (≈ 76 KB gzipped in a minimal browser module, measured in the toolchain notes): remove it".into());
    }
    eprintln!("core on wasm32: {} crates, no `url`", tree.lines().count());
    Ok(())
}

/// The native library's normal dependencies hold neither the emulator nor the CLI's crates: an app that uses the
/// library does not compile them.
fn native_library_stays_lean() -> Result {
    let out = cargo(&["tree", "-p", "genesys-auth-native", "-e", "normal", "--prefix", "none"])
        .output()
        .map_err(|e| format!("cargo tree: {e}"))?;
    let tree = String::from_utf8_lossy(&out.stdout);
    let heavy: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split(' ').next())
        .filter(|name| matches!(*name, "genesys-emulator" | "clap" | "clap_complete" | "indicatif" | "toml"))
        .collect();
    if !out.status.success() || !heavy.is_empty() {
        return Err(format!("genesys-auth-native depends on {heavy:?}: keep them in genesys-auth-cli"));
    }
    eprintln!("genesys-auth-native: {} crates, none of the CLI's or the emulator's", tree.lines().count());
    Ok(())
}

fn fuzz_smoke() -> Result {
    setup::cargo_fuzz()?;
    let seconds = std::env::var("GENESYS_FUZZ_SECONDS").unwrap_or_else(|_| "30".into());
    let fuzz = setup::root().join("fuzz");
    for target in ["callback", "token_response", "region", "stored", "session"] {
        let limit = format!("-max_total_time={seconds}");
        // New inputs go to the (ignored) corpus; committed seeds, where a target has them, are read too.
        let (corpus, seeds) = (format!("corpus/{target}"), format!("seeds/{target}"));
        let mut args = vec!["fuzz", "run", target, &corpus];
        if fuzz.join(&seeds).is_dir() {
            args.push(&seeds);
        }
        args.extend(["--", &limit]);
        std::fs::create_dir_all(fuzz.join(&corpus)).map_err(|e| format!("{corpus}: {e}"))?;
        run(setup::cargo_nightly(&args).current_dir(&fuzz))?;
    }
    Ok(())
}
