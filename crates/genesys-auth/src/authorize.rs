//! Starting a login: the authorize URL and the [`PendingLogin`] a driver parks across the redirect.

use crate::concat;
use crate::form::Form;

use crate::callback::Callback;
use crate::pkce::{Rng, Verifier, random_token};
use crate::secret::State;
use crate::token::TokenRequest;
use crate::{Error, Region};

/// A public OAuth client of one org: region, client id and its exact redirect URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    region: Region,
    client_id: String,
    redirect_uri: String,
}

impl Client {
    /// Describes a public (PKCE) OAuth client.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when the client id is empty or not printable ASCII, or the redirect URI is not
    /// an absolute `http(s)` URL without a fragment (RFC 6749 §3.1.2).
    pub fn new(region: Region, client_id: &str, redirect_uri: &str) -> Result<Self, Error> {
        let client_id = client_id.trim_ascii();
        if client_id.is_empty() || client_id.len() > 128 || !client_id.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::InvalidConfig {
                field: "clientId",
                reason: "the client id must be the OAuth client's id from Genesys Cloud admin (printable ASCII)",
            });
        }
        let valid_uri = (redirect_uri.starts_with("https://") || redirect_uri.starts_with("http://"))
            && redirect_uri.len() <= 2048
            && !redirect_uri.contains('#')
            && redirect_uri.bytes().all(|b| b.is_ascii_graphic());
        if !valid_uri {
            return Err(Error::InvalidConfig {
                field: "redirectUri",
                reason: "the redirect URI must be an absolute http(s) URL without a fragment, exactly as registered on the OAuth client",
            });
        }
        Ok(Client { region, client_id: client_id.to_string(), redirect_uri: redirect_uri.to_string() })
    }

    /// The region.
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The registered redirect URI.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// `https://login.<env>/oauth/token`.
    pub fn token_url(&self) -> String {
        concat(&[self.region.login_base().as_str(), "/oauth/token"])
    }

    /// Starts building an authorize request.
    pub fn authorize(&self) -> AuthorizeRequest<'_> {
        AuthorizeRequest { client: self, redirect_uri: None, scope: None, params: Vec::new(), return_to: None }
    }

    /// The browser SSO logout URL (`login.<env>/logout`), returning to `redirect_uri` when given.
    pub fn logout_url(&self, redirect_uri: Option<&str>) -> String {
        let mut q = Form::new();
        q.append_pair("client_id", &self.client_id);
        if let Some(uri) = redirect_uri {
            q.append_pair("redirect_uri", uri);
        }
        concat(&[self.region.login_base().as_str(), "/logout?", &q.finish()])
    }
}

/// Builder for one authorization request. Each [`build`](Self::build) makes a fresh verifier and state.
#[derive(Debug)]
pub struct AuthorizeRequest<'a> {
    client: &'a Client,
    redirect_uri: Option<String>,
    scope: Option<String>,
    /// Extra authorize parameters (login hint, prompt, SSO, ...), checked by [`AuthorizeRequest::param`].
    params: Vec<(String, String)>,
    return_to: Option<String>,
}

