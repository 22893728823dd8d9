//! What the emulated org looks like: clients, users and platform settings. Built-in defaults, TOML overrides.

use serde::{Deserialize, Serialize};

/// The id of the built-in public PKCE client used by the demo SPA and the CLI.
pub const DEMO_CLIENT_ID: &str = "8b6d3f04-3a1e-4c8e-9d63-5a1f0c2d7e91";

/// The whole emulator configuration (every field has a default; a TOML file overrides any of them).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to bind. Loopback unless set explicitly.
    pub bind: String,
    /// Port (0 = any free port).
    pub port: u16,
    /// When set, a valid authorize request for any client redirects at once with a code for this user
    /// (id, username or email): scripted login for headless tests and tools. Off by default.
    pub auto_login: Option<String>,
    /// Access-token lifetime in seconds (Genesys "Token Duration": 300..=172800).
    pub token_duration_s: u64,
    /// Authorization-code lifetime in seconds.
    pub code_lifetime_s: u64,
    /// Accept `code_challenge_method=plain` (Genesys behaviour unknown; default: refuse).
    pub allow_plain_pkce: bool,
    /// Org idle token timeout in seconds: a token unused for this long is revoked (0 = off; Genesys: 300..28800).
    /// While it is on, code grants issue no refresh token (as Genesys Cloud does): apps sign in again.
    pub idle_timeout_s: u64,
    /// API requests per minute per token (Genesys: 300).
    pub rate_limit_per_minute: u32,
    /// Refresh-token rules.
    pub refresh: RefreshConfig,
    /// Send `Access-Control-Expose-Headers` for `Retry-After`, the correlation id and the `inin-ratelimit-*`
    /// headers (without it a browser hides them from the page, and clients fall back to blind backoff).
    pub expose_rate_limit_headers: bool,
    /// A token the admin API (`/__emulator/...`) requires as `Authorization: Bearer <token>`. Needed to reach the
    /// admin API at any non-loopback address; generated and printed at start when the emulator binds beyond
    /// loopback without one.
    pub admin_token: Option<String>,
    /// Origins of web pages allowed to call the admin API besides the emulator's own (none by default: a page of
    /// another origin could otherwise install faults that serve its own HTML on the emulator's origin).
    pub admin_origins: Vec<String>,
    /// The org.
    pub org: Org,
    /// OAuth clients.
    pub clients: Vec<ClientConfig>,
    /// Test users.
    pub users: Vec<User>,
}

/// Which clients get refresh tokens, and how they behave.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RefreshConfig {
    /// `none`, `confidential-only` or `public` (public PKCE clients too).
    pub policy: RefreshPolicy,
    /// Issue a new refresh token on each use and retire the old one.
    pub rotation: bool,
    /// With rotation: reuse of a retired refresh token revokes the whole token family.
    pub reuse_detection: bool,
    /// Maximum lifetime of a token family from the first login, in seconds.
    pub max_lifetime_s: u64,
}

/// Who may use the refresh_token grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefreshPolicy {
    /// No refresh tokens at all (clients must re-authenticate).
    None,
    /// Only confidential clients (Genesys' documented behaviour).
    ConfidentialOnly,
    /// Public PKCE clients too.
    Public,
}

/// The organization.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Org {
    /// Org id.
    pub id: String,
    /// Org name.
    pub name: String,
}

/// An OAuth client registered in the org.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Client id.
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// `public` (PKCE, no secret) or `confidential`.
    #[serde(default = "public")]
    pub kind: String,
    /// Secret of a confidential client.
    #[serde(default)]
    pub secret: Option<String>,
    /// Registered redirect URIs, matched exactly; a loopback URI without port accepts any port.
    pub redirect_uris: Vec<String>,
    /// Browser origins allowed by CORS on the token endpoint and the API.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Token duration override for this client, in seconds.
    #[serde(default)]
    pub token_duration_s: Option<u64>,
}

fn public() -> String {
    "public".into()
}

impl ClientConfig {
    /// True for a confidential client.
    pub fn is_confidential(&self) -> bool {
        self.kind == "confidential"
    }

    /// Whether `uri` matches a registered redirect URI: exactly, or a loopback URI registered without a port
    /// (RFC 8252 §7.3, as Genesys does) with any port and the same path.
    pub fn accepts_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri || loopback_any_port(r, uri))
    }
}

