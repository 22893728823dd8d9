//! The `genesys-auth` binary against the emulator (`auto_login`): loopback login, refresh, refusals, cache
//! corruption, concurrency, port conflicts and timeouts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;

use genesys_emulator::{Config, DEMO_CLIENT_ID, Emulator, server};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

struct Env {
    emulator: Arc<Emulator>,
    base: String,
    cache: PathBuf,
    _running: server::Running,
}

async fn env(name: &str) -> Env {
    env_with(name, Config::default()).await
}

/// An emulator with `config` (signing in as alex by itself) and a cache of its own.
async fn env_with(name: &str, config: Config) -> Env {
    let config = Config { auto_login: Some("alex".into()), ..config };
    let emulator = Arc::new(Emulator::new(config));
    let running = server::start(emulator.clone(), "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let cache = std::env::temp_dir().join(format!("genesys-auth-cli-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&cache);
    Env { emulator, base: running.base_url(), cache, _running: running }
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_genesys-auth"));
        c.args(args)
            .env("GENESYS_REGION", &self.base)
            .env("GENESYS_CLIENT_ID", DEMO_CLIENT_ID)
            .env("GENESYS_AUTH_CACHE_DIR", &self.cache)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs a command to completion: (exit code, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cmd(args).output().await.unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts `login --no-browser`: the running command and the authorize URL it printed.
    async fn start_login(&self) -> (tokio::process::Child, String) {
        self.start_login_with(&[]).await
    }

    /// `start_login` with more arguments for `login`.
    async fn start_login_with(&self, extra: &[&str]) -> (tokio::process::Child, String) {
        let args = [&["login", "--no-browser", "--timeout", "30"], extra].concat();
        let mut child = self.cmd(&args).spawn().unwrap_or_else(|e| panic!("{e}"));
        let stderr = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
        let mut lines = BufReader::new(stderr).lines();
        let mut url = None;
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(start) = line.find("http://") {
                url = Some(line[start..].trim().to_string());
                break;
            }
        }
        // The rest of its output is read too, or its next message would hit a closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        (child, url.unwrap_or_else(|| panic!("no URL printed")))
    }

    /// `login --no-browser`, with the test playing the browser: it opens the printed URL.
    async fn login(&self) -> String {
        let (mut child, url) = self.start_login().await;
        let page = reqwest::get(&url).await.unwrap_or_else(|e| panic!("{e}")).text().await.unwrap_or_default();
        let status = child.wait().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(status.success(), "login exit {status:?}");
        page
    }

    fn cache_file(&self) -> PathBuf {
        let entries = std::fs::read_dir(&self.cache).unwrap_or_else(|e| panic!("{e}"));
        entries
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "tokens"))
            .unwrap_or_else(|| panic!("no cache file"))
    }

    fn expire_cache(&self) {
        let path = self.cache_file();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let expired: String = text
            .split('&')
            .map(|kv| if kv.starts_with("expires_at=") { "expires_at=0".to_string() } else { kv.to_string() })
            .collect::<Vec<_>>()
            .join("&");
        std::fs::write(&path, expired).unwrap_or_else(|e| panic!("{e}"));
    }

    fn grants(&self, grant: &str) -> Vec<(u16, Option<String>)> {
        self.emulator
            .request_log()
            .into_iter()
            .filter(|r| r.grant_type.as_deref() == Some(grant))
            .map(|r| (r.status, r.error))
            .collect()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.cache);
    }
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
}