/// Authorize parameters the library sets itself: never taken from the app.
const RESERVED_PARAMS: [&str; 7] =
    ["response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "state", "scope"];

/// At most this many extra authorize parameters.
pub const MAX_AUTHORIZE_PARAMS: usize = 16;

/// A control character (`char::is_control`: U+0000–U+001F, U+007F–U+009F) in UTF-8 `text`, read as bytes: the
/// browser bundle keeps no UTF-8 decoder for it.
fn has_control(text: &[u8]) -> bool {
    text.iter().any(|&b| b < 0x20 || b == 0x7f) || text.windows(2).any(|w| w[0] == 0xc2 && w[1] < 0xa0)
}

const fn login_error(reason: &'static str) -> Error {
    Error::InvalidConfig { field: "login", reason }
}

impl AuthorizeRequest<'_> {
    /// Scopes to request (space-separated). Optional: Genesys takes scopes from the OAuth client's settings.
    pub fn scope(mut self, scope: &str) -> Self {
        let scope = scope.trim_ascii();
        self.scope = (!scope.is_empty()).then(|| scope.to_string());
        self
    }

    /// Pre-fills the user name on the login page.
    pub fn login_hint(self, hint: &str) -> Self {
        self.set("login_hint", hint)
    }

    /// Forces the login page even when a Genesys session exists (`prompt=login`).
    pub fn prompt_login(self) -> Self {
        self.set("prompt", "login")
    }

    /// Single sign-on through the org's identity provider (`org` + `provider`).
    pub fn org_provider(self, org: &str, provider: &str) -> Self {
        self.set("org", org).set("provider", provider)
    }

    fn set(mut self, name: &str, value: &str) -> Self {
        self.params.retain(|(n, _)| n != name);
        self.params.push((name.to_string(), value.to_string()));
        self
    }

    /// An authorize parameter for the login page: Genesys Cloud understands `login_hint`, `prompt=login`, and `org`
    /// with `provider` (straight to the org's SSO identity provider); a standards server may take others
    /// (`ui_locales`, `acr_values`, `audience`, ...). Checked: the parameters the library sets itself
    /// (`response_type`, `client_id`, `redirect_uri`, `code_challenge`, `code_challenge_method`, `state`, and `scope`,
    /// which has [`AuthorizeRequest::scope`]) are refused, names are letters, digits, `_`, `.` or `-` (at most 64),
    /// values have no control characters (at most 2048), each name once, at most [`MAX_AUTHORIZE_PARAMS`].
    ///
    /// ```
    /// use genesys_auth::{Client, OsRng, Region};
    /// let client = Client::new(Region::parse("eu_west_1")?, "cid", "http://localhost:3000/")?;
    /// let (url, _) = client.authorize().param("org", "acme")?.param("provider", "okta")?.build(&mut OsRng, 0)?;
    /// assert!(url.contains("&org=acme&provider=okta"));
    /// assert!(client.authorize().param("state", "mine").is_err());
    /// # Ok::<(), genesys_auth::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (field `login`) saying which rule the parameter breaks.
    pub fn param(self, name: &str, value: &str) -> Result<Self, Error> {
        let reason = if RESERVED_PARAMS.contains(&name) {
            "this authorize parameter is set by the library itself (scope has its own option)"
        } else if name.is_empty()
            || name.len() > 64
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            "an authorize parameter name is 1 to 64 letters, digits, '_', '.' or '-'"
        } else if value.len() > 2048 || has_control(value.as_bytes()) {
            "an authorize parameter value has at most 2048 characters and no control characters"
        } else if self.params.iter().any(|(n, _)| n == name) {
            "an authorize parameter is given twice"
        } else if self.params.len() >= MAX_AUTHORIZE_PARAMS {
            "at most 16 extra authorize parameters"
        } else {
            let mut this = self;
            this.params.push((name.to_string(), value.to_string()));
            return Ok(this);
        };
        Err(login_error(reason))
    }

    /// Each of `params` by [`AuthorizeRequest::param`], and `org` only with `provider` (and the reverse): the whole
    /// check a driver can run before it starts a login.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] (field `login`) saying which rule a parameter breaks.
    pub fn params(mut self, params: &[(String, String)]) -> Result<Self, Error> {
        for (name, value) in params {
            self = self.param(name, value)?;
        }
        self.paired()?;
        Ok(self)
    }

    fn paired(&self) -> Result<(), Error> {
        let has = |n: &str| self.params.iter().any(|(k, _)| k == n);
        if has("org") == has("provider") {
            Ok(())
        } else {
            Err(login_error("org and provider go together: the org's name and its SSO identity provider"))
        }
    }

    /// A different registered redirect URI for this attempt (e.g. a loopback URI with the port chosen at run time).
    pub fn redirect_uri(mut self, uri: &str) -> Self {
        self.redirect_uri = Some(uri.to_string());
        self
    }

    /// Where the app wants to go after login. Kept only if it is a same-origin path (see [`safe_return_path`]).
    pub fn return_to(mut self, path: &str) -> Self {
        self.return_to = safe_return_path(path);
        self
    }

    /// The authorize URL to send the browser to, and the pending login to keep until the callback.
    ///
    /// # Errors
    /// [`Error::Random`] when no randomness is available; [`Error::InvalidConfig`] for `org` without `provider` or
    /// the reverse.
    pub fn build(self, rng: &mut dyn Rng, now_ms: u64) -> Result<(String, PendingLogin), Error> {
        self.paired()?;
        let verifier = Verifier::generate(rng)?;
        let state = State::new(random_token(rng, 32)?);
        let redirect_uri = self.redirect_uri.unwrap_or_else(|| self.client.redirect_uri.clone());
        let mut q = Form::new();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &self.client.client_id)
            .append_pair("redirect_uri", &redirect_uri)
            .append_pair("code_challenge", verifier.challenge().as_str())
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", state.secret());
        if let Some(scope) = &self.scope {
            q.append_pair("scope", scope);
        }
        for (name, value) in &self.params {
            q.append_pair(name, value);
        }
        let url = concat(&[self.client.region.login_base().as_str(), "/oauth/authorize?", &q.finish()]);
        let pending = PendingLogin {
            client_id: self.client.client_id.clone(),
            token_url: self.client.token_url(),
            redirect_uri,
            state,
            verifier,
            return_to: self.return_to,
            created_at_ms: now_ms,
        };
        Ok((url, pending))
    }
}

