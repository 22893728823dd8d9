//! Serving the demo: the emulator (login + API host) and the demo SPA with the npm package, on loopback.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use genesys_emulator::{Config, DEMO_CLIENT_ID, Emulator, server};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::setup::root;

/// The running demo: emulator + static site.
pub struct Demo {
    /// `http://127.0.0.1:PORT` of the emulator.
    pub emulator_url: String,
    /// `http://localhost:PORT/` of the demo app.
    pub app_url: String,
    _emulator: server::Running,
}

/// Starts the emulator on `emulator_port` and the demo site on `app_port` (0 = any), registering the site's
/// origin and redirect URIs on the demo client.
///
/// `test_mode` exposes the demo's state as `window.demo` for the end-to-end suites and benchmarks; the demo a
/// person runs does not hand its `GenesysAuth` instance to every script of the page.
/// Apps installed from the npm tarball outside the repository (see `e2e::installed`): when set, `/react/` serves
/// that build of the React example and `/html/` the plain HTML page.
pub static INSTALLED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Another build of the package, served at `/against/` when set: `cargo xtask bench --against DIR` times its
/// callback beside ours in the same runs.
pub static AGAINST: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

pub async fn start(
    app_port: u16,
    emulator_port: u16,
    mut config: Config,
    pkg: PathBuf,
    test_mode: bool,
) -> std::result::Result<Demo, String> {
    let site = TcpListener::bind(("127.0.0.1", app_port)).await.map_err(|e| format!("port {app_port}: {e}"))?;
    let app_port = site.local_addr().map_err(|e| e.to_string())?.port();
    let origin = format!("http://localhost:{app_port}");
    if let Some(client) = config.clients.iter_mut().find(|c| c.id == DEMO_CLIENT_ID) {
        for path in [
            "/",
            "/callback.html",
            "/embedded/app.html",
            "/sdk/",
            "/react/",
            "/vue/",
            "/angular/",
            "/leptos/",
            "/html/",
            "/bench/callback.html",
            "/bench/session.html",
        ] {
            let uri = format!("{origin}{path}");
            if !client.redirect_uris.contains(&uri) {
                client.redirect_uris.push(uri);
            }
        }
        if !client.allowed_origins.contains(&origin) {
            client.allowed_origins.push(origin.clone());
        }
    }
    let emulator = Arc::new(Emulator::new(config));
    let addr: SocketAddr = ([127, 0, 0, 1], emulator_port).into();
    let running =
        server::start(emulator.clone(), addr).await.map_err(|e| format!("emulator on port {emulator_port}: {e}"))?;
    let emulator_url = running.base_url();
    // The same settings as a module (the demo pages) and as JSON (apps that fetch it, like the React example).
    let json = format!("{{ \"region\": {emulator_url:?}, \"clientId\": {DEMO_CLIENT_ID:?}, \"test\": {test_mode} }}");
    let module =
        format!("// Written by `cargo xtask demo`: the local emulator and its demo client.\nexport default {json};\n");
    tokio::spawn(serve_site(site, Arc::new(Site { module, json, pkg })));
    Ok(Demo { emulator_url, app_url: format!("{origin}/"), _emulator: running })
}

/// What the demo site serves besides files: its settings, and where the package is.
struct Site {
    module: String,
    json: String,
    pkg: PathBuf,
}

