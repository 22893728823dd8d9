//! `genesys-auth`: sign in to Genesys Cloud from the terminal and use the token in scripts.
//!
//! ```sh
//! genesys-auth login                                   # browser sign-in, tokens cached
//! curl -H "Authorization: Bearer $(genesys-auth token)" https://api.mypurecloud.ie/api/v2/users/me
//! ```

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser, Subcommand};
use genesys_auth::Region;
use genesys_auth_native::{Error, LoginOptions, Options, Session};

/// Sign in to Genesys Cloud (OAuth PKCE, loopback redirect) and print tokens for scripts.
///
/// Exit codes: 0 success; 1 other error; 2 bad usage or configuration; 3 sign-in needed (run `genesys-auth
/// login`); 4 sign-in refused or failed; 5 timed out waiting for the browser; 6 network or server error;
/// 7 loopback port unavailable.
#[derive(Debug, Parser)]
#[command(name = "genesys-auth", version, about, long_about = None)]
struct Cli {
    /// Region: `mypurecloud.ie`, `eu_west_1`, `eu-west-1`, `https://apps.mypurecloud.ie`, or a base URL such as the
    /// emulator's `http://127.0.0.1:8080`.
    #[arg(long, env = "GENESYS_REGION", global = true)]
    region: Option<String>,
    /// OAuth client id (a Code Authorization client with `http://127.0.0.1/` as redirect URI).
    #[arg(long, env = "GENESYS_CLIENT_ID", global = true)]
    client_id: Option<String>,
    /// Where tokens are cached (default: the platform's cache directory).
    #[arg(long, env = "GENESYS_AUTH_CACHE_DIR", global = true)]
    cache_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in through the browser; the tokens are cached.
    Login {
        /// Loopback port (0 = any free port; set one if your client registered a port).
        #[arg(long, env = "GENESYS_LOGIN_PORT", default_value_t = 0)]
        port: u16,
        /// Do not open a browser; print the URL to open instead.
        #[arg(long)]
        no_browser: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// Single sign-on: the org's short name (with --provider), straight to its identity provider.
        #[arg(long, requires = "provider")]
        org: Option<String>,
        /// Single sign-on: the org's identity provider (with --org), e.g. okta, adfs, salesforce.
        #[arg(long, requires = "org")]
        provider: Option<String>,
        /// Pre-fill the user name on the login page.
        #[arg(long)]
        login_hint: Option<String>,
        /// Show the login page even when a Genesys Cloud session exists (prompt=login).
        #[arg(long)]
        prompt_login: bool,
        /// Another authorize parameter, NAME=VALUE (repeatable; for standards servers).
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = name_value)]
        params: Vec<(String, String)>,
    },
    /// Print a valid access token (refreshed when needed), for `curl -H "Authorization: Bearer $(genesys-auth token)"`.
    Token,
    /// Show who is signed in (GET /api/v2/users/me).
    Whoami {
        /// Print the raw JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign out: revoke the token and delete the cache.
    Logout,
    /// Run the local Genesys Cloud emulator.
    Emulator {
        #[command(flatten)]
        args: genesys_emulator::cli::Args,
    },
    /// Run the demo (the emulator and the demo web app), from a clone of the repository.
    Demo,
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Emulator { args } => return genesys_emulator::cli::run(args),
        Command::Demo => return demo(),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "genesys-auth", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start: {e}"), 1),
    };
    match runtime.block_on(session_command(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e.to_string(), e.exit_code()),
    }
}

fn fail(message: &str, code: u8) -> ExitCode {
    eprintln!("genesys-auth: {message}");
    ExitCode::from(code)
}

fn session(cli: &Cli) -> Result<Session, Error> {
    let missing = |what: &'static str, reason: &'static str| {
        Error::Auth(genesys_auth::Error::InvalidConfig { field: what, reason })
    };
    let region =
        cli.region.as_deref().ok_or(missing("region", "set --region or GENESYS_REGION (e.g. mypurecloud.ie)"))?;
    let client_id = cli.client_id.as_deref().ok_or(missing("client id", "set --client-id or GENESYS_CLIENT_ID"))?;
    // What ends nothing (the cache could not be written, say) is a warning line, never with a secret in it.
    let warn = |e: &genesys_auth::Error| eprintln!("genesys-auth: warning: {}", e.message());
    let options =
        Options { cache_dir: cli.cache_dir.clone(), on_report: Some(std::sync::Arc::new(warn)), ..Options::default() };
    Session::new(Region::from_config(region)?, client_id, options)
}