fn loopback_any_port(registered: &str, uri: &str) -> bool {
    for host in ["http://127.0.0.1", "http://[::1]", "http://localhost"] {
        let (Some(reg_path), Some(rest)) = (registered.strip_prefix(host), uri.strip_prefix(host)) else {
            continue;
        };
        if reg_path.starts_with(':') {
            return false; // registered with a port: exact match only
        }
        let Some(rest) = rest.strip_prefix(':') else {
            return false;
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        return (1..=5).contains(&digits) && &rest[digits..] == reg_path;
    }
    false
}

/// A test user.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// User id (a UUID in Genesys).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Email (also the username in Genesys).
    pub email: String,
    /// Job title.
    #[serde(default)]
    pub title: String,
    /// Department.
    #[serde(default)]
    pub department: String,
    /// System presence shown with `expand=presence` (Available, Away, Busy, Offline, ...).
    #[serde(default = "available")]
    pub presence: String,
    /// Routing status shown with `expand=routingStatus` (IDLE, INTERACTING, OFF_QUEUE, ...).
    #[serde(default = "off_queue")]
    pub routing_status: String,
}

fn available() -> String {
    "Available".into()
}
fn off_queue() -> String {
    "OFF_QUEUE".into()
}

impl User {
    /// True when `who` names this user by id, email, the part before `@`, or first name (any case).
    pub fn is(&self, who: &str) -> bool {
        let who = who.trim();
        !who.is_empty()
            && (self.id == who
                || self.email.eq_ignore_ascii_case(who)
                || self.email.split('@').next().is_some_and(|local| local.eq_ignore_ascii_case(who))
                || self.name.split(' ').next().is_some_and(|first| first.eq_ignore_ascii_case(who)))
    }
}

impl Default for RefreshConfig {
    fn default() -> Self {
        RefreshConfig {
            policy: RefreshPolicy::Public,
            rotation: true,
            reuse_detection: true,
            max_lifetime_s: 30 * 86_400,
        }
    }
}

impl Default for Org {
    fn default() -> Self {
        Org { id: "5c0f3f1e-98b4-4c61-a4a2-0d4f1b7e2c10".into(), name: "Emulated Contact Center".into() }
    }
}

impl Default for Config {
    fn default() -> Self {
        let user = |id: &str, name: &str, email: &str, title: &str, dept: &str, presence: &str, routing: &str| User {
            id: id.into(),
            name: name.into(),
            email: email.into(),
            title: title.into(),
            department: dept.into(),
            presence: presence.into(),
            routing_status: routing.into(),
        };
        Config {
            bind: "127.0.0.1".into(),
            port: 8080,
            auto_login: None,
            token_duration_s: 86_400,
            code_lifetime_s: 60,
            allow_plain_pkce: false,
            idle_timeout_s: 0,
            rate_limit_per_minute: 300,
            refresh: RefreshConfig::default(),
            expose_rate_limit_headers: true,
            admin_token: None,
            admin_origins: Vec::new(),
            org: Org::default(),
            clients: vec![ClientConfig {
                id: DEMO_CLIENT_ID.into(),
                name: "genesys-auth demo (public PKCE)".into(),
                kind: "public".into(),
                secret: None,
                redirect_uris: vec![
                    "http://localhost:3000/".into(),
                    "http://localhost:3000/callback.html".into(),
                    "http://127.0.0.1/".into(),
                    "http://127.0.0.1/callback".into(),
                ],
                allowed_origins: vec!["http://localhost:3000".into()],
                token_duration_s: None,
            }],
            users: vec![
                user(
                    "3a2b1c0d-1111-4e5f-8a9b-000000000001",
                    "Alex Agent",
                    "alex.agent@example.com",
                    "Customer Care Agent",
                    "Support",
                    "Available",
                    "IDLE",
                ),
                user(
                    "3a2b1c0d-2222-4e5f-8a9b-000000000002",
                    "Sam Supervisor",
                    "sam.supervisor@example.com",
                    "Contact Center Supervisor",
                    "Support",
                    "Busy",
                    "OFF_QUEUE",
                ),
                user(
                    "3a2b1c0d-3333-4e5f-8a9b-000000000003",
                    "Dana Developer",
                    "dana.developer@example.com",
                    "Integration Developer",
                    "IT",
                    "Away",
                    "OFF_QUEUE",
                ),
            ],
        }
    }
}

