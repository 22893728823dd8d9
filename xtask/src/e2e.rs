//! Browser tests: wasm-bindgen-test in headless Chromium, and the end-to-end suites that drive the demo in
//! Debian's Chromium against the emulator.

use std::path::Path;
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

/// Builds the examples the suites drive: React + Vite, Vue + Vite and Angular against the freshly built package
/// (`npm ci` from their locks), and the Leptos one.
pub fn examples() -> Result {
    for app in ["examples/react-vite", "examples/vue-vite", "examples/angular"] {
        let dir = root().join(app);
        run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--ignore-scripts"]).current_dir(&dir))?;
        // The Angular CLI would otherwise ask about analytics.
        run(Command::new("npm").args(["run", "build"]).env("NG_CLI_ANALYTICS", "false").current_dir(&dir))?;
    }
    leptos()
}

/// The Leptos example (its own workspace) for wasm32, with its JS glue, into `target/examples/leptos`.
pub fn leptos() -> Result {
    // `cargo xtask e2e` and `cargo xtask bench` get here without `cargo xtask test`, which adds the target first.
    setup::wasm_target()?;
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
    // Shrunk as a Leptos app is shipped (Trunk's release build runs `wasm-opt -Oz`, which also drops the function
    // names): the end-to-end run and `leptos_bundle_gz_bytes` see what users would serve.
    let wasm = out.join("genesys_auth_example_leptos_bg.wasm");
    setup::npm_packages()?;
    run(Command::new(setup::npm_bin("wasm-opt"))
        .arg("-Oz")
        .args(crate::web::WASM_FEATURES)
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
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

/// Copies `from` into `to` (a directory tree), leaving out `node_modules` and `dist`.
fn copy_tree(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?.flatten() {
        let (path, name) = (entry.path(), entry.file_name());
        if name == "node_modules" || name == "dist" {
            continue;
        }
        if path.is_dir() {
            copy_tree(&path, &to.join(&name))?;
        } else {
            std::fs::copy(&path, to.join(&name)).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The package the way a user meets it: the React example copied to a folder outside the repository, the package
/// installed there from the tarball alone (`npm install ./genesys-auth-<version>.tgz`) and built with Vite; a plain
/// HTML page importing the package unpacked from the tarball. Both sign in against the emulator in Chromium
/// (`e2e/installed.test.mjs`).
pub fn installed(tarball: &Path) -> Result {
    chromium()?;
    let apps = std::env::temp_dir().join(format!("genesys-auth-installed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&apps);
    let result = installed_in(tarball, &apps);
    let _ = std::fs::remove_dir_all(&apps);
    result
}

fn installed_in(tarball: &Path, apps: &Path) -> Result {
    let file = tarball.file_name().ok_or("no tarball name")?;
    let react = apps.join("react");
    copy_tree(&root().join("examples/react-vite"), &react)?;
    std::fs::copy(tarball, react.join(file)).map_err(|e| format!("{}: {e}", tarball.display()))?;
    // The lock file pins React and Vite; only the package's own entry changes (to the tarball).
    let spec = format!("./{}", file.to_string_lossy());
    run(Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--ignore-scripts", &spec])
        .current_dir(&react))?;
    let installed = react.join("node_modules/genesys-auth");
    let meta = std::fs::symlink_metadata(&installed).map_err(|e| format!("{}: {e}", installed.display()))?;
    if meta.file_type().is_symlink() {
        return Err(format!("{} is a link, not the package unpacked from the tarball", installed.display()));
    }
    run(Command::new("npm").args(["run", "build"]).current_dir(&react))?;
    // So that the suite can tell this build from the repository's.
    let marker = react.join("dist/installed-from.txt");
    std::fs::write(&marker, file.to_string_lossy().as_bytes()).map_err(|e| format!("{}: {e}", marker.display()))?;

    let html = apps.join("html");
    copy_tree(&root().join("examples/plain-html"), &html)?;
    let modules = html.join("node_modules");
    std::fs::create_dir_all(&modules).map_err(|e| format!("{}: {e}", modules.display()))?;
    run(Command::new("tar").arg("xzf").arg(tarball).arg("-C").arg(&modules))?;
    std::fs::rename(modules.join("package"), modules.join("genesys-auth")).map_err(|e| format!("unpack: {e}"))?;

    crate::serve::INSTALLED.set(apps.to_path_buf()).map_err(|_| "the installed apps are already being served")?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        // No package directory of the repository: these apps carry their own copy.
        let demo = crate::serve::start(0, 0, Config::default(), apps.join("none"), true).await?;
        let path = root().join("e2e/installed.test.mjs");
        eprintln!("\x1b[1m$ node {} (app {}, emulator {})\x1b[0m", path.display(), demo.app_url, demo.emulator_url);
        let status = tokio::process::Command::new("node")
            .arg(&path)
            .current_dir(root())
            .env("APP_URL", &demo.app_url)
            .env("EMU_URL", &demo.emulator_url)
            .env("CLIENT_ID", DEMO_CLIENT_ID)
            .env("SHOTS_DIR", root().join("target/e2e/screenshots"))
            .status()
            .await
            .map_err(|e| format!("node: {e}"))?;
        if status.success() { Ok(()) } else { Err("end-to-end suite installed.test.mjs failed".to_string()) }
    })
}
