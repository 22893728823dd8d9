//! The emulator's command line, shared by `genesys-emulator` and `genesys-auth emulator`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use crate::{Config, Emulator, server};

/// Options of the emulator command (`genesys-emulator`, and `genesys-auth emulator`).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// TOML configuration file (clients, users, token duration, refresh policy, ...).
    #[arg(long, env = "GENESYS_EMULATOR_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// Port to listen on (0 = any free port).
    #[arg(long, env = "GENESYS_EMULATOR_PORT")]
    pub port: Option<u16>,
    /// Address to bind. Only loopback unless you set this explicitly.
    #[arg(long)]
    pub bind: Option<String>,
    /// Approve every valid authorize request at once as this user (id, email, or the part before @).
    #[arg(long, value_name = "USER")]
    pub auto_login: Option<String>,
}

/// Runs the emulator until Ctrl-C: loads the config, applies the flags, prints the URLs it serves.
pub fn run(args: Args) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .try_init();
    let mut config = match &args.config {
        Some(path) => {
            match std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|t| Config::from_toml(&t)) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("genesys-emulator: cannot use config {}: {e}", path.display());
                    return ExitCode::from(2);
                }
            }
        }
        None => Config::default(),
    };
    if let Some(p) = args.port {
        config.port = p;
    }
    if let Some(b) = args.bind {
        config.bind = b;
    }
    if args.auto_login.is_some() {
        config.auto_login = args.auto_login;
    }
    if let Err(e) = config.validate() {
        eprintln!("genesys-emulator: {e}");
        return ExitCode::from(2);
    }
    let addr: SocketAddr = match format!("{}:{}", config.bind, config.port).parse() {
        Ok(a) => a,
        Err(_) => {
            eprintln!("genesys-emulator: --bind {} is not an IP address", config.bind);
            return ExitCode::from(2);
        }
    };
    let loopback = addr.ip().is_loopback();
    if !loopback && config.admin_token.is_none() {
        let mut bytes = [0u8; 24];
        if genesys_auth::Rng::fill(&mut genesys_auth::OsRng, &mut bytes).is_err() {
            eprintln!("genesys-emulator: no randomness for an admin token; set admin_token in the config file");
            return ExitCode::FAILURE;
        }
        config.admin_token = Some(genesys_auth::base64url(&bytes));
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("genesys-emulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    if !loopback {
        eprintln!(
            "genesys-emulator: WARNING: binding {} makes the emulator reachable from other machines; it holds test \
             tokens and is not a security boundary. The admin API needs the admin token printed below.",
            addr.ip()
        );
    }
    let admin_token = config.admin_token.clone().filter(|_| !loopback);
    runtime.block_on(async move {
        let client = config.clients.first().map(|c| c.id.clone()).unwrap_or_default();
        let auto = config.auto_login.clone();
        let running = match server::start(Arc::new(Emulator::new(config)), addr).await {
            Ok(r) => r,
            Err(e) => {
                eprintln!("genesys-emulator: cannot listen on {addr}: {e} (use --port to pick another port)");
                return ExitCode::FAILURE;
            }
        };
        let base = running.base_url();
        println!("Genesys Cloud emulator");
        println!("  login base: {base}   (/oauth/authorize, /oauth/token, /logout)");
        println!("  API base:   {base}   (/api/v2/...)");
        println!("  client id:  {client}");
        println!("  admin:      {base}/__emulator/  (faults, requests, clock, config, reset)");
        if let Some(token) = &admin_token {
            println!("  admin token: {token}   (Authorization: Bearer <token>)");
        }
        if let Some(user) = auto {
            println!("  auto-login: {user}");
        }
        tracing::info!(%addr, "listening");
        let _ = tokio::signal::ctrl_c().await;
        ExitCode::SUCCESS
    })
}