/// Two automatic sign-ins closer than this are a loop (see [`relogin_allowed`]).
pub const RELOGIN_GUARD_MS: u64 = 60_000;

/// Whether a driver may sign in again automatically now, given when it last did (`last`, epoch ms as stored by the
/// driver; unreadable text counts as never): at most once per [`RELOGIN_GUARD_MS`]. A second session that ends
/// within a minute of the last automatic sign-in is a loop, to be reported instead of redirecting again.
///
/// ```
/// use genesys_auth::relogin_allowed;
/// assert!(relogin_allowed(None, 1_000_000));
/// assert!(!relogin_allowed(Some("990000"), 1_000_000));
/// assert!(relogin_allowed(Some("900000"), 1_000_000));
/// assert!(relogin_allowed(Some("garbage"), 1_000_000));
/// ```
pub fn relogin_allowed(last: Option<&str>, now_ms: u64) -> bool {
    last.and_then(crate::parse_decimal).is_none_or(|t| now_ms.saturating_sub(t) >= RELOGIN_GUARD_MS)
}

/// `path` if it is a path on the app's own origin (`/x?y#z`), else `None`.
///
/// Refuses everything a browser could resolve to another origin: `//host`, `/\host`, `https://…`,
/// `javascript:…`, dot segments that lead to `//host` (`%2e` counts as `.`), and any control character or
/// backslash. Dot segments are resolved in what is returned.
///
/// ```
/// use genesys_auth::safe_return_path;
/// assert_eq!(safe_return_path("/inbox?tab=2").as_deref(), Some("/inbox?tab=2"));
/// assert_eq!(safe_return_path("//evil.example"), None);
/// assert_eq!(safe_return_path("javascript:alert(1)"), None);
/// assert_eq!(safe_return_path("/..//evil.example"), None);
/// assert_eq!(safe_return_path("/a/./b/../c?x=/../").as_deref(), Some("/a/c?x=/../"));
/// ```
pub fn safe_return_path(path: &str) -> Option<String> {
    let ok = path.starts_with('/') && path.len() <= 2048 && !path.contains('\\') && !path.chars().any(char::is_control);
    if !ok {
        return None;
    }
    // Dot segments resolved first (`/..//evil.example` is `//evil.example` to a browser), `%2e` counted as `.`.
    let end = path.bytes().position(|b| b == b'?' || b == b'#').unwrap_or(path.len());
    let (p, rest) = path.split_at(end);
    let mut out = String::with_capacity(path.len());
    let mut last = 0;
    for seg in p[1..].split('/') {
        last = dots(seg);
        match last {
            1 => {}
            2 => out.truncate(out.bytes().rposition(|b| b == b'/').unwrap_or(0)),
            _ => {
                out.push('/');
                out.push_str(seg);
            }
        }
    }
    // `/a/.` and `/a/b/..` name the directory `/a/`.
    if out.is_empty() || last > 0 {
        out.push('/');
    }
    out.push_str(rest);
    (!out.starts_with("//")).then_some(out)
}

