//! `cargo xtask build-web`: the npm package `genesys-auth` in `target/npm/genesys-auth`.

use std::path::PathBuf;
use std::process::Command;

use crate::setup::{self, Result, root, run};

/// Where the package is built.
pub fn package_dir() -> PathBuf {
    root().join("target/npm/genesys-auth")
}

/// Flags of the size-optimized build: the standard library rebuilt for size, panics as traps (no formatting
/// machinery for panic messages), no `Debug` output and no source locations in the bundle. Measured here: the
/// package shrinks by about a third against the stable build (see TOOLCHAIN.md and `cargo xtask bench`).
const SIZE_RUSTFLAGS: &[&str] = &[
    "-Zunstable-options",
    "-Cpanic=immediate-abort",
    "-Zlocation-detail=none",
    "-Zfmt-debug=none",
    "-Csymbol-mangling-version=legacy",
];

/// Builds the wasm (size profile, nightly `build-std`), generates the JS glue and TypeScript types, shrinks the
/// wasm with `wasm-opt -Oz` and the glue with esbuild, and adds the package files from `npm/`.
pub fn build() -> Result<PathBuf> {
    setup::nightly_wasm()?;
    setup::npm_packages()?;
    run(setup::cargo_nightly(&[
        "build",
        "-p",
        "genesys-auth-web",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        "wasm",
        "-Zbuild-std=std,panic_abort",
        "-Zbuild-std-features=optimize_for_size",
        "--target-dir",
        "target/size",
    ])
    .env("RUSTFLAGS", SIZE_RUSTFLAGS.join(" ")))?;
    let input = root().join("target/size/wasm32-unknown-unknown/wasm/genesys_auth_web.wasm");
    let out = package_dir();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("\x1b[1m$ wasm-bindgen --target web --typescript {}\x1b[0m", input.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .out_name("genesys_auth")
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(true)
        .omit_default_module_path(true)
        .remove_producers_section(true)
        .encode_into(wasm_bindgen_cli_support::EncodeInto::Always)
        .generate(&out)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    let wasm = out.join("genesys_auth_bg.wasm");
    let glue = out.join("genesys_auth.js");
    crate::shrink::short_names(
        &wasm,
        &glue,
        &[(&out.join("genesys_auth.d.ts"), "readonly "), (&out.join("genesys_auth_bg.wasm.d.ts"), "const ")],
        "./genesys_auth_bg.js",
    )?;
    run(Command::new(setup::npm_bin("wasm-opt"))
        .arg("-Oz")
        .arg("--enable-bulk-memory")
        .arg("--enable-nontrapping-float-to-int")
        .arg("--enable-sign-ext")
        .arg("--enable-mutable-globals")
        .arg("--enable-reference-types")
        .arg("--enable-multivalue")
        .arg("--strip-producers")
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm))?;
    run(Command::new(setup::npm_bin("esbuild"))
        .arg(&glue)
        .args(["--minify", "--format=esm", "--log-level=warning", "--allow-overwrite"])
        .arg(format!("--outfile={}", glue.display())))?;
    for file in ["package.json", "README.md", "index.js", "index.d.ts"] {
        let from = root().join("npm").join(file);
        std::fs::copy(&from, out.join(file)).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    let size = |f: &str| std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "npm package: {} (wasm {} B, glue {} B)",
        out.display(),
        size("genesys_auth_bg.wasm"),
        size("genesys_auth.js")
    );
    Ok(out)
}