#[tokio::test]
async fn loopback_login_caches_tokens_privately_and_token_prints_them() {
    let e = env("login").await;
    let page = e.login().await;
    assert!(page.contains("Signed in"), "{page}");
    assert_eq!(mode(&e.cache_file()), 0o600);
    let (code, out, _) = e.run(&["token"]).await;
    assert_eq!(code, 0);
    assert!(out.trim().len() >= 40, "a token is printed");
    let (code, out, _) = e.run(&["whoami"]).await;
    assert_eq!((code, out.lines().next()), (0, Some("Alex Agent <alex.agent@example.com>")));
    let (code, out, _) = e.run(&["whoami", "--json"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("\"email\""));
}

#[tokio::test]
async fn whoami_prints_server_text_without_terminal_control_characters() {
    let mut config = Config::default();
    config.users[0].name = "Alex \u{1b}]0;pwned\u{7}Agent\u{1b}[2J".into(); // "Alex" still signs in by itself
    config.users[0].title = "Agent\r\nroot# ".into();
    let e = env_with("whoami-escapes", config).await;
    e.login().await;
    let (code, out, _) = e.run(&["whoami"]).await;
    assert_eq!(code, 0);
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    assert_eq!(out.lines().next(), Some("Alex ]0;pwnedAgent[2J <alex.agent@example.com>"));
    assert!(out.contains("title:        Agentroot# \n"), "{out:?}");
}

#[tokio::test]
async fn an_expired_token_is_refreshed() {
    let e = env("refresh").await;
    e.login().await;
    e.expire_cache();
    let (code, out, err) = e.run(&["token"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(!out.trim().is_empty());
    assert_eq!(e.grants("refresh_token"), vec![(200, None)]);
}

#[tokio::test]
async fn a_refused_refresh_asks_for_login_with_exit_code_3() {
    let e = env("refused").await;
    e.login().await;
    e.emulator.reset();
    e.expire_cache();
    let (code, _, err) = e.run(&["token"]).await;
    assert_eq!(code, 3);
    assert!(err.contains("run `genesys-auth login`"), "{err}");
    assert!(
        std::fs::read_dir(&e.cache)
            .map(|d| d.flatten().all(|f| f.path().extension().is_none_or(|x| x != "tokens")))
            .unwrap_or(true)
    );
}

#[tokio::test]
async fn a_revoked_token_ends_in_login_required() {
    let e = env("revoked").await;
    e.login().await;
    let (_, token, _) = e.run(&["token"]).await;
    let revoked =
        reqwest::Client::new().delete(format!("{}/api/v2/tokens/me", e.base)).bearer_auth(token.trim()).send().await;
    assert_eq!(revoked.map(|r| r.status().as_u16()).unwrap_or(0), 204);
    let (code, _, err) = e.run(&["whoami"]).await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("genesys-auth login"), "{err}");
}

#[tokio::test]
async fn a_corrupted_cache_is_reported_not_a_crash() {
    let e = env("corrupt").await;
    e.login().await;
    std::fs::write(e.cache_file(), b"\x00\xffnot a cache{{{").unwrap_or_else(|err| panic!("{err}"));
    let (code, _, err) = e.run(&["token"]).await;
    assert_eq!(code, 3);
    assert!(err.contains("unreadable") && err.contains("genesys-auth login"), "{err}");
    // A fresh login replaces it.
    e.login().await;
    assert_eq!(e.run(&["token"]).await.0, 0);
}

#[tokio::test]
async fn concurrent_token_invocations_refresh_once() {
    let e = env("concurrent").await;
    e.login().await;
    e.expire_cache();
    let runs: Vec<_> = (0..4).map(|_| e.cmd(&["token"]).output()).collect();
    let mut tokens = Vec::new();
    for r in runs {
        let out = r.await.unwrap_or_else(|err| panic!("{err}"));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        tokens.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
    }
    assert_eq!(e.grants("refresh_token").len(), 1, "one refresh request for four processes");
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "all got the same token");
}

#[tokio::test]
async fn a_port_in_use_is_a_clear_error() {
    let e = env("port").await;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|err| panic!("{err}"));
    let port = taken.local_addr().map(|a| a.port()).unwrap_or(0).to_string();
    let (code, _, err) = e.run(&["login", "--no-browser", "--port", &port]).await;
    assert_eq!(code, 7);
    assert!(err.contains(&port) && err.contains("--port"), "{err}");
}