/// 1 for a `.` segment, 2 for `..` (either dot may be written `%2e`), else 0.
fn dots(segment: &str) -> usize {
    let (b, mut i, mut n) = (segment.as_bytes(), 0, 0);
    while i < b.len() {
        if b[i] == b'.' {
            i += 1;
        } else if b.len() - i >= 3 && b[i] == b'%' && b[i + 1] == b'2' && b[i + 2] | 0x20 == b'e' {
            i += 3;
        } else {
            return 0;
        }
        n += 1;
    }
    if n <= 2 { n } else { 0 }
}

/// A login in progress: everything needed to finish it when the browser comes back.
///
/// # Security
/// Holds the PKCE verifier: redacted in `Debug`, not `Clone`. [`PendingLogin::complete`] consumes it, so a
/// pending login is used once. Its stored form ([`to_storage`](Self::to_storage)) contains the verifier; keep it in
/// session-scoped storage and delete it as soon as it is read.
#[derive(Debug)]
pub struct PendingLogin {
    client_id: String,
    token_url: String,
    redirect_uri: String,
    state: State,
    verifier: Verifier,
    return_to: Option<String>,
    created_at_ms: u64,
}

impl PendingLogin {
    /// How long a login may take from redirect to callback.
    pub const MAX_AGE_MS: u64 = 10 * 60 * 1000;
    const FORMAT: &'static str = "1";

    /// The `state` of this attempt (drivers key storage by it).
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The same-origin path to return to after login.
    pub fn return_to(&self) -> Option<&str> {
        self.return_to.as_deref()
    }

    /// The redirect URI this attempt used.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// When the login started (epoch milliseconds).
    pub fn created_at_ms(&self) -> u64 {
        self.created_at_ms
    }

    /// Finishes the login from the callback URL: checks `state` (constant time) and age, surfaces errors sent
    /// back by the authorization server, and yields the token request to send.
    ///
    /// # Errors
    /// [`Error::StateMismatch`], [`Error::PendingLoginExpired`], [`Error::Authorization`], and the callback
    /// parsing errors of [`Callback::parse`].
    pub fn complete(self, callback_url: &str, now_ms: u64) -> Result<TokenRequest, Error> {
        let (callback, issuer) = Callback::parse_with_issuer(callback_url)?;
        if callback.state() != Some(&self.state) {
            return Err(Error::StateMismatch);
        }
        // RFC 9207: a callback that names its issuer must name the login origin this login went to.
        if let Some(iss) = issuer
            && Some(iss.trim_end_matches('/')) != self.token_url.strip_suffix("/oauth/token")
        {
            return Err(Error::IssuerMismatch);
        }
        if now_ms.saturating_sub(self.created_at_ms) > Self::MAX_AGE_MS
            || self.created_at_ms > now_ms.saturating_add(60_000)
        {
            return Err(Error::PendingLoginExpired);
        }
        match callback {
            Callback::Error { code, description, .. } => Err(Error::Authorization { code, description }),
            Callback::Code { code, .. } => Ok(TokenRequest::authorization_code(
                &self.token_url,
                &self.client_id,
                &self.redirect_uri,
                &code,
                &self.verifier,
            )),
        }
    }

    /// Checks a pending login read back from storage against the app's configuration: it must be for this
    /// client id, this region's token endpoint and the registered redirect URI.
    ///
    /// # Errors
    /// [`Error::CorruptStorage`] when any differs (a tampered or foreign pending login).
    pub fn check_client(&self, client: &Client) -> Result<(), Error> {
        let ours = self.client_id == client.client_id()
            && self.token_url == client.token_url()
            && self.redirect_uri == client.redirect_uri();
        if ours {
            Ok(())
        } else {
            Err(Error::CorruptStorage { what: "pending login (made for another configuration)" })
        }
    }

