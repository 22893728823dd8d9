//! `cargo xtask bench [--smoke] [--update-readme] [--against DIR] [--runs N]`: benchmarks as programs. Every figure
//! is printed with the baseline measured in the same run and written to `target/bench/results.json`; `--smoke` runs
//! one short iteration of each so the benchmarks never rot (CI runs it). `--against DIR` times the callback of
//! another build of the package (a `target/npm/genesys-auth` of another checkout) beside ours, in alternating order
//! within the same runs: how a change moves `callback_to_token`, without the day-to-day noise of absolute times.
//! `--runs N`: callback runs per contestant (30).

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

/// Our package (the wasm and the scripts, each gzip -9) and the anchors' minimal PKCE logins bundled with esbuild.
fn bundle_sizes(results: &mut Map<String, Value>, rows: &mut Vec<Row>) -> Result {
    let pkg = crate::web::build()?;
    let wasm = gzip_len(&read(&pkg.join("genesys_auth_bg.wasm"))?);
    // Every script the main entry loads (one: index.js with the generated glue bundled in); the framework
    // bindings beside it are measured on their own.
    let mut glue = Vec::new();
    let mut bindings = Vec::new();
    for entry in std::fs::read_dir(&pkg).map_err(|e| format!("{}: {e}", pkg.display()))?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((_, key)) = crate::web::BINDINGS.iter().find(|(file, _)| *file == name) {
            bindings.push((*key, name, gzip_len(&read(&entry.path())?)));
        } else if entry.path().extension().is_some_and(|x| x == "js" || x == "mjs") {
            glue.extend(read(&entry.path())?);
        }
    }
    if bindings.len() != crate::web::BINDINGS.len() {
        return Err(format!("the package lacks a binding: has {bindings:?}, expects {:?}", crate::web::BINDINGS));
    }
    let glue = gzip_len(&glue);
    let ours = wasm + glue;
    results.insert("bundle_gz_bytes".into(), json!(ours));
    results.insert("bundle_wasm_gz_bytes".into(), json!(wasm));
    // The scripts: the JS class with the wasm-bindgen glue bundled in (the key keeps its first name).
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
        name: "bundle_gz_bytes (wasm + index.js)",
        value: format!("{ours} B ({wasm} + {glue})"),
        baseline: anchors.iter().map(|(n, s)| format!("{n} {s} B")).collect::<Vec<_>>().join(", "),
        ratio: anchors.iter().map(|(_, s)| format!("{:.2}", ours as f64 / *s as f64)).collect::<Vec<_>>().join(" / "),
        runs: "1".into(),
    });
    // Each binding's own code (minified, gzip -9; its framework and the main entry excluded).
    bindings.sort();
    for (key, file, size) in bindings {
        results.insert(key.into(), json!(size));
        rows.push(Row {
            name: key,
            value: format!("{size} B (genesys-auth/{}, minified)", file.trim_end_matches(".js")),
            baseline: "—".into(),
            ratio: "—".into(),
            runs: "1".into(),
        });
    }
    // The Leptos example as a Rust front-end ships it: its wasm and every script (glue and snippets), gzip -9.
    crate::e2e::leptos()?;
    let leptos = root().join("target/examples/leptos");
    let (mut leptos_wasm, mut leptos_js) = (Vec::new(), Vec::new());
    let mut dirs = vec![leptos];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?.flatten() {
            let path = entry.path();
            match path.extension().and_then(|x| x.to_str()) {
                _ if path.is_dir() => dirs.push(path),
                Some("wasm") => leptos_wasm.extend(read(&path)?),
                Some("js") => leptos_js.extend(read(&path)?),
                _ => {}
            }
        }
    }
    let (leptos_wasm, leptos_js) = (gzip_len(&leptos_wasm), gzip_len(&leptos_js));
    results.insert("leptos_bundle_gz_bytes".into(), json!(leptos_wasm + leptos_js));
    rows.push(Row {
        name: "leptos_bundle_gz_bytes (example app)",
        value: format!("{} B ({leptos_wasm} + {leptos_js})", leptos_wasm + leptos_js),
        baseline: "—".into(),
        ratio: "—".into(),
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

/// In headless Chromium against the emulator: callback-to-token time (ours ÷ a bare inline fetch POST of the
/// same token request, medians of interleaved runs), 1000 authorized fetches (ours ÷ raw fetch with the header),
/// and the number of refresh requests 50 concurrent callers cause.
fn browser(smoke: bool, runs: &str, results: &mut Map<String, Value>, rows: &mut Vec<Row>) -> Result {
    let against = crate::serve::AGAINST.get().is_some();
    crate::e2e::chromium()?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let out = runtime.block_on(async {
        let config = genesys_emulator::Config {
            auto_login: Some("alex".into()),
            rate_limit_per_minute: u32::MAX,
            ..genesys_emulator::Config::default()
        };
        let demo = crate::serve::start(0, 0, config, crate::web::package_dir(), true).await?;
        let output = tokio::process::Command::new("node")
            .arg(root().join("bench/browser.mjs"))
            .current_dir(root())
            .env("APP_URL", &demo.app_url)
            .env("EMU_URL", &demo.emulator_url)
            .env("BENCH_RUNS", if smoke { "1" } else { runs })
            .env("AGAINST", if against { "1" } else { "0" })
            .env("BENCH_FETCHES", if smoke { "10" } else { "1000" })
            .output()
            .await
            .map_err(|e| format!("node: {e}"))?;
        if !output.status.success() {
            return Err(format!("bench/browser.mjs failed:\n{}", String::from_utf8_lossy(&output.stderr)));
        }
        Ok::<_, String>(String::from_utf8_lossy(&output.stdout).into_owned())
    })?;
    let line = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("{}");
    let v: Value = serde_json::from_str(line).map_err(|e| format!("browser bench output: {e}: {line}"))?;
    let num = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let callback_ratio = num("callback_ours_ms") / num("callback_raw_ms");
    let fetch_ratio = num("fetch_ours_ms") / num("fetch_raw_ms");
    results.insert("callback_to_token_ratio".into(), json!(callback_ratio));
    let anchor_ratio = num("callback_ours_ms") / num("callback_oauth4webapi_ms");
    results.insert("callback_vs_oauth4webapi_ratio".into(), json!(anchor_ratio));
    results.insert("callback_to_token_ms".into(), json!({"ours_median": num("callback_ours_ms"), "raw_fetch_median": num("callback_raw_ms"), "oauth4webapi_median": num("callback_oauth4webapi_ms"), "runs": v["callback_runs"]}));
    results.insert("fetch_overhead_ratio".into(), json!(fetch_ratio));
    results.insert(
        "fetch_overhead_ms".into(),
        json!({"ours": num("fetch_ours_ms"), "raw_fetch": num("fetch_raw_ms"), "calls": v["fetch_calls"]}),
    );
    results.insert("singleflight_refresh_requests".into(), v["singleflight_refresh_requests"].clone());
    rows.push(Row {
        name: "callback_to_token_ratio",
        value: format!("{:.1} ms median", num("callback_ours_ms")),
        baseline: format!("inline fetch POST {:.1} ms median", num("callback_raw_ms")),
        ratio: format!("{callback_ratio:.2}"),
        runs: format!("{0} + {0} + {0} interleaved (ours, fetch, oauth4webapi)", v["callback_runs"]),
    });
    if against {
        let ratio = num("callback_ours_ms") / num("callback_against_ms");
        let paired = num("callback_against_paired_ratio");
        results.insert("callback_vs_against_ratio".into(), json!(ratio));
        results.insert(
            "callback_vs_against".into(),
            json!({"package": crate::serve::AGAINST.get().map(|d| d.display().to_string()), "ours_median": num("callback_ours_ms"), "against_median": num("callback_against_ms"), "paired_ratio_median": paired, "ours_faster": v["callback_against_ours_faster"], "runs": v["callback_runs"]}),
        );
        rows.push(Row {
            name: "callback_vs_against_ratio",
            value: format!("{:.1} ms median", num("callback_ours_ms")),
            baseline: format!(
                "the package of --against, the same callback {:.1} ms median (per pair: median ratio {paired:.3}, ours faster in {} of {})",
                num("callback_against_ms"),
                v["callback_against_ours_faster"],
                v["callback_runs"]
            ),
            ratio: format!("{ratio:.3}"),
            runs: "the same runs, the two in alternating order".into(),
        });
    }
    rows.push(Row {
        name: "callback_vs_oauth4webapi_ratio",
        value: format!("{:.1} ms median", num("callback_ours_ms")),
        baseline: format!(
            "oauth4webapi, the same callback (state check, code exchange, response checks) {:.1} ms median",
            num("callback_oauth4webapi_ms")
        ),
        ratio: format!("{anchor_ratio:.2}"),
        runs: "the same runs".into(),
    });
    rows.push(Row {
        name: "fetch_overhead_ratio",
        value: format!("{:.0} ms", num("fetch_ours_ms")),
        baseline: format!("raw fetch with header {:.0} ms", num("fetch_raw_ms")),
        ratio: format!("{fetch_ratio:.3}"),
        runs: format!("{} + {} calls, batches of 100 interleaved", v["fetch_calls"], v["fetch_calls"]),
    });
    rows.push(Row {
        name: "singleflight_refresh_requests",
        value: format!("{}", v["singleflight_refresh_requests"]),
        baseline: format!(
            "{} tabs sharing local storage × 100 concurrent accessToken() callers, every token expired ({} distinct tokens handed out)",
            v["singleflight_tabs"], v["singleflight_distinct_tokens"]
        ),
        ratio: "-".into(),
        runs: "1".into(),
    });
    Ok(())
}

/// A child process that is killed when dropped (servers under test).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cmd` and returns it with the first `http://...` URL it prints on stdout.
fn spawn_server(cmd: &mut Command) -> Result<(Child, String)> {
    use std::io::BufRead as _;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {:?}: {e}", cmd.get_program()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let child = Child(child);
    let mut lines = std::io::BufReader::new(stdout).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(i) = line.find("http://") {
            let url: String = line[i..].split_whitespace().next().unwrap_or("").to_string();
            // Keep draining its output: a server writing to a closed pipe would die mid-benchmark.
            std::thread::spawn(move || lines.for_each(drop));
            return Ok((child, url.replace("localhost", "127.0.0.1")));
        }
    }
    Err(format!("{:?} printed no URL", cmd.get_program()))
}

/// One loadgen round: (per second, p50 ms, p99 ms).
fn loadgen(args: &[&str]) -> Result<(f64, f64, f64)> {
    let out =
        Command::new(root().join("target/release/loadgen")).args(args).output().map_err(|e| format!("loadgen: {e}"))?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("loadgen output: {e}"))?;
    if v["count"].as_u64().unwrap_or(0) == 0 {
        return Err(format!("loadgen {} completed nothing: {v}", args.join(" ")));
    }
    Ok((v["per_s"].as_f64().unwrap_or(0.0), v["p50_ms"].as_f64().unwrap_or(0.0), v["p99_ms"].as_f64().unwrap_or(0.0)))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Emulator throughput on loopback against the mock servers users pick instead, one load generator for all,
/// rounds interleaved: whole PKCE grants (vs oauth2-mock-server) and rotating refresh grants.
fn emulator_throughput(smoke: bool, results: &mut Map<String, Value>, rows: &mut Vec<Row>) -> Result {
    run(crate::setup::cargo(&["build", "--release", "-p", "genesys-emulator", "-p", "genesys-loadgen"]).arg("-q"))?;
    let (_ours, ours_url) = spawn_server(Command::new(root().join("target/release/genesys-emulator")).args([
        "--port",
        "0",
        "--auto-login",
        "alex",
    ]))?;
    let (_mock, mock_url) =
        spawn_server(Command::new("node").arg(root().join("bench/mock-server.mjs")).arg("0").current_dir(root()))?;
    let (_oidc, oidc_url) =
        spawn_server(Command::new("node").arg(root().join("bench/oidc-provider.mjs")).arg("0").current_dir(root()))?;
    let (rounds, seconds, concurrency) = if smoke { (1, "1", "8") } else { (3, "3", "32") };
    let client = genesys_emulator::DEMO_CLIENT_ID;
    let redirect = "http://localhost:3000/";
    // One load generator per server and grant kind, the four interleaved in each round.
    // No scope, as Genesys apps send none; oidc-provider grants nothing without a scope, so it gets a plain OAuth
    // one (`api`, not `openid`: no ID token).
    let runs = [
        ("grants", &ours_url, "/oauth/authorize", "/oauth/token", client, None),
        ("grants", &mock_url, "/authorize", "/token", "bench-client", None),
        ("refresh", &ours_url, "/oauth/authorize", "/oauth/token", client, None),
        ("refresh", &oidc_url, "/auth", "/token", "bench-client", Some("api")),
    ];
    let mut measured: [Vec<(f64, f64, f64)>; 4] = Default::default();
    for _ in 0..rounds {
        for ((kind, url, authorize, token, client_id, scope), into) in runs.iter().zip(measured.iter_mut()) {
            let mut args = vec![*kind, url.as_str(), authorize, token, client_id, redirect, concurrency, seconds];
            args.extend(scope);
            into.push(loadgen(&args)?);
        }
    }
    let [ours, mock, ours_refresh, oidc_refresh] = measured;
    let rate = |v: &[(f64, f64, f64)]| median(v.iter().map(|r| r.0).collect());
    let p = |v: &[(f64, f64, f64)], i: usize| median(v.iter().map(|r| if i == 1 { r.1 } else { r.2 }).collect());
    let (ours_rate, mock_rate, refresh_rate, oidc_rate) =
        (rate(&ours), rate(&mock), rate(&ours_refresh), rate(&oidc_refresh));
    let refresh_ratio = refresh_rate / oidc_rate;
    let ratio = ours_rate / mock_rate;
    results.insert("emulator_grants_per_s".into(), json!(ours_rate));
    results.insert("oauth2_mock_server_grants_per_s".into(), json!(mock_rate));
    results.insert("emulator_vs_oauth2_mock_server_ratio".into(), json!(ratio));
    results.insert("emulator_refresh_per_s".into(), json!(refresh_rate));
    results.insert("oidc_provider_refresh_per_s".into(), json!(oidc_rate));
    results.insert("emulator_refresh_vs_oidc_provider_ratio".into(), json!(refresh_ratio));
    results.insert(
        "emulator_latency_ms".into(),
        json!({"grants_p50": p(&ours, 1), "grants_p99": p(&ours, 2), "refresh_p50": p(&ours_refresh, 1), "refresh_p99": p(&ours_refresh, 2),
               "mock_grants_p50": p(&mock, 1), "mock_grants_p99": p(&mock, 2),
               "oidc_refresh_p50": p(&oidc_refresh, 1), "oidc_refresh_p99": p(&oidc_refresh, 2)}),
    );
    let runs = format!("{rounds} rounds × {seconds} s, {concurrency} clients, interleaved");
    rows.push(Row {
        name: "emulator_grants_per_s (authorize + token)",
        value: format!("{ours_rate:.0}/s (p50 {:.2} ms, p99 {:.2} ms)", p(&ours, 1), p(&ours, 2)),
        baseline: format!(
            "oauth2-mock-server {mock_rate:.0}/s (p50 {:.2} ms, p99 {:.2} ms); per grant it signs a JWT access token and an ID token (it has no opaque setting; Ed25519, its cheapest key), the emulator issues opaque tokens; no scope asked of either",
            p(&mock, 1),
            p(&mock, 2)
        ),
        ratio: format!("{ratio:.1}×"),
        runs: runs.clone(),
    });
    rows.push(Row {
        name: "emulator_refresh_per_s (rotation on)",
        value: format!("{refresh_rate:.0}/s (p50 {:.2} ms, p99 {:.2} ms)", p(&ours_refresh, 1), p(&ours_refresh, 2)),
        baseline: format!(
            "oidc-provider {oidc_rate:.0}/s (p50 {:.2} ms, p99 {:.2} ms); the same work per refresh: rotation on, opaque tokens, no ID token (scope `api`, no openid), refresh token without consent",
            p(&oidc_refresh, 1),
            p(&oidc_refresh, 2)
        ),
        ratio: format!("{refresh_ratio:.1}×"),
        runs,
    });
    Ok(())
}

/// `genesys-auth token` with a valid cached token, against `cat` of the cache file: medians of interleaved runs.
fn cli_token(smoke: bool, results: &mut Map<String, Value>, rows: &mut Vec<Row>) -> Result {
    run(crate::setup::cargo(&["build", "--release", "-p", "genesys-auth-cli"]).arg("-q"))?;
    let dir = root().join("target/bench/cli-cache");
    let _ = std::fs::remove_dir_all(&dir);
    let region = genesys_auth::Region::custom("http://127.0.0.1:9").map_err(|e| e.to_string())?;
    let cache = genesys_auth_native::TokenCache::new(Some(&dir), &region, "bench-client");
    let tokens = genesys_auth::TokenSet {
        access: genesys_auth::AccessToken::new("bench-access-token-0123456789abcdef0123456789"),
        refresh: None,
        expires_at_ms: u64::MAX / 2,
        scope: None,
        token_type: "bearer".into(),
    };
    cache.store(&tokens).map_err(|e| e.to_string())?;
    let runs = if smoke { 3 } else { 200 };
    let time = |cmd: &mut Command| -> Result<f64> {
        let start = std::time::Instant::now();
        let out = cmd.output().map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(format!("{:?} failed: {}", cmd.get_program(), String::from_utf8_lossy(&out.stderr)));
        }
        Ok(start.elapsed().as_secs_f64() * 1000.0)
    };
    let (mut ours, mut cat) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        ours.push(time(
            Command::new(root().join("target/release/genesys-auth"))
                .arg("token")
                .env("GENESYS_REGION", "http://127.0.0.1:9")
                .env("GENESYS_CLIENT_ID", "bench-client")
                .env("GENESYS_AUTH_CACHE_DIR", &dir),
        )?);
        cat.push(time(Command::new("cat").arg(cache.path()))?);
    }
    let (o, c) = (median(ours), median(cat));
    results.insert("cli_token_vs_cat_ratio".into(), json!(o / c));
    results.insert("cli_token_ms".into(), json!({"genesys_auth_token_median": o, "cat_median": c, "runs": runs}));
    rows.push(Row {
        name: "cli_token_vs_cat_ratio",
        value: format!("{o:.2} ms median"),
        baseline: format!("cat of the cache file {c:.2} ms median"),
        ratio: format!("{:.2}", o / c),
        runs: format!("{runs} + {runs} interleaved"),
    });
    Ok(())
}