#[tokio::test]
async fn login_options_reach_the_authorize_url_and_a_refused_one_stops_at_once() {
    let e = env("options").await;
    let sso = ["--org", "acme", "--provider", "okta", "--login-hint", "sam@example.com", "--prompt-login"];
    let (mut child, url) = e.start_login_with(&[&sso[..], &["--param", "ui_locales=fr-CA"]].concat()).await;
    for part in ["&org=acme", "&provider=okta", "&login_hint=sam%40example.com", "&prompt=login", "&ui_locales=fr-CA"] {
        assert!(url.contains(part), "{part} in {url}");
    }
    reqwest::get(&url).await.unwrap_or_else(|err| panic!("{err}"));
    assert!(child.wait().await.unwrap_or_else(|err| panic!("{err}")).success());

    let started = std::time::Instant::now();
    let (code, _, err) = e.run(&["login", "--no-browser", "--param", "state=mine"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("set by the library"), "{err}");
    let (code, _, err) = e.run(&["login", "--no-browser", "--org", "acme"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--provider"), "{err}");
    assert!(started.elapsed().as_secs() < 10);
}

#[tokio::test]
async fn a_browser_that_never_returns_times_out() {
    let e = env("timeout").await;
    let started = std::time::Instant::now();
    let (code, _, err) = e.run(&["login", "--no-browser", "--timeout", "1"]).await;
    assert_eq!(code, 5);
    assert!(err.contains("within 1 s"), "{err}");
    assert!(started.elapsed().as_secs() < 10);
}

#[tokio::test]
async fn missing_configuration_says_what_to_set() {
    let out = Command::new(env!("CARGO_BIN_EXE_genesys-auth"))
        .arg("token")
        .env_remove("GENESYS_REGION")
        .env_remove("GENESYS_CLIENT_ID")
        .output()
        .await;
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GENESYS_REGION"));
}

/// The loopback address the login listens on, from the authorize URL's `redirect_uri`.
fn listener_of(authorize_url: &str) -> String {
    let encoded = authorize_url.split("redirect_uri=").nth(1).and_then(|v| v.split('&').next()).unwrap_or_default();
    let uri = encoded.replace("%3A", ":").replace("%2F", "/");
    uri.trim_end_matches('/').to_string()
}

#[tokio::test]
async fn a_stray_or_forged_callback_gets_an_error_page_and_the_login_goes_on() {
    let e = env("stray").await;
    let (mut child, url) = e.start_login().await;
    let listener = listener_of(&url);
    assert!(listener.starts_with("http://127.0.0.1:"), "{listener}");
    let http = reqwest::Client::new();
    let forged = http.get(format!("{listener}/?code=stolen&state=forged")).send().await;
    let forged = forged.unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(forged.status().as_u16(), 400);
    assert!(forged.text().await.unwrap_or_default().contains("not the sign-in"));
    // Another Host (a rebinding page's name for this address) is not answered.
    let rebound = http.get(format!("{listener}/?code=x&state=y")).header("host", "evil.example").send().await;
    assert_eq!(rebound.map(|r| r.status().as_u16()).unwrap_or(0), 421);
    // The real callback still works.
    let page = reqwest::get(&url).await.unwrap_or_else(|err| panic!("{err}")).text().await.unwrap_or_default();
    assert!(page.contains("Signed in"), "{page}");
    let status = child.wait().await.unwrap_or_else(|err| panic!("{err}"));
    assert!(status.success());
    assert_eq!(e.grants("authorization_code").len(), 1, "the forged code was never sent");
}

#[tokio::test]
async fn a_logout_in_one_process_during_another_ones_slow_refresh_leaves_the_cache_removed() {
    let e = env("logout-race").await;
    e.login().await;
    e.expire_cache();
    // The refresh is answered 1.5 s late: process A holds the cache's lock all that while.
    e.emulator.add_fault(genesys_emulator::Fault {
        route: "/oauth/token".into(),
        grant_type: Some("refresh_token".into()),
        delay_ms: Some(1_500),
        ..genesys_emulator::Fault::default()
    });
    let refreshing = e.cmd(&["token"]).spawn().unwrap_or_else(|e| panic!("{e}"));
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (code, _, err) = e.run(&["logout"]).await; // process B
    assert_eq!(code, 0, "{err}");
    let out = refreshing.wait_with_output().await.unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(e.grants("refresh_token").len(), 1, "A refreshed once");
    let left: Vec<_> =
        std::fs::read_dir(&e.cache).map(|d| d.flatten().map(|f| f.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "the cache stays removed, and no lock file is left: {left:?}");
    let (code, _, _) = e.run(&["token"]).await;
    assert_eq!(code, 3, "signed out: a new command needs a login");
}
