//! Browser tests: wasm-bindgen-test in headless Chromium, and the end-to-end suites that drive the demo in
//! Debian's Chromium against the emulator.

use std::process::Command;

use genesys_emulator::{Config, DEMO_CLIENT_ID};

use crate::setup::{self, Result, cargo, root, run};

/// Chromium and its driver: installed with apt-get as root, else a precise instruction.
pub fn chromium() -> Result {
    setup::debian_packages(&[("chromium", "chromium"), ("chromedriver", "chromium-driver")])
}

/// `wasm-bindgen-test-runner`, the same version as the wasm-bindgen the crate pins.
fn test_runner() -> Result {
    let want = "0.2.130";
    let have = Command::new("wasm-bindgen-test-runner").arg("--version").output();
    if have.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(want)) {
        return Ok(());
    }
    // The registry mirror lags one dependency of the CLI's lock file, so no --locked (see TOOLCHAIN notes).
    run(&mut cargo(&["install", "wasm-bindgen-cli", "--version", want]))
}

/// The driver's pieces in a real browser (`crates/genesys-auth-web/tests`).
pub fn wasm_bindgen_tests() -> Result {
    chromium()?;
    test_runner()?;
    run(cargo(&["test", "-p", "genesys-auth-web", "--all-features", "--target", "wasm32-unknown-unknown"])
        .env("CHROMEDRIVER", "/usr/bin/chromedriver")
        .env("WASM_BINDGEN_TEST_TIMEOUT", "60"))
}

/// Builds the package, starts the emulator and the demo on free ports, and runs each suite with node.
pub fn end_to_end(suites: &[&str]) -> Result {
    chromium()?;
    let package = crate::web::build()?;
    examples()?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    // Once, against the package: the Rust API runs the same executor and engine, and the ecosystem suite drives the
    // Leptos example (the Rust API's smoke run: sign in, refresh, sign out).
    runtime.block_on(async {
        let demo = crate::serve::start(0, 0, Config::default(), package, true).await?;
        let shots = root().join("target/e2e/screenshots");
        for suite in suites {
            let path = root().join("e2e").join(suite);
            let mut cmd = tokio::process::Command::new("node");
            cmd.arg(&path)
                .current_dir(root())
                .env("APP_URL", &demo.app_url)
                .env("EMU_URL", &demo.emulator_url)
                .env("CLIENT_ID", DEMO_CLIENT_ID)
                .env("SHOTS_DIR", &shots);
            eprintln!("\x1b[1m$ node {} (app {}, emulator {})\x1b[0m", path.display(), demo.app_url, demo.emulator_url);
            let status = cmd.status().await.map_err(|e| format!("node: {e}"))?;
            if !status.success() {
                return Err(format!("end-to-end suite {suite} failed"));
            }
        }
        Ok::<(), String>(())
    })?;
    Ok(())
}

/// Builds the examples the suites drive: React + Vite against the freshly built package (`npm ci` from its lock).
pub fn examples() -> Result {
    let react = root().join("examples/react-vite");
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&react))?;
    run(Command::new("npm").args(["run", "build"]).current_dir(&react))?;
    leptos()
}

/// The Leptos example (its own workspace) for wasm32, with its JS glue, into `target/examples/leptos`.
pub fn leptos() -> Result {
    run(&mut cargo(&[
        "build",
        "--manifest-path",
        "examples/leptos/Cargo.toml",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
        "--target-dir",
        "target/leptos",
    ]))?;
    let out = root().join("target/examples/leptos");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(root().join("target/leptos/wasm32-unknown-unknown/release/genesys_auth_example_leptos.wasm"))
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .omit_default_module_path(true)
        .generate(&out)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    std::fs::copy(root().join("examples/leptos/index.html"), out.join("index.html"))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// `cargo xtask e2e [suite...]`: only the end-to-end suites.
pub fn command(args: &[String]) -> Result {
    setup::npm_packages()?;
    let suites: Vec<&str> = if args.is_empty() { SUITES.to_vec() } else { args.iter().map(String::as_str).collect() };
    end_to_end(&suites)
}

/// Every end-to-end suite, in order.
pub const SUITES: &[&str] = &["demo.test.mjs", "resilience.test.mjs", "embedded.test.mjs", "ecosystem.test.mjs"];