/// Runs the benchmarks, prints the table, writes `target/bench/results.json`.
pub fn command(args: &[String]) -> Result {
    let smoke = args.iter().any(|a| a == "--smoke");
    if let Some(dir) = setup::option(args, "--against") {
        let dir = dir.ok_or("--against needs the directory of a built package (its index.js and wasm)")?;
        let dir = std::fs::canonicalize(dir).map_err(|e| format!("--against {dir}: {e}"))?;
        for file in ["index.js", "genesys_auth_bg.wasm"] {
            if !dir.join(file).is_file() {
                return Err(format!(
                    "--against {}: no {file} there; build one with `cargo xtask build-web` in that checkout and pass its target/npm/genesys-auth",
                    dir.display()
                ));
            }
        }
        let _ = crate::serve::AGAINST.set(dir);
    }
    let runs = match setup::option(args, "--runs") {
        None => "30",
        Some(n) => n.filter(|n| n.parse::<u32>().is_ok_and(|n| n > 0)).ok_or("--runs needs a whole number above 0")?,
    };
    setup::npm_packages()?;
    let mut results = Map::new();
    let mut rows = Vec::new();
    bundle_sizes(&mut results, &mut rows)?;
    let bundle = results.get("bundle_gz_bytes").and_then(Value::as_u64).unwrap_or(u64::MAX);
    browser(smoke, runs, &mut results, &mut rows)?;
    emulator_throughput(smoke, &mut results, &mut rows)?;
    cli_token(smoke, &mut results, &mut rows)?;
    results.insert("smoke".into(), json!(smoke));
    results.insert("date".into(), json!(date()));
    results.insert("machine".into(), json!(machine()));
    let dir = root().join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // The mutation scores come from `cargo xtask mutants` (by hand, too slow to rerun here): kept as they were.
    let earlier: Map<String, Value> = std::fs::read_to_string(dir.join("results.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    for (key, value) in earlier {
        if key.contains("_mutants") {
            results.entry(key).or_insert(value);
        }
    }
    let text = serde_json::to_string_pretty(&Value::Object(results)).map_err(|e| e.to_string())?;
    let text = text + "\n";
    std::fs::write(dir.join("results.json"), &text).map_err(|e| e.to_string())?;
    print_table(&rows);
    println!("\nwrote {}", dir.join("results.json").display());
    if args.iter().any(|a| a == "--update-readme") {
        update_readme(&rows, &text)?;
    }
    // The package's size is a product feature: a change that takes it over the first bar fails here (and in CI,
    // which runs `--smoke`), after the table shows by how much.
    if bundle > BUNDLE_BAR_BYTES {
        return Err(format!("the npm package is {bundle} B gzipped, over the bar of {BUNDLE_BAR_BYTES} B"));
    }
    Ok(())
}

/// The bar for the browser bundle (wasm + scripts, gzip -9), so that growth from here fails: what the package
/// measured on 2026-12-08 (44 269 B: wasm 39 536 + JS 4 733) plus a margin of about 250 B. The session contract of
/// that day cost 4 419 B over 2026-12-06's 39 850 B (measured with twiggy on the same toolchain): the sign-out epoch
/// with its late-token revocation, the signed-out mark, every shared write under the lock, the machine's request
/// timeout and redirects, the storage places and the lock's name in the actions, the options as JSON, the event and
/// action names read from the engine, the wipes of wasm memory, and the messages of the new errors. Issue 27 asks for
/// 41 000 B; the size is a goal we report (STYLE.md, "Size against clarity"), and this bar only stops growth.
const BUNDLE_BAR_BYTES: u64 = 44_500;

/// Puts this run's table, date and machine between the README's bench markers, and its chart and results in
/// `docs/`.
fn update_readme(rows: &[Row], results: &str) -> Result {
    const START: &str = "<!-- bench:start -->";
    const END: &str = "<!-- bench:end -->";
    let readme_path = root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
        return Err("README.md lacks the bench markers".into());
    };
    let mut table = format!(
        "{START}\nLatest full run: {}, {} ([results](docs/bench-results.json)).\n\n| figure | ours | baseline (same run) | ratio | runs |\n|---|---|---|---|---|\n",
        date(),
        machine()
    );
    for r in rows {
        table.push_str(&format!("| {} | {} | {} | {} | {} |\n", r.name, r.value, r.baseline, r.ratio, r.runs));
    }
    let updated = [&readme[..a], &table, &readme[b..]].concat();
    std::fs::write(&readme_path, updated).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root().join("docs")).map_err(|e| e.to_string())?;
    std::fs::copy(root().join("target/bench/bundle-sizes.svg"), root().join("docs/bundle-sizes.svg"))
        .map_err(|e| e.to_string())?;
    std::fs::write(root().join("docs/bench-results.json"), results).map_err(|e| e.to_string())?;
    println!("updated README.md, docs/bundle-sizes.svg and docs/bench-results.json");
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