async fn serve_site(listener: TcpListener, site: Arc<Site>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let site = site.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                let site = site.clone();
                async move { Ok::<_, std::convert::Infallible>(static_file(req.uri().path(), &site)) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// The Content-Security-Policy of the demo's pages.
const DEMO_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self' http://127.0.0.1:* http://localhost:* https:; img-src 'self' data:; \
    style-src 'self' 'unsafe-inline'; frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; object-src 'none'";

/// A file of the demo (`demo/`) or of the package (`/pkg/` → `pkg`, normally `target/npm/genesys-auth/`).
fn static_file(path: &str, site: &Site) -> http::Response<Full<Bytes>> {
    let pkg = site.pkg.as_path();
    // The demo's own pages: no inline script, wasm allowed, requests to this site, the local emulator and any
    // https region (Settings may point at a real org).
    let csp = !["/pkg/", "/against/", "/vendor/", "/react/", "/vue/", "/angular/", "/leptos/", "/html/", "/bench/"]
        .iter()
        .any(|p| path.starts_with(p));
    let respond = |status: u16, ct: &str, body: Bytes| {
        let mut r =
            http::Response::builder().status(status).header("content-type", ct).header("cache-control", "no-store");
        if csp {
            r = r.header("content-security-policy", DEMO_CSP);
        }
        r.body(Full::new(body)).unwrap_or_default()
    };
    if path == "/demo-config.js" {
        return respond(200, "text/javascript", Bytes::from(site.module.clone()));
    }
    if path == "/demo-config.json" {
        return respond(200, "application/json", Bytes::from(site.json.clone()));
    }
    let (base, rel) = if let Some(rel) = path.strip_prefix("/pkg/") {
        (pkg.to_path_buf(), rel)
    } else if let (Some(rel), Some(dir)) = (path.strip_prefix("/against/"), AGAINST.get()) {
        (dir.clone(), rel)
    } else if let Some(rel) = path.strip_prefix("/vendor/") {
        // Pinned third-party browser builds from the committed lock file (the official SDK, for interop).
        let file = match rel {
            "purecloud-platform-client-v2.min.js" => {
                "purecloud-platform-client-v2/dist/web-cjs/purecloud-platform-client-v2.min.js"
            }
            // The anchor library of the callback benchmark (bench/pages/callback.html).
            "oauth4webapi.js" => "oauth4webapi/build/index.js",
            _ => return respond(404, "text/plain", Bytes::from_static(b"not found")),
        };
        (root().join("node_modules"), file)
    } else if let Some(rel) = path.strip_prefix("/react/") {
        match INSTALLED.get() {
            Some(apps) => (apps.join("react/dist"), rel),
            None => (root().join("examples/react-vite/dist"), rel),
        }
    } else if let Some(rel) = path.strip_prefix("/vue/") {
        (root().join("examples/vue-vite/dist"), rel)
    } else if let Some(rel) = path.strip_prefix("/angular/") {
        (root().join("examples/angular/dist/browser"), rel)
    } else if let (Some(rel), Some(apps)) = (path.strip_prefix("/html/"), INSTALLED.get()) {
        (apps.join("html"), rel)
    } else if let Some(rel) = path.strip_prefix("/leptos/") {
        (root().join("target/examples/leptos"), rel)
    } else if let Some(rel) = path.strip_prefix("/bench/") {
        (root().join("bench/pages"), rel)
    } else {
        (root().join("demo"), path.trim_start_matches('/'))
    };
    let rel = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_string() };
    let Some(file) = safe_join(&base, &rel) else {
        return respond(400, "text/plain", Bytes::from_static(b"bad path"));
    };
    match std::fs::read(&file) {
        Ok(bytes) => respond(200, content_type(&file), Bytes::from(bytes)),
        Err(_) => respond(404, "text/plain", Bytes::from_static(b"not found")),
    }
}

fn safe_join(base: &Path, rel: &str) -> Option<PathBuf> {
    let rel = Path::new(rel);
    rel.components().all(|c| matches!(c, Component::Normal(_))).then(|| base.join(rel))
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript",
        Some("css") => "text/css",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// `cargo xtask demo`: builds the package, serves the demo on :3000 and the emulator on :8080 until Ctrl-C.
pub fn demo(args: &[String]) -> crate::setup::Result {
    let port = |flag: &str, default: u16| {
        crate::setup::option(args, flag).flatten().and_then(|p| p.parse().ok()).unwrap_or(default)
    };
    let (app_port, emu_port) = (port("--port", 3000), port("--emulator-port", 8080));
    let pkg = crate::web::build()?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let demo = start(app_port, emu_port, Config::default(), pkg, false).await?;
        println!();
        println!("  genesys-auth demo:  {}", demo.app_url);
        println!("  emulator:           {} (login + API host; test users on its login page)", demo.emulator_url);
        println!("  client id:          {DEMO_CLIENT_ID}");
        println!();
        println!("  Open {} in a browser. Ctrl-C stops.", demo.app_url);
        let _ = tokio::signal::ctrl_c().await;
        Ok(())
    })
}
