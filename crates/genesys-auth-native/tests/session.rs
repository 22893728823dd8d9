//! The library's `Session` against the emulator, in-process: the host rule holds before any connection.

use std::sync::Arc;
use std::time::Duration;

use genesys_auth::{AccessToken, Region, TokenSet};
use genesys_auth_native::{Error, LoginOptions, Options, Session, TokenCache};
use genesys_emulator::{Config, DEMO_CLIENT_ID, Emulator, server};

#[tokio::test]
async fn a_path_that_leaves_the_api_origin_is_refused_before_any_connection() {
    let emulator = Arc::new(Emulator::new(Config::default()));
    let running = server::start(emulator, "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let region = Region::custom(&running.base_url()).unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::temp_dir().join(format!("genesys-auth-native-host-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    cache_a_valid_token(&dir, &region);
    // A listener on another loopback address stands for a foreign host.
    let trap = tokio::net::TcpListener::bind("127.0.0.2:0").await.unwrap_or_else(|e| panic!("{e}"));
    let port = trap.local_addr().map(|a| a.port()).unwrap_or(0);
    let session = Session::new(region, DEMO_CLIENT_ID, Options { cache_dir: Some(dir.clone()), ..Options::default() })
        .unwrap_or_else(|e| panic!("{e}"));
    for path in [format!("@127.0.0.2:{port}/x"), ".evil.example/".to_string(), format!("//127.0.0.2:{port}/x")] {
        let result = session.get(&path).await;
        assert!(matches!(result, Err(Error::Auth(genesys_auth::Error::InvalidConfig { field: "url", .. }))), "{path}");
    }
    let reached = tokio::time::timeout(Duration::from_millis(300), trap.accept()).await;
    assert!(reached.is_err(), "a request reached 127.0.0.2");
    // The trap does notice a connection when one is made.
    let _probe = tokio::net::TcpStream::connect(("127.0.0.2", port)).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(tokio::time::timeout(Duration::from_secs(2), trap.accept()).await.is_ok());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A cache under `dir` holding an access token valid for an hour (no refresh token).
fn cache_a_valid_token(dir: &std::path::Path, region: &Region) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let tokens = TokenSet {
        access: AccessToken::new("a-valid-looking-access-token-0123456789"),
        refresh: None,
        expires_at_ms: now + 3_600_000,
        scope: None,
        token_type: "bearer".into(),
    };
    TokenCache::new(Some(dir), region, DEMO_CLIENT_ID).store(&tokens).unwrap_or_else(|e| panic!("{e}"));
}

/// An emulator on loopback that signs alex in by itself, and its region.
async fn auto_login_emulator() -> (server::Running, Region) {
    let config = Config { auto_login: Some("alex".into()), ..Config::default() };
    let running =
        server::start(Arc::new(Emulator::new(config)), "127.0.0.1:0".parse().unwrap_or_else(|e| panic!("{e}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
    let region = Region::custom(&running.base_url()).unwrap_or_else(|e| panic!("{e}"));
    (running, region)
}

fn session_on(region: &Region, dir: &std::path::Path) -> Session {
    Session::new(region.clone(), DEMO_CLIENT_ID, Options { cache_dir: Some(dir.to_path_buf()), ..Options::default() })
        .unwrap_or_else(|e| panic!("{e}"))
}

/// The test plays the browser: it follows the authorize URL (auto-login redirects to the listener).
fn browser_played_by_the_test() -> LoginOptions {
    LoginOptions {
        open_browser: false,
        on_url: Box::new(|url| {
            let url = url.to_string();
            tokio::spawn(async move {
                let _ = reqwest::get(&url).await;
            });
        }),
        ..LoginOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_writes_the_cache_only_under_its_lock() {
    let (_running, region) = auto_login_emulator().await;
    let dir = std::env::temp_dir().join(format!("genesys-auth-native-lock-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let cache = TokenCache::new(Some(&dir), &region, DEMO_CLIENT_ID);
    // Another process refreshing: it holds the lock for a while.
    let held = cache.lock().unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        drop(held);
    });
    session_on(&region, &dir).login(browser_played_by_the_test()).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(started.elapsed() >= Duration::from_millis(600), "the login wrote the cache while the lock was held");
    assert!(cache.load().ok().flatten().is_some(), "and then it did write it");
    let _ = releaser.join();
    let _ = std::fs::remove_dir_all(&dir);
}

/// A signed-in cache (through the emulator's scripted login) whose access token has expired: a refresh is due.
async fn expired_cache(dir: &std::path::Path) -> (server::Running, Region) {
    let (running, region) = auto_login_emulator().await;
    session_on(&region, dir).login(browser_played_by_the_test()).await.unwrap_or_else(|e| panic!("{e}"));
    let cache = TokenCache::new(Some(dir), &region, DEMO_CLIENT_ID);
    let mut tokens = cache.load().ok().flatten().unwrap_or_else(|| panic!("signed in"));
    assert!(tokens.refresh.is_some(), "the emulator issues refresh tokens");
    tokens.expires_at_ms = 1;
    cache.store(&tokens).unwrap_or_else(|e| panic!("{e}"));
    (running, region)
}

#[tokio::test(flavor = "current_thread")]
async fn two_sessions_on_one_cache_on_a_current_thread_runtime_both_finish() {
    let dir = std::env::temp_dir().join(format!("genesys-auth-native-two-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (_running, region) = expired_cache(&dir).await;
    let (a, b) = (session_on(&region, &dir), session_on(&region, &dir));
    let both = async { tokio::join!(a.access_token(), b.access_token()) };
    let (ta, tb) =
        tokio::time::timeout(Duration::from_secs(20), both).await.unwrap_or_else(|_| panic!("a session hung"));
    let (ta, tb) = (ta.unwrap_or_else(|e| panic!("{e}")), tb.unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(ta, tb, "one refresh: the second session took the first one's token from the cache");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "current_thread")]
async fn a_logout_removes_the_cache_under_its_lock_and_it_stays_removed() {
    let dir = std::env::temp_dir().join(format!("genesys-auth-native-out-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (_running, region) = expired_cache(&dir).await;
    let cache = TokenCache::new(Some(&dir), &region, DEMO_CLIENT_ID);
    // Another process refreshing holds the lock for a while; the logout waits for it, then removes the cache.
    let held = cache.lock().unwrap_or_else(|e| panic!("{e}"));
    let started = std::time::Instant::now();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        drop(held);
    });
    session_on(&region, &dir).logout().await.unwrap_or_else(|e| panic!("{e}"));
    let _ = releaser.join();
    assert!(started.elapsed() >= Duration::from_millis(500), "the logout removed the cache while the lock was held");
    assert!(cache.load().ok().flatten().is_none(), "the cache stays removed");
    assert!(!cache.path().with_extension("lock").exists(), "the sign-out leaves no lock file behind");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "current_thread")]
async fn a_dropped_session_with_a_call_in_flight_ends_its_task_and_its_request() {
    // An API host that accepts connections and never answers.
    let trap = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("{e}"));
    let base = format!("http://{}", trap.local_addr().unwrap_or_else(|e| panic!("{e}")));
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = trap.accept().await {
            held.push(socket);
        }
    });
    let region = Region::custom(&base).unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::temp_dir().join(format!("genesys-auth-native-drop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    cache_a_valid_token(&dir, &region);
    let alive = || tokio::runtime::Handle::current().metrics().num_alive_tasks();
    let before = alive();
    {
        let session = session_on(&region, &dir);
        // The caller gives up while its request hangs; then the session goes.
        let call = tokio::time::timeout(Duration::from_millis(300), session.get("/api/v2/users/me")).await;
        assert!(call.is_err(), "the trap answered");
        assert!(alive() > before, "the executor and its request run");
    }
    let mut waited = 0;
    while alive() > before && waited < 3_000 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 50;
    }
    assert_eq!(alive(), before, "tasks left {waited} ms after the session was dropped");
    let _ = std::fs::remove_dir_all(&dir);
}
