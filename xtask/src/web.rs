//! `cargo xtask build-web`: the npm package `genesys-auth` in `target/npm/genesys-auth`.

use std::path::PathBuf;
use std::process::Command;

use crate::setup::{self, Result, root, run};

/// Where the package is built.
pub fn package_dir() -> PathBuf {
    root().join("target/npm/genesys-auth")
}

/// Flags of the size-optimized build: the standard library rebuilt for size, panics as traps (no formatting
/// machinery for panic messages), no `Debug` output and no source locations in the bundle (what each step saves on
/// a minimal module is measured in the toolchain notes; `cargo xtask bench` measures the package itself).
const SIZE_RUSTFLAGS: &[&str] = &[
    "-Zunstable-options",
    "-Cpanic=immediate-abort",
    "-Zlocation-detail=none",
    "-Zfmt-debug=none",
    "-Csymbol-mangling-version=legacy",
    // No externref table and no multi-value returns: wasm-bindgen then keeps JS objects in a small array of its glue
    // instead of a wasm table (the wasm 431 B smaller gzipped, the glue 218 B larger; measured 2026-12-05).
    "-Ctarget-feature=-reference-types,-multivalue",
    // rustc's MIR inliner, which it runs for opt-level 2 and 3 but not for "z": inlining small generic helpers before
    // monomorphization leaves fewer copies of them (the package 2 008 B smaller gzipped on 2026-12-06; the threshold
    // 110 instead of the default 50: anything from 100 to 125 saves 1 980..2 010 B, 50 saves 1 590, 300 saves 1 260).
    "-Zinline-mir",
    "-Zinline-mir-threshold=110",
];

/// The wasm features rustc's wasm32 target uses, for `wasm-opt` (the package here, the Leptos example in `e2e`).
pub const WASM_FEATURES: [&str; 6] = [
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// The npm package: the engine (feature `engine`) with the JS class of `npm/index.js`.
pub fn build() -> Result<PathBuf> {
    let out = package_dir();
    build_into(&out, "engine", &root().join("npm/index.js"))?;
    for file in ["package.json", "README.md", "index.d.ts", "LICENSE-MIT", "LICENSE-APACHE"] {
        copy(&root().join("npm").join(file), &out.join(file))?;
    }
    // The framework bindings: minified on their own, importing the main entry (one engine per page) and their
    // framework, which stay outside.
    for (binding, _) in BINDINGS {
        let types = binding.replace(".js", ".d.ts");
        copy(&root().join("npm").join(&types), &out.join(&types))?;
        run(Command::new(setup::npm_bin("esbuild"))
            .arg(root().join("npm").join(binding))
            .args(["--minify", "--format=esm", "--log-level=warning"])
            .arg(format!("--outfile={}", out.join(binding).display())))?;
    }
    Ok(out)
}

/// The bindings of `npm/` (each with its `.d.ts`), each a subpath export of the package (`genesys-auth/react`,
/// `genesys-auth/vue`, `genesys-auth/sdk` for the official SDK): (file, benchmark key).
pub const BINDINGS: [(&str, &str); 3] =
    [("react.js", "react_binding_gz_bytes"), ("vue.js", "vue_binding_gz_bytes"), ("sdk.js", "sdk_bridge_gz_bytes")];

fn copy(from: &std::path::Path, to: &std::path::Path) -> Result {
    std::fs::copy(from, to).map(drop).map_err(|e| format!("{}: {e}", from.display()))
}

/// Builds the wasm with `features` (size profile, nightly `build-std`), generates the JS glue, shortens the names
/// between them, shrinks the wasm with `wasm-opt -Oz`, and bundles `entry` with the glue into one minified ES
/// module, `index.js` (esbuild).
fn build_into(out: &std::path::Path, features: &str, entry: &std::path::Path) -> Result {
    setup::nightly_wasm()?;
    setup::npm_packages()?;
    run(setup::cargo_nightly(&[
        "build",
        "-p",
        "genesys-auth-web",
        "--features",
        features,
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
    // wasm-bindgen's output is generated aside: the glue is bundled into index.js.
    let stage = root().join("target/npm/stage");
    for dir in [&stage, out] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    eprintln!("\x1b[1m$ wasm-bindgen --target web {}\x1b[0m", input.display());
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .out_name("genesys_auth")
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e}"))?
        .typescript(false)
        .omit_default_module_path(true)
        .remove_producers_section(true)
        .encode_into(wasm_bindgen_cli_support::EncodeInto::Always)
        .generate(&stage)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?;
    let staged = stage.join("genesys_auth_bg.wasm");
    // The engine's functions (`ga…`) and the memory keep their names: `js/executor.js` calls them on the module's
    // exports directly, also in apps built with the Rust API, whose wasm nobody renames.
    let engine_api = |name: &str| name == "memory" || name.starts_with("ga");
    crate::shrink::short_names(&staged, &stage.join("genesys_auth.js"), &[], "./genesys_auth_bg.js", &engine_api)?;
    let wasm = out.join("genesys_auth_bg.wasm");
    run(Command::new(setup::npm_bin("wasm-opt"))
        // Functions ordered by their Rust path first, so that a module's code sits together and gzip finds more of
        // it repeated nearby (≈ 90 B of gzip here).
        .arg("--reorder-functions-by-name")
        // A function with one caller is inlined only when small: gzip finds more to share between separate
        // functions than inside one huge one (−490 B gzipped on 2026-12-05; any limit from 10 to 80 saves 430 to 490,
        // binaryen's default inlines them whatever their size).
        .arg("--one-caller-inline-max-function-size=40")
        // Functions that differ only in constants become one with the constant as a parameter (≈ 80 B of gzip here).
        .arg("--merge-similar-functions")
        .arg("-Oz")
        // Repeats the passes while they still shrink the module (≈ 120 B of gzip here).
        .arg("--converge")
        // Then twice: the control flow flattened and rebuilt by the relooper, and shrunk again (≈ 350 B of gzip here;
        // a third round gained nothing).
        .args(["--flatten", "--rereloop", "-Oz", "--flatten", "--rereloop", "-Oz"])
        .args(WASM_FEATURES)
        .arg("--strip-producers")
        // The target_features section is for tools, not for browsers (≈ 110 B of gzip here).
        .arg("--strip-target-features")
        // Rust's wasm32 layout puts the 1 MB stack first, growing down to 0: the low 1 KB of memory is touched
        // only by a stack already overflowed, so wasm-opt may fold constant offsets into loads and stores (≈ 170 B).
        .arg("--low-memory-unused")
        .arg(&staged)
        .arg("-o")
        .arg(&wasm))?;
    copy(entry, &stage.join("index.js"))?;
    copy(&root().join("crates/genesys-auth-web/js/executor.js"), &stage.join("executor.js"))?;
    run(Command::new(setup::npm_bin("esbuild"))
        .arg(stage.join("index.js"))
        .args(["--bundle", "--minify", "--format=esm", "--platform=browser", "--log-level=warning"])
        .arg(format!("--outfile={}", out.join("index.js").display())))?;
    let size = |f: &str| std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
    eprintln!("built {} (wasm {} B, index.js {} B)", out.display(), size("genesys_auth_bg.wasm"), size("index.js"));
    Ok(())
}