impl Config {
    /// Reads a TOML file over the defaults.
    ///
    /// # Errors
    /// A message naming the file and what is wrong in it.
    ///
    /// ```
    /// let c = genesys_emulator::Config::from_toml("token_duration_s = 600\n[refresh]\npolicy = \"none\"").unwrap();
    /// assert_eq!(c.token_duration_s, 600);
    /// assert!(genesys_emulator::Config::from_toml("token_duration_s = 5").is_err()); // outside 300..=172800
    /// ```
    pub fn from_toml(text: &str) -> Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        config.validate()?;
        Ok(config)
    }

    /// Checks the values Genesys would refuse.
    ///
    /// # Errors
    /// A message saying which value is out of range.
    pub fn validate(&self) -> Result<(), String> {
        let durations =
            std::iter::once(self.token_duration_s).chain(self.clients.iter().filter_map(|c| c.token_duration_s));
        for d in durations {
            if !(300..=172_800).contains(&d) {
                return Err(format!("token duration {d} s is outside Genesys' 300..=172800"));
            }
        }
        if self.users.is_empty() {
            return Err("at least one user is needed".into());
        }
        if !(1..=3600).contains(&self.code_lifetime_s) {
            return Err(format!("code_lifetime_s {} is outside 1..=3600", self.code_lifetime_s));
        }
        if self.idle_timeout_s > 0 && !(300..=28_800).contains(&self.idle_timeout_s) {
            return Err(format!(
                "idle_timeout_s {} is outside Genesys' 300..=28800 (5 min .. 8 h), or 0 for off",
                self.idle_timeout_s
            ));
        }
        if !(60..=366 * 86_400).contains(&self.refresh.max_lifetime_s) {
            return Err(format!(
                "refresh.max_lifetime_s {} is outside 60..=31622400 (a year)",
                self.refresh.max_lifetime_s
            ));
        }
        if let Some(who) = &self.auto_login
            && !self.users.iter().any(|u| u.is(who))
        {
            return Err(format!("auto_login names {who:?}, which is not a configured user"));
        }
        for c in &self.clients {
            if c.is_confidential() && c.secret.is_none() {
                return Err(format!("confidential client {} needs a secret", c.id));
            }
            if c.kind != "public" && c.kind != "confidential" {
                return Err(format!("client {}: kind must be public or confidential", c.id));
            }
        }
        Ok(())
    }

    /// The client with this id.
    pub fn client(&self, id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.id == id)
    }

    /// The user named by id, email or email local part.
    pub fn user(&self, who: &str) -> Option<&User> {
        self.users.iter().find(|u| u.is(who))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_without_port_accepts_any_port_and_nothing_else() {
        let c = &Config::default().clients[0];
        assert!(c.accepts_redirect("http://127.0.0.1:53123/"));
        assert!(c.accepts_redirect("http://127.0.0.1:1/callback"));
        assert!(c.accepts_redirect("http://localhost:3000/"));
        assert!(!c.accepts_redirect("http://localhost:3001/"));
        assert!(!c.accepts_redirect("http://127.0.0.1:53123/other"));
        assert!(!c.accepts_redirect("http://127.0.0.1:53123@evil.example/"));
        assert!(!c.accepts_redirect("http://127.0.0.1.evil.example/"));
        assert!(!c.accepts_redirect("http://localhost:3000/?x=1"));
    }

    #[test]
    fn the_example_config_file_is_valid() {
        let text = include_str!("../emulator.example.toml");
        let c = Config::from_toml(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.clients.len(), 2);
        assert!(c.clients[1].is_confidential());
        assert_eq!(c.idle_timeout_s, 900);
        assert!(c.user("pat").is_some());
    }

    #[test]
    fn toml_overrides_and_validates() {
        let c = Config::from_toml("token_duration_s = 600\n[refresh]\npolicy = \"none\"\n");
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.token_duration_s, 600);
        assert_eq!(c.refresh.policy, RefreshPolicy::None);
        assert_eq!(c.clients.len(), 1);
        // Each refusal for its own reason, named in the message.
        let refused = |text: &str| Config::from_toml(text).err().unwrap_or_else(|| panic!("{text:?} was accepted"));
        let e = refused("token_duration_s = 10");
        assert!(e.contains("token duration 10 s is outside Genesys' 300..=172800"), "{e}");
        let e = refused("nonsense = 1");
        assert!(e.contains("unknown field `nonsense`"), "{e}");
        let e = refused("auto_login = \"nobody\"");
        assert!(e.contains("auto_login names \"nobody\", which is not a configured user"), "{e}");
    }
}
