//! `cargo xtask mutants [--shard K/N] [--jobs J] [--iterate] [--only core|emulator-oauth]`: mutation testing with cargo-mutants (from crates.io) on the core
//! (`genesys-auth`) and on the emulator's OAuth handler. Too slow for every CI run (the core alone has ≈ 900
//! mutants): run it by hand. Writes `target/mutants/{core,emulator-oauth}/mutants.out` and the scores into
//! `target/bench/results.json` (`core_mutants_caught_ratio`: caught over viable, timeouts not counted as caught).
//! `--iterate` tests again only what the previous run did not catch (cargo-mutants `--iterate`: mutants are matched by
//! file, line and column, so new tests go below the code) and scores the accumulated results.

use std::process::Command;

use serde_json::{Map, Value, json};

use crate::setup::{cargo, root, run};

type Result<T = ()> = std::result::Result<T, String>;

const VERSION: &str = "27.1.0";

/// (name, cargo-mutants arguments, timeout in seconds) of each run. The emulator's load test (a throughput run of
/// ≈ 40 s in a debug build) is left out: it measures, it checks no OAuth answer the other suites do not.
const RUNS: [(&str, &[&str], &str); 2] = [
    ("core", &["-p", "genesys-auth"], "30"),
    (
        "emulator-oauth",
        &[
            "-p",
            "genesys-emulator",
            "-f",
            "crates/genesys-emulator/src/oauth.rs",
            "--",
            "--lib",
            "--test",
            "api",
            "--test",
            "interop",
            "--test",
            "oauth",
            "--test",
            "no_panic",
            "--test",
            "soak",
        ],
        "90",
    ),
];

pub fn command(args: &[String]) -> Result {
    let value = |flag: &str| crate::setup::option(args, flag).flatten().map(str::to_string);
    let shard = value("--shard");
    let jobs = value("--jobs").unwrap_or_else(|| "2".into());
    let iterate = args.iter().any(|a| a == "--iterate");
    let only = value("--only");
    if let Some(name) = &only
        && !RUNS.iter().any(|(n, ..)| n == name)
    {
        return Err(format!("--only {name}: no such run (core, emulator-oauth)"));
    }
    let have = Command::new("cargo").args(["mutants", "--version"]).output();
    if !have.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(VERSION)) {
        run(&mut cargo(&["install", "cargo-mutants", "--version", VERSION, "--locked"]))?;
    }
    let mut results = Map::new();
    for (name, selection, timeout) in RUNS {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let out = root().join("target/mutants").join(name);
        std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        let mut cmd = cargo(&["mutants", "--no-shuffle", "--timeout", timeout, "--jobs", &jobs]);
        cmd.arg("--output").arg(&out);
        if let Some(shard) = &shard {
            cmd.args(["--shard", shard]);
        }
        if iterate {
            cmd.arg("--iterate");
        }
        // Last: what follows `--` goes to cargo test.
        cmd.args(selection);
        // Exit codes 2 (missed mutants) and 3 (timeouts) are results, not failures of the run.
        let status = cmd.status().map_err(|e| format!("cargo mutants: {e}"))?;
        if !matches!(status.code(), Some(0 | 2 | 3)) {
            return Err(format!("cargo mutants ({name}) failed: {status}"));
        }
        // With `--iterate` the accumulated lists count (and an iteration with nothing left to test writes no
        // outcomes.json).
        let (caught, missed, timeout, unviable) = if iterate {
            accumulated(&out.join("mutants.out"))
        } else {
            let outcomes = out.join("mutants.out/outcomes.json");
            let text = std::fs::read_to_string(&outcomes).map_err(|e| format!("{}: {e}", outcomes.display()))?;
            let v: Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", outcomes.display()))?;
            let n = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
            (n("caught"), n("missed"), n("timeout"), n("unviable"))
        };
        let viable = caught + missed + timeout;
        let ratio = if viable == 0 { 0.0 } else { caught as f64 / viable as f64 };
        let key = name.replace('-', "_");
        println!(
            "{name}: {caught} caught, {missed} missed, {timeout} timeout, {unviable} unviable of {} mutants{}: caught {:.1} % of viable",
            caught + missed + timeout + unviable,
            shard.as_deref().map(|s| format!(" (shard {s})")).unwrap_or_default(),
            ratio * 100.0
        );
        let missed_list = out.join("mutants.out/missed.txt");
        if let Ok(list) = std::fs::read_to_string(&missed_list) {
            for line in list.lines() {
                println!("  missed: {line}");
            }
        }
        results.insert(format!("{key}_mutants_caught_ratio"), json!(ratio));
        results.insert(
            format!("{key}_mutants"),
            json!({"caught": caught, "missed": missed, "timeout": timeout, "unviable": unviable,
                   "total": caught + missed + timeout + unviable, "shard": shard, "iterated": iterate}),
        );
    }
    // Merged into the benchmark results, which other commands write too.
    let path = root().join("target/bench/results.json");
    let mut all: Map<String, Value> =
        std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    all.extend(results);
    std::fs::create_dir_all(root().join("target/bench")).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&Value::Object(all)).map_err(|e| e.to_string())?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Outcomes accumulated over `--iterate` runs: this run's lists in `dir`, the mutants caught before
/// (`previously_caught.txt`, where cargo-mutants also lists the unviable ones it skipped), less every mutant any run
/// found unviable (kept in `unviable_all.txt` beside `dir`, as cargo-mutants forgets them after one iteration; a
/// `cargo mutants --check` run's `unviable.txt` may be added to it).
fn accumulated(dir: &std::path::Path) -> (u64, u64, u64, u64) {
    let lines = |path: &std::path::Path| -> std::collections::BTreeSet<String> {
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    let all = dir.with_file_name("unviable_all.txt");
    let mut unviable = lines(&all);
    unviable.extend(lines(&dir.join("unviable.txt")));
    unviable.extend(lines(&dir.with_extension("out.old").join("unviable.txt")));
    let _ = std::fs::write(&all, unviable.iter().map(|l| format!("{l}\n")).collect::<String>());
    let mut caught = lines(&dir.join("caught.txt"));
    caught.extend(lines(&dir.join("previously_caught.txt")));
    let caught = caught.difference(&unviable).count();
    let missed = lines(&dir.join("missed.txt")).len();
    let timeout = lines(&dir.join("timeout.txt")).len();
    (caught as u64, missed as u64, timeout as u64, unviable.len() as u64)
}