async fn session_command(cli: &Cli) -> Result<(), Error> {
    let session = session(cli)?;
    match &cli.command {
        Command::Login { port, no_browser, timeout, org, provider, login_hint, prompt_login, params } => {
            let named =
                [("org", org.as_deref()), ("provider", provider.as_deref()), ("login_hint", login_hint.as_deref())];
            let mut all: Vec<(String, String)> =
                named.iter().filter_map(|(n, v)| v.map(|v| ((*n).to_string(), v.to_string()))).collect();
            if *prompt_login {
                all.push(("prompt".into(), "login".into()));
            }
            all.extend(params.iter().cloned());
            let spinner = indicatif::ProgressBar::new_spinner();
            if !std::io::stderr().is_terminal() {
                spinner.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
            let printer = spinner.clone();
            let no_browser = *no_browser;
            let options = LoginOptions {
                port: *port,
                open_browser: !no_browser,
                timeout: Duration::from_secs(*timeout),
                on_url: Box::new(move |url| {
                    let verb = if no_browser {
                        "Open this URL to sign in"
                    } else {
                        "Opening your browser; if it does not open, visit"
                    };
                    printer.suspend(|| eprintln!("{verb}:\n  {url}"));
                }),
                params: all,
            };
            spinner.enable_steady_tick(Duration::from_millis(120));
            spinner.set_message("Waiting for the sign-in in the browser… (Ctrl-C cancels)");
            let result = session.login(options).await;
            spinner.finish_and_clear();
            let signed_in = result?;
            let minutes = signed_in.expires_at_ms.saturating_sub(now_ms()) / 60_000;
            eprintln!(
                "Signed in. The access token is valid for {} h {:02} min; cached in {}",
                minutes / 60,
                minutes % 60,
                session.cache().path().display()
            );
            Ok(())
        }
        Command::Token => {
            println!("{}", session.access_token().await?);
            Ok(())
        }
        Command::Whoami { json } => {
            let (status, body) = session.get("/api/v2/users/me?expand=organization,presence").await?;
            if status != 200 {
                return Err(genesys_auth::Error::Server { status }.into());
            }
            let me: serde_json::Value = serde_json::from_slice(&body).map_err(|_| genesys_auth::Error::Malformed {
                status,
                reason: "the /users/me answer is not JSON",
                body: genesys_auth::redacted_excerpt(&body),
            })?;
            if *json {
                println!("{}", serde_json::to_string_pretty(&me).unwrap_or_default());
            } else {
                // Server text, shown on a terminal: no control characters (escape sequences, line breaks) get through.
                let s = |v: &serde_json::Value| genesys_auth::clean_text(v.as_str().unwrap_or(""), 500);
                println!("{} <{}>", s(&me["name"]), s(&me["email"]));
                if !s(&me["title"]).is_empty() {
                    println!("  title:        {}", s(&me["title"]));
                }
                println!("  organization: {}", s(&me["organization"]["name"]));
                println!("  presence:     {}", s(&me["presence"]["presenceDefinition"]["systemPresence"]));
                println!("  user id:      {}", s(&me["id"]));
            }
            Ok(())
        }
        Command::Logout => {
            session.logout().await?;
            eprintln!("Signed out; the token was revoked and the cache removed.");
            Ok(())
        }
        Command::Emulator { .. } | Command::Demo | Command::Completions { .. } => Ok(()),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

/// `cargo xtask demo` when run inside a clone of the repository.
fn demo() -> ExitCode {
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        if d.join("xtask/Cargo.toml").is_file() && d.join("demo/index.html").is_file() {
            let status = std::process::Command::new("cargo").args(["xtask", "demo"]).current_dir(&d).status();
            return match status {
                Ok(s) if s.success() => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(e) => fail(&format!("cannot run `cargo xtask demo`: {e}"), 1),
            };
        }
        dir = d.parent().map(std::path::Path::to_path_buf);
    }
    fail("the demo runs from a clone of the genesys-auth repository: clone it, then run `cargo xtask demo` there", 2)
}

/// `NAME=VALUE` of `--param` (the library checks the name and value).
fn name_value(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}