    /// The versioned storage form (form-encoded). Contains the verifier: see the type's security note.
    pub fn to_storage(&self) -> String {
        let mut q = Form::new();
        q.append_pair("v", Self::FORMAT)
            .append_pair("client_id", &self.client_id)
            .append_pair("token_url", &self.token_url)
            .append_pair("redirect_uri", &self.redirect_uri)
            .append_pair("state", self.state.secret())
            .append_pair("verifier", self.verifier.secret())
            .append_pair("created_at", &crate::error::decimal(self.created_at_ms));
        if let Some(r) = &self.return_to {
            q.append_pair("return_to", r);
        }
        q.finish()
    }

    /// Reads back [`to_storage`](Self::to_storage) output. Storage is untrusted input: every field is
    /// validated again, unknown versions and duplicated fields are refused.
    ///
    /// # Errors
    /// [`Error::CorruptStorage`] for anything unexpected.
    pub fn from_storage(text: &str) -> Result<Self, Error> {
        let corrupt = || Error::CorruptStorage { what: "pending login" };
        if text.len() > 8192 {
            return Err(corrupt());
        }
        let fields = crate::callback::unique_pairs(
            text,
            &["v", "client_id", "token_url", "redirect_uri", "state", "verifier", "created_at", "return_to"],
        )
        .map_err(|_| corrupt())?;
        let get = |k: &str| fields.iter().find(|(name, _)| *name == k).map(|(_, v)| v.as_str());
        if get("v") != Some(Self::FORMAT) {
            return Err(corrupt());
        }
        let required = |k: &str| get(k).filter(|v| !v.is_empty()).ok_or_else(corrupt);
        let return_to = match get("return_to") {
            Some(r) => Some(safe_return_path(r).ok_or_else(corrupt)?),
            None => None,
        };
        Ok(PendingLogin {
            client_id: required("client_id")?.to_string(),
            token_url: required("token_url")?.to_string(),
            redirect_uri: required("redirect_uri")?.to_string(),
            state: State::new(required("state")?),
            verifier: Verifier::new(required("verifier")?).map_err(|_| corrupt())?,
            created_at_ms: crate::parse_decimal(required("created_at")?).ok_or_else(corrupt)?,
            return_to,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pkce::OsRng;
    use crate::region::Environment;

    fn client() -> Client {
        Client::new(Region::Cloud(Environment::EuWest1), "cid-1", "http://localhost:3000/")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn query(url: &str) -> Vec<(String, String)> {
        let q = url.split_once('?').map(|x| x.1).unwrap_or("");
        crate::form::parse(q).collect()
    }

    proptest::proptest! {
        #[test]
        fn control_characters_are_found_as_char_is_control_finds_them(text in "\\PC*|[\\x00-\\x{a0}]{0,8}", c in proptest::char::any()) {
            let with = format!("{text}{c}");
            proptest::prop_assert_eq!(has_control(with.as_bytes()), with.chars().any(char::is_control));
        }
    }

    #[test]
    fn control_characters_end_where_char_is_control_says() {
        // The edges of both ranges, which random texts may miss.
        for c in ['\u{0}', '\u{1f}', '\u{7f}', '\u{80}', '\u{9f}', ' ', '~', '\u{a0}', '\u{a1}', '\u{100}'] {
            assert_eq!(has_control(c.to_string().as_bytes()), c.is_control(), "{c:?}");
        }
    }

    #[test]
    fn login_parameters_are_checked_and_sent() {
        let code = |r: Result<AuthorizeRequest<'_>, Error>| r.err().map(|e| e.to_string());
        let c = client();
        let built = c
            .authorize()
            .param("org", "acme corp")
            .and_then(|r| r.param("provider", "okta"))
            .and_then(|r| r.param("login_hint", "alex@example.com"))
            .and_then(|r| r.param("prompt", "login"))
            .and_then(|r| r.param("ui_locales", "fr-CA"))
            .and_then(|r| r.build(&mut OsRng, 0));
        let (url, _) = built.unwrap_or_else(|e| panic!("{e}"));
        let q = query(&url);
        for (k, v) in [
            ("org", "acme corp"),
            ("provider", "okta"),
            ("login_hint", "alex@example.com"),
            ("prompt", "login"),
            ("ui_locales", "fr-CA"),
        ] {
            assert!(q.contains(&(k.to_string(), v.to_string())), "{k} in {url}");
        }
        for reserved in RESERVED_PARAMS {
            assert!(
                code(c.authorize().param(reserved, "x")).is_some_and(|m| m.contains("set by the library")),
                "{reserved}"
            );
        }
        assert!(code(c.authorize().param("bad name", "x")).is_some_and(|m| m.contains("letters, digits")));
        assert!(code(c.authorize().param("", "x")).is_some());
        assert!(code(c.authorize().param(&"n".repeat(65), "x")).is_some());
        assert!(code(c.authorize().param("x", "a\nb")).is_some_and(|m| m.contains("control characters")));
        assert!(code(c.authorize().param("x", &"v".repeat(2049))).is_some());
        assert!(
            code(c.authorize().param("x", "1").and_then(|r| r.param("x", "2"))).is_some_and(|m| m.contains("twice"))
        );
        let mut many = Ok(c.authorize());
        for i in 0..MAX_AUTHORIZE_PARAMS {
            many = many.and_then(|r| r.param(&format!("p{i}"), "v"));
        }
        assert!(many.is_ok());
        assert!(code(many.and_then(|r| r.param("one_more", "v"))).is_some_and(|m| m.contains("at most 16")));
        let half = c.authorize().param("org", "acme").and_then(|r| r.build(&mut OsRng, 0));
        assert!(half.err().is_some_and(|e| e.to_string().contains("org and provider go together")));
    }

    #[test]
    fn authorize_url_goes_to_the_login_host_with_s256() {
        let (url, pending) =
            client().authorize().return_to("/inbox").build(&mut OsRng, 1_000).unwrap_or_else(|e| panic!("{e}"));
        assert!(url.starts_with("https://login.mypurecloud.ie/oauth/authorize?"), "{url}");
        let q = query(&url);
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("response_type").as_deref(), Some("code"));
        assert_eq!(get("code_challenge_method").as_deref(), Some("S256"));
        assert_eq!(get("redirect_uri").as_deref(), Some("http://localhost:3000/"));
        assert_eq!(get("state").as_deref(), Some(pending.state().secret()));
        assert_eq!(get("scope"), None);
        assert_eq!(get("code_challenge").map(|c| c.len()), Some(43));
        assert_eq!(pending.return_to(), Some("/inbox"));
    }

    #[test]
    fn unsafe_return_paths_are_dropped() {
        for bad in
            ["//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)", "", "/a\nb", "/a\\b"]
        {
            assert_eq!(safe_return_path(bad), None, "{bad:?}");
        }
        assert_eq!(safe_return_path("/app?x=1#y").as_deref(), Some("/app?x=1#y"));
        // Dot segments, also written %2e, are resolved before the same-origin check.
        for (given, resolved) in [
            ("/a/.", Some("/a/")),
            ("/a/b/..", Some("/a/")),
            ("/a/./b/../c", Some("/a/c")),
            ("/..", Some("/")),
            ("/...", Some("/...")),
            ("/a/%2E%2e/b", Some("/b")),
            ("/..//evil.example", None),
            ("/%2e%2e//evil.example", None),
            ("/./%2e//evil.example?x", None),
        ] {
            assert_eq!(safe_return_path(given).as_deref(), resolved, "{given}");
        }
    }

    #[test]
    fn a_callback_naming_another_issuer_is_refused() {
        let c = client();
        let callback = |iss: &str| {
            let (_, p) = c.authorize().build(&mut OsRng, 1_000).unwrap_or_else(|e| panic!("{e}"));
            let state = p.state().secret().to_string();
            p.complete(&format!("http://localhost:3000/?code=abc&state={state}{iss}"), 2_000).err()
        };
        assert_eq!(callback("&iss=https%3A%2F%2Fevil.example"), Some(Error::IssuerMismatch));
        assert_eq!(callback("&iss=https%3A%2F%2Flogin.mypurecloud.ie"), None);
        assert_eq!(callback(""), None, "iss is optional");
    }

    #[test]
    fn a_pending_login_for_another_configuration_is_refused() {
        let (_, pending) = client().authorize().build(&mut OsRng, 5).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pending.check_client(&client()), Ok(()));
        let other = Client::new(Region::Cloud(Environment::EuWest1), "cid-2", "http://localhost:3000/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pending.check_client(&other).err().map(|e| e.code()), Some("corrupt_storage"));
        let elsewhere = Client::new(Region::Cloud(Environment::UsEast1), "cid-1", "http://localhost:3000/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(pending.check_client(&elsewhere).is_err());
    }

    #[test]
    fn pending_login_survives_storage() {
        let (_, pending) = client().authorize().return_to("/x").build(&mut OsRng, 5).unwrap_or_else(|e| panic!("{e}"));
        let text = pending.to_storage();
        let back = PendingLogin::from_storage(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.to_storage(), text);
        assert!(PendingLogin::from_storage(&text.replace("v=1", "v=2")).is_err());
        assert!(PendingLogin::from_storage(&format!("{text}&state=x")).is_err());
        assert!(PendingLogin::from_storage("garbage").is_err());
        assert!(!format!("{back:?}").contains(back.verifier.secret()));
    }

    #[test]
    fn callback_completes_only_with_the_right_state_in_time() {
        let c = client();
        let (_, p) = c.authorize().build(&mut OsRng, 1_000).unwrap_or_else(|e| panic!("{e}"));
        let state = p.state().secret().to_string();
        let req = p.complete(&format!("http://localhost:3000/?code=abc&state={state}"), 2_000);
        let req = req.unwrap_or_else(|e| panic!("{e}"));
        assert!(req.body().contains("grant_type=authorization_code"));
        assert!(req.spends_code());

        let (_, p) = c.authorize().build(&mut OsRng, 1_000).unwrap_or_else(|e| panic!("{e}"));
        let err = p.complete("http://localhost:3000/?code=abc&state=forged", 2_000).err();
        assert_eq!(err, Some(Error::StateMismatch));

        let (_, p) = c.authorize().build(&mut OsRng, 1_000).unwrap_or_else(|e| panic!("{e}"));
        let state = p.state().secret().to_string();
        let late = 1_000 + PendingLogin::MAX_AGE_MS + 1;
        let err = p.complete(&format!("http://localhost:3000/?code=abc&state={state}"), late).err();
        assert_eq!(err, Some(Error::PendingLoginExpired));

        let (_, p) = c.authorize().build(&mut OsRng, 1_000).unwrap_or_else(|e| panic!("{e}"));
        let state = p.state().secret().to_string();
        let err = p
            .complete(&format!("http://localhost:3000/?error=access_denied&error_description=no&state={state}"), 2_000)
            .err();
        assert_eq!(err.as_ref().map(Error::code), Some("authorization_error"));
        assert!(err.map(|e| e.to_string()).unwrap_or_default().contains("access_denied"));
    }

    #[test]
    fn scope_and_repeated_setters_keep_one_value_each() {
        let c = client();
        // A request that fails to build fails the test: an empty list would pass the absence checks below.
        let url =
            |r: AuthorizeRequest<'_>| r.build(&mut OsRng, 0).map(|(u, _)| query(&u)).unwrap_or_else(|e| panic!("{e}"));
        let q = url(c.authorize().scope("  openid presence "));
        assert!(q.contains(&("scope".into(), "openid presence".into())), "{q:?}");
        let blank = url(c.authorize().scope("   "));
        assert!(blank.iter().any(|(n, _)| n == "client_id"), "a whole authorize URL: {blank:?}");
        assert!(!blank.iter().any(|(n, _)| n == "scope"), "{blank:?}");
        let q = url(c.authorize().prompt_login().login_hint("a@example.com").login_hint("b@example.com"));
        let hints: Vec<_> = q.iter().filter(|(n, _)| n == "login_hint").map(|(_, v)| v.as_str()).collect();
        assert_eq!(hints, ["b@example.com"]);
        assert!(q.contains(&("prompt".into(), "login".into())), "the other parameter stays: {q:?}");
        let q = url(c.authorize().org_provider("acme", "okta").org_provider("acme2", "adfs"));
        assert!(q.contains(&("org".into(), "acme2".into())) && q.contains(&("provider".into(), "adfs".into())));
        assert_eq!(q.iter().filter(|(n, _)| n == "org" || n == "provider").count(), 2);
    }

    #[test]
    fn parameter_bounds_are_inclusive() {
        let c = client();
        assert!(c.authorize().param(&"n".repeat(64), "x").is_ok());
        assert!(c.authorize().param("x", &"v".repeat(2048)).is_ok());
        // org needs provider, whatever else is given; no SSO at all is fine.
        let p = |v: &[(&str, &str)]| v.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect::<Vec<_>>();
        assert!(c.authorize().params(&p(&[("org", "acme"), ("login_hint", "a")])).is_err());
        assert!(c.authorize().params(&p(&[("provider", "okta"), ("login_hint", "a")])).is_err());
        assert!(c.authorize().params(&p(&[("org", "acme"), ("provider", "okta"), ("login_hint", "a")])).is_ok());
        assert!(c.authorize().params(&p(&[("login_hint", "a")])).is_ok());
        assert!(c.authorize().params(&[]).is_ok());
    }

    #[test]
    fn a_pending_login_remembers_its_redirect_and_start() {
        let c = client();
        let (_, p) = c.authorize().build(&mut OsRng, 1_234).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.redirect_uri(), "http://localhost:3000/");
        assert_eq!(p.created_at_ms(), 1_234);
        let (url, p) = c
            .authorize()
            .redirect_uri("http://127.0.0.1:4321/cb")
            .build(&mut OsRng, 9)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.redirect_uri(), "http://127.0.0.1:4321/cb");
        assert!(query(&url).contains(&("redirect_uri".into(), "http://127.0.0.1:4321/cb".into())));
        // Ten minutes to come back: nine are fine.
        let state = p.state().secret().to_string();
        let nine = 9 + 9 * 60 * 1000;
        assert!(p.complete(&format!("http://127.0.0.1:4321/cb?code=abc&state={state}"), nine).is_ok());
    }

    #[test]
    fn a_truncated_percent_dot_is_a_plain_segment() {
        for path in ["/.%2", "/a/.%", "/%2", "/.%2e%"] {
            assert_eq!(safe_return_path(path).as_deref(), Some(path), "{path}");
        }
    }

    #[test]
    fn a_pending_login_is_good_for_exactly_its_age_and_a_minute_of_skew() {
        let c = client();
        let at = |created: u64, now: u64| {
            let (_, p) = c.authorize().build(&mut OsRng, created).unwrap_or_else(|e| panic!("{e}"));
            let state = p.state().secret().to_string();
            p.complete(&format!("http://localhost:3000/?code=abc&state={state}"), now).err()
        };
        assert_eq!(at(1_000, 1_000 + PendingLogin::MAX_AGE_MS), None);
        assert_eq!(at(1_000, 1_001 + PendingLogin::MAX_AGE_MS), Some(Error::PendingLoginExpired));
        // Started "in the future" (another tab's clock): a minute of skew is allowed, not more.
        assert_eq!(at(61_000, 1_000), None);
        assert_eq!(at(61_001, 1_000), Some(Error::PendingLoginExpired));
    }

    #[test]
    fn a_stored_pending_login_is_read_up_to_8_kb() {
        let (_, pending) = client().authorize().build(&mut OsRng, 5).unwrap_or_else(|e| panic!("{e}"));
        let text = pending.to_storage();
        // Unknown fields are ignored: pad to exactly the bound.
        let pad = |to: usize| format!("{text}&pad={}", "x".repeat(to - text.len() - 5));
        assert_eq!(pad(8192).len(), 8192);
        assert!(PendingLogin::from_storage(&pad(8192)).is_ok());
        assert!(PendingLogin::from_storage(&pad(8193)).is_err());
    }
}
