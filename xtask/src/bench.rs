//! `cargo xtask bench [--smoke]`: benchmarks as programs. Every figure is printed with the baseline measured in
//! the same run and written to `target/bench/results.json`; `--smoke` runs one short iteration of each so the
//! benchmarks never rot (CI runs it).

use std::io::Write as _;
use std::process::Command;

use serde_json::{Map, Value, json};

use crate::setup::{self, Result, root, run};

/// One row of the printed table.
struct Row {
    name: &'static str,
    value: String,
    baseline: String,
    ratio: String,
    runs: String,
}

fn gzip_len(bytes: &[u8]) -> usize {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = enc.write_all(bytes);
    enc.finish().map(|v| v.len()).unwrap_or(0)
}

fn read(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Our package (wasm + JS glue, each gzip -9) and the anchors' minimal PKCE logins bundled with esbuild.
fn bundle_sizes(results: &mut Map<String, Value>, rows: &mut Vec<Row>) -> Result {
    let pkg = crate::web::build()?;
    let wasm = gzip_len(&read(&pkg.join("genesys_auth_bg.wasm"))?);
    let mut glue = read(&pkg.join("index.js"))?;
    glue.extend(read(&pkg.join("genesys_auth.js"))?);
    let glue = gzip_len(&glue);
    let ours = wasm + glue;
    results.insert("bundle_gz_bytes".into(), json!(ours));
    results.insert("bundle_wasm_gz_bytes".into(), json!(wasm));
    results.insert("bundle_glue_gz_bytes".into(), json!(glue));
    let out = root().join("target/bench/anchors");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let mut anchors = Vec::new();
    for (name, key) in [
        ("oidc-client-ts", "oidc_client_ts_gz_bytes"),
        ("auth0-spa-js", "auth0_spa_js_gz_bytes"),
        ("oauth4webapi", "oauth4webapi_gz_bytes"),
    ] {
        let bundle = out.join(format!("{name}.min.js"));
        run(Command::new(setup::npm_bin("esbuild"))
            .arg(root().join(format!("bench/anchors/{name}.js")))
            .args(["--bundle", "--minify", "--format=esm", "--platform=browser", "--log-level=warning"])
            .arg(format!("--outfile={}", bundle.display())))?;
        let size = gzip_len(&read(&bundle)?);
        results.insert(key.into(), json!(size));
        anchors.push((name, size));
    }
    rows.push(Row {
        name: "bundle_gz_bytes (wasm + glue)",
        value: format!("{ours} B ({wasm} + {glue})"),
        baseline: anchors.iter().map(|(n, s)| format!("{n} {s} B")).collect::<Vec<_>>().join(", "),
        ratio: anchors.iter().map(|(_, s)| format!("{:.2}", ours as f64 / *s as f64)).collect::<Vec<_>>().join(" / "),
        runs: "1".into(),
    });
    let mut bars = vec![("genesys-auth", ours)];
    bars.extend(anchors);
    write_svg(&bars)?;
    Ok(())
}

/// A horizontal bar chart of the bundle sizes: `target/bench/bundle-sizes.svg`.
fn write_svg(bars: &[(&str, usize)]) -> Result {
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f64;
    let (width, row) = (640.0, 34.0);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{}" font-family="system-ui, sans-serif" font-size="13">
<text x="10" y="20" font-weight="600">Minimal PKCE login, gzip -9 bytes (smaller is better)</text>
"#,
        40.0 + row * bars.len() as f64
    );
    for (i, (name, size)) in bars.iter().enumerate() {
        let y = 34.0 + row * i as f64;
        let w = (*size as f64 / max) * (width - 260.0);
        let color = if i == 0 { "#2a60c8" } else { "#9aa5b8" };
        svg.push_str(&format!(
            r#"<text x="10" y="{ty}">{name}</text><rect x="130" y="{y}" width="{w:.1}" height="22" fill="{color}"/><text x="{tx:.1}" y="{ty}">{size} B</text>
"#,
            ty = y + 15.0,
            tx = 136.0 + w
        ));
    }
    svg.push_str("</svg>\n");
    let path = root().join("target/bench/bundle-sizes.svg");
    std::fs::write(&path, svg).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs the benchmarks, prints the table, writes `target/bench/results.json`.
pub fn command(args: &[String]) -> Result {
    let smoke = args.iter().any(|a| a == "--smoke");
    setup::npm_packages()?;
    let mut results = Map::new();
    let mut rows = Vec::new();
    bundle_sizes(&mut results, &mut rows)?;
    results.insert("smoke".into(), json!(smoke));
    results.insert("date".into(), json!(date()));
    results.insert("machine".into(), json!(machine()));
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&Value::Object(results)).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("results.json"), text + "\n").map_err(|e| e.to_string())?;
    print_table(&rows);
    println!("\nwrote {}", dir.join("results.json").display());
    Ok(())
}

fn print_table(rows: &[Row]) {
    println!("\n| figure | ours | baseline (same run) | ratio | runs |\n|---|---|---|---|---|");
    for r in rows {
        println!("| {} | {} | {} | {} | {} |", r.name, r.value, r.baseline, r.ratio, r.runs);
    }
}

fn date() -> String {
    Command::new("date")
        .arg("-u")
        .arg("+%Y-%m-%d %H:%M UTC")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    format!("{cores} cores, {cpu}")
}
