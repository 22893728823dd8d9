//! Token requests as plain data, and token endpoint / API answers parsed into [`TokenSet`] or a typed [`Error`].

use crate::form::Form;
use zeroize::Zeroize;

use crate::Error;
use crate::error::OAuthErrorCode;
use crate::json::Json;
use crate::pkce::Verifier;
use crate::retry::parse_retry_after;
use crate::secret::{AccessToken, AuthorizationCode, RefreshToken};

/// Which grant a token request uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grant {
    /// `authorization_code` (spends a one-time code: never retried after it was sent).
    AuthorizationCode,
    /// `refresh_token`
    RefreshToken,
}

/// A `POST` to the token endpoint, described as data so any HTTP client can send it.
///
/// # Security
/// The body holds the code and verifier, or the refresh token: redacted in `Debug`, zeroized on drop.
pub struct TokenRequest {
    url: String,
    body: String,
    grant: Grant,
}

impl TokenRequest {
    /// The headers to send (form body, JSON answer).
    pub const HEADERS: [(&'static str, &'static str); 2] =
        [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")];

    pub(crate) fn authorization_code(
        url: &str,
        client_id: &str,
        redirect_uri: &str,
        code: &AuthorizationCode,
        verifier: &Verifier,
    ) -> Self {
        let body = Form::new()
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", code.secret())
            .append_pair("code_verifier", verifier.secret())
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .finish();
        TokenRequest { url: url.to_string(), body, grant: Grant::AuthorizationCode }
    }

    /// A refresh-token grant for a public client.
    pub fn refresh(client: &crate::Client, refresh: &RefreshToken) -> Self {
        let body = Form::new()
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", refresh.secret())
            .append_pair("client_id", client.client_id())
            .finish();
        TokenRequest { url: client.token_url(), body, grant: Grant::RefreshToken }
    }

    /// The same request once more (a retry after a pause), for the session machine.
    pub(crate) fn again(&self) -> Self {
        TokenRequest { url: self.url.clone(), body: self.body.clone(), grant: self.grant }
    }

    /// Always `POST`.
    pub fn method(&self) -> &'static str {
        "POST"
    }

    /// The token endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The form-encoded body (contains secrets).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The grant.
    pub fn grant(&self) -> Grant {
        self.grant
    }

    /// True when sending this request uses up an authorization code: such a request must never be retried once
    /// it may have reached the server.
    pub fn spends_code(&self) -> bool {
        self.grant == Grant::AuthorizationCode
    }

    /// Parses the token endpoint's answer. See [`parse_token_response`].
    ///
    /// # Errors
    /// As [`parse_token_response`].
    pub fn parse_response(
        &self,
        status: u16,
        retry_after: Option<&str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<TokenSet, Error> {
        parse_token_response(status, retry_after, body, now_ms)
    }
}

impl core::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("url", &self.url)
            .field("grant", &self.grant)
            .field("body", &"[redacted]")
            .finish()
    }
}

impl Drop for TokenRequest {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

/// The tokens of a signed-in user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSet {
    /// The Bearer token for the API.
    pub access: AccessToken,
    /// The refresh token, when the OAuth client's policy issues one.
    pub refresh: Option<RefreshToken>,
    /// When the access token expires (epoch milliseconds).
    pub expires_at_ms: u64,
    /// Granted scopes, when the server says.
    pub scope: Option<String>,
    /// Always `bearer` (lower case, as Genesys sends it).
    pub token_type: String,
}

/// Longest token lifetime accepted: Genesys allows 48 h; beyond 30 days the answer is not believable.
const MAX_EXPIRES_IN_S: i64 = 30 * 86_400;
/// Largest token response read (Genesys answers are < 4 KB).
const MAX_BODY: usize = 64 * 1024;

impl TokenSet {
    const FORMAT: &'static str = "1";

    /// True when the access token expires within `skew_ms` of `now_ms` (refresh ahead of expiry).
    ///
    /// ```
    /// # use genesys_auth::parse_token_response;
    /// let t = parse_token_response(200, None, br#"{"access_token":"t","expires_in":300}"#, 0).unwrap();
    /// assert!(!t.needs_refresh(200_000, 60_000));
    /// assert!(t.needs_refresh(250_000, 60_000)); // within a minute of expiry
    /// ```
    pub fn needs_refresh(&self, now_ms: u64, skew_ms: u64) -> bool {
        now_ms.saturating_add(skew_ms) >= self.expires_at_ms
    }

    /// Milliseconds of validity left (0 when expired).
    pub fn remaining_ms(&self, now_ms: u64) -> u64 {
        self.expires_at_ms.saturating_sub(now_ms)
    }

    /// Versioned storage form (form-encoded). Contains the tokens.
    pub fn to_storage(&self) -> String {
        let mut q = Form::new();
        q.append_pair("v", Self::FORMAT)
            .append_pair("access", self.access.secret())
            .append_pair("expires_at", &crate::error::decimal(self.expires_at_ms))
            .append_pair("token_type", &self.token_type);
        if let Some(r) = &self.refresh {
            q.append_pair("refresh", r.secret());
        }
        if let Some(s) = &self.scope {
            q.append_pair("scope", s);
        }
        q.finish()
    }

    /// The storage form bound to where the tokens were issued: [`to_storage`](Self::to_storage) plus the login and
    /// API origins and the client id, so that an app configured for another region or client refuses them
    /// ([`from_storage_for`](Self::from_storage_for)) instead of sending them there.
    pub fn to_storage_for(&self, client: &crate::Client) -> String {
        crate::concat(&[&self.to_storage(), &binding(client)])
    }

    /// Reads back [`to_storage_for`](Self::to_storage_for) output for `client`, validating it as untrusted input.
    ///
    /// # Errors
    /// [`Error::ForeignTokens`] when the text was stored for another login origin, API origin or client (or says
    /// for none); [`Error::CorruptStorage`] as [`from_storage`](Self::from_storage).
    ///
    /// ```
    /// use genesys_auth::{Client, Region, parse_token_response, TokenSet};
    /// let ie = Client::new(Region::parse("eu_west_1")?, "cid", "http://localhost:3000/")?;
    /// let evil = Client::new(Region::custom("https://evil.example")?, "cid", "http://localhost:3000/")?;
    /// let t = parse_token_response(200, None, br#"{"access_token":"t","expires_in":600}"#, 0)?;
    /// let text = t.to_storage_for(&ie);
    /// assert_eq!(TokenSet::from_storage_for(&text, &ie)?, t);
    /// assert_eq!(TokenSet::from_storage_for(&text, &evil).unwrap_err().code(), "foreign_tokens");
    /// # Ok::<(), genesys_auth::Error>(())
    /// ```
    pub fn from_storage_for(text: &str, client: &crate::Client) -> Result<Self, Error> {
        let tokens = Self::from_storage(text)?;
        // The binding is the text's end, exactly as written: anything else was stored for someone else.
        if text.ends_with(binding(client).as_str()) { Ok(tokens) } else { Err(Error::ForeignTokens) }
    }

    /// Reads back [`to_storage`](Self::to_storage) output, validating it as untrusted input.
    ///
    /// # Errors
    /// [`Error::CorruptStorage`] for an unknown version, a duplicated or missing field, or absurd values.
    pub fn from_storage(text: &str) -> Result<Self, Error> {
        let corrupt = || Error::CorruptStorage { what: "token set" };
        if text.len() > 3 * MAX_BODY / 2 {
            return Err(corrupt());
        }
        let fields =
            crate::callback::unique_pairs(text, &["v", "access", "refresh", "expires_at", "token_type", "scope"])
                .map_err(|_| corrupt())?;
        let get = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        if get("v") != Some(Self::FORMAT) {
            return Err(corrupt());
        }
        let access = get("access").filter(|a| is_token_text(a)).ok_or_else(corrupt)?;
        let refresh = match get("refresh") {
            Some(r) if is_token_text(r) => Some(RefreshToken::new(r)),
            Some(_) => return Err(corrupt()),
            None => None,
        };
        let token_type = get("token_type").filter(|t| t.eq_ignore_ascii_case("bearer")).ok_or_else(corrupt)?;
        Ok(TokenSet {
            access: AccessToken::new(access),
            refresh,
            expires_at_ms: get("expires_at").and_then(crate::parse_decimal).ok_or_else(corrupt)?,
            scope: get("scope").map(str::to_string),
            token_type: token_type.to_string(),
        })
    }
}

/// What binds stored tokens to where they were issued: `&login=<origin>&api=<origin>&client=<id>`.
fn binding(client: &crate::Client) -> String {
    let mut q = Form::new();
    q.append_pair("login", &client.region().login_base())
        .append_pair("api", &client.region().api_base())
        .append_pair("client", client.client_id());
    crate::concat(&["&", &q.finish()])
}

/// A token is printable ASCII without spaces, of sane length (so it can go in a header).
fn is_token_text(s: &str) -> bool {
    !s.is_empty() && s.len() <= 16 * 1024 && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Parses a token endpoint answer.
///
/// * 200 with a JSON object holding `access_token`, `token_type` bearer and a sane `expires_in` → [`TokenSet`].
/// * 4xx with an OAuth error body (`{"error","description","error_description"}`) → [`Error::OAuth`].
/// * 429 → [`Error::RateLimited`] with `Retry-After` (seconds or HTTP-date, capped).
/// * 5xx (without an OAuth body) → [`Error::Server`].
/// * Anything else → [`Error::Malformed`] with the start of the body, token-like runs redacted.
///
/// # Errors
/// As listed above.
///
/// ```
/// use genesys_auth::{Error, OAuthErrorCode, parse_token_response};
/// let ok = parse_token_response(200, None, br#"{"access_token":"t","token_type":"bearer","expires_in":600}"#, 0).unwrap();
/// assert_eq!(ok.expires_at_ms, 600_000);
/// let refused = br#"{"error":"invalid_grant","description":"x","error_description":"x"}"#;
/// assert_eq!(parse_token_response(400, None, refused, 0).unwrap_err().oauth_code(), Some(&OAuthErrorCode::InvalidGrant));
/// assert_eq!(parse_token_response(429, Some("3"), b"", 0).unwrap_err(), Error::RateLimited { retry_after_ms: Some(3000) });
/// ```
pub fn parse_token_response(
    status: u16,
    retry_after: Option<&str>,
    body: &[u8],
    now_ms: u64,
) -> Result<TokenSet, Error> {
    let malformed = |reason: &'static str| Error::Malformed { status, reason, body: redacted_excerpt(body) };
    if status == 429 {
        return Err(Error::RateLimited { retry_after_ms: retry_after.and_then(|v| parse_retry_after(v, now_ms)) });
    }
    // Wiped when dropped, on every path: it holds the tokens.
    let json = if body.len() <= MAX_BODY { Json::parse(body).map(zeroize::Zeroizing::new) } else { None };
    if status != 200 {
        if let Some(e) = json.as_ref().and_then(|j| oauth_error(j, status)) {
            return Err(e);
        }
        return Err(if status >= 500 {
            Error::Server { status }
        } else {
            malformed("an error status without an OAuth error body")
        });
    }
    let json = json.ok_or_else(|| malformed("the body is not JSON"))?;
    if !matches!(*json, Json::Object(_)) {
        return Err(malformed("the body is not a JSON object"));
    }
    if json.get("access_token").is_none() {
        // An OAuth error with a success status is still the OAuth error it says it is.
        if let Some(e) = oauth_error(&json, status) {
            return Err(e);
        }
    }
    let access = json
        .get("access_token")
        .and_then(Json::as_str)
        .filter(|a| is_token_text(a))
        .ok_or_else(|| malformed("no usable access_token"))?;
    let token_type = json.get("token_type").and_then(Json::as_str).unwrap_or("bearer");
    if !token_type.eq_ignore_ascii_case("bearer") {
        return Err(malformed("token_type is not bearer"));
    }
    let expires_in = json
        .get("expires_in")
        .and_then(Json::as_i64)
        .filter(|e| (1..=MAX_EXPIRES_IN_S).contains(e))
        .ok_or_else(|| malformed("expires_in is missing, not a whole number of seconds, or absurd"))?;
    let refresh = match json.get("refresh_token") {
        None | Some(Json::Null) => None,
        Some(r) => Some(RefreshToken::new(
            r.as_str().filter(|r| is_token_text(r)).ok_or_else(|| malformed("refresh_token is not a token"))?,
        )),
    };
    let scope = json.get("scope").and_then(Json::as_str).map(str::to_string);
    Ok(TokenSet {
        access: AccessToken::new(access),
        refresh,
        expires_at_ms: now_ms.saturating_add(expires_in.unsigned_abs() * 1000),
        scope,
        token_type: "bearer".to_string(),
    })
}

/// The OAuth error a token endpoint body carries (`{"error", "error_description" | "description"}`), if any.
fn oauth_error(json: &Json, status: u16) -> Option<Error> {
    let code = json.get("error").and_then(Json::as_str)?;
    let description = json
        .get("error_description")
        .or_else(|| json.get("description"))
        .and_then(Json::as_str)
        .map(|d| crate::error::clean(d, 300));
    Some(Error::OAuth { code: OAuthErrorCode::parse(code), description, status })
}

/// Classifies a failed API answer (`api.<env>/api/v2/...`): 401 → [`Error::Unauthorized`] with the Genesys
/// `code`, 429 → [`Error::RateLimited`], 5xx → [`Error::Server`], other → [`Error::Server`] with its status.
///
/// ```
/// use genesys_auth::{Error, api_error};
/// let body = br#"{"message":"x","code":"credentials.expired","status":401}"#;
/// assert_eq!(api_error(401, None, body, 0), Error::Unauthorized { code: "credentials.expired".into() });
/// ```
pub fn api_error(status: u16, retry_after: Option<&str>, body: &[u8], now_ms: u64) -> Error {
    match status {
        401 => {
            let code = if body.len() <= MAX_BODY { Json::parse(body) } else { None }
                .as_ref()
                .and_then(|j| j.get("code"))
                .and_then(Json::as_str)
                .map(|c| crate::error::clean(c, 64))
                .unwrap_or_else(|| "authentication.required".to_string());
            Error::Unauthorized { code }
        }
        429 => Error::RateLimited { retry_after_ms: retry_after.and_then(|v| parse_retry_after(v, now_ms)) },
        _ => Error::Server { status },
    }
}

/// The first 512 characters of a body, with any run of 20+ token-alphabet characters replaced by `[redacted]`.
///
/// Errors keep bodies for debugging; this makes sure no token, code or verifier rides along.
///
/// ```
/// let shown = genesys_auth::redacted_excerpt(br#"{"access_token":"eyJhbGciOiJSUzI1NiJ9.abcdefghijk"}"#);
/// assert_eq!(shown, r#"{"access_token":"[redacted]"}"#);
/// ```
pub fn redacted_excerpt(body: &[u8]) -> String {
    // Cut at 512 bytes, and before the first byte that is not UTF-8 (a cut character included).
    let head = &body[..body.len().min(512)];
    let text = core::str::from_utf8(head)
        .unwrap_or_else(|e| core::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default());
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 20 {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=') {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_answer_becomes_a_token_set() {
        let body =
            br#"{"access_token":"AT-1234567890","token_type":"bearer","expires_in":86400,"refresh_token":"RT-1"}"#;
        let t = parse_token_response(200, None, body, 1_000).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.access.secret(), "AT-1234567890");
        assert_eq!(t.refresh.as_ref().map(RefreshToken::secret), Some("RT-1"));
        assert_eq!(t.expires_at_ms, 1_000 + 86_400_000);
        assert!(!t.needs_refresh(1_000, 60_000));
        assert!(t.needs_refresh(1_000 + 86_400_000 - 59_000, 60_000));
        let back = TokenSet::from_storage(&t.to_storage()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, t);
    }

    #[test]
    fn genesys_error_bodies_are_typed() {
        let body =
            br#"{"error":"invalid_client","description":"client not found","error_description":"client not found"}"#;
        let err = parse_token_response(400, None, body, 0).err();
        assert_eq!(
            err,
            Some(Error::OAuth {
                code: OAuthErrorCode::InvalidClient,
                description: Some("client not found".into()),
                status: 400
            })
        );
    }

    #[test]
    fn bad_answers_are_malformed_and_redacted() {
        let cases: [(u16, &[u8], &str); 7] = [
            (502, b"<html><body>502 Bad Gateway</body></html>", "server_error"),
            (200, b"<html>oops</html>", "malformed_response"),
            (200, br#"{"access_token":"abcdefghijklmnopqrstuvwxyz","expires_in":3"#, "malformed_response"),
            (200, br#"{"token_type":"bearer","expires_in":3}"#, "malformed_response"),
            (200, br#"{"access_token":"a","expires_in":-5}"#, "malformed_response"),
            (200, br#"{"access_token":"a","expires_in":1e12}"#, "malformed_response"),
            (200, br#"{"access_token":"a","expires_in":"3600"}"#, "malformed_response"),
        ];
        for (status, body, code) in cases {
            let err = parse_token_response(status, None, body, 0).err();
            assert_eq!(err.as_ref().map(Error::code), Some(code), "{}", String::from_utf8_lossy(body));
            let shown = format!("{err:?} {}", err.as_ref().map(|e| e.to_string()).unwrap_or_default());
            assert!(!shown.contains("abcdefghijklmnopqrstuvwxyz"), "{shown}");
        }
    }

    #[test]
    fn an_oauth_error_with_a_success_status_is_that_error() {
        let body = br#"{"error":"invalid_grant","error_description":"used"}"#;
        let err = parse_token_response(200, None, body, 0).err();
        assert_eq!(err.as_ref().and_then(Error::oauth_code), Some(&OAuthErrorCode::InvalidGrant));
    }

    #[test]
    fn rate_limit_reads_retry_after() {
        let err = parse_token_response(429, Some("3"), b"{}", 0).err();
        assert_eq!(err, Some(Error::RateLimited { retry_after_ms: Some(3_000) }));
    }

    #[test]
    fn tampered_storage_is_refused() {
        for bad in [
            "v=1&access=a%20b&expires_at=5&token_type=bearer",
            "v=1&access=a&expires_at=x&token_type=bearer",
            "v=1&access=a&expires_at=5&token_type=mac",
            "v=1&access=a&access=b&expires_at=5&token_type=bearer",
            "v=9&access=a&expires_at=5&token_type=bearer",
            "{\"access\":1}",
        ] {
            assert!(TokenSet::from_storage(bad).is_err(), "{bad}");
        }
        let huge = format!("v=1&access={}&expires_at=5&token_type=bearer", "a".repeat(200_000));
        assert!(TokenSet::from_storage(&huge).is_err());
    }

    #[test]
    fn api_401_carries_the_genesys_code() {
        let body = br#"{"message":"x","code":"bad.credentials","status":401}"#;
        assert_eq!(api_error(401, None, body, 0), Error::Unauthorized { code: "bad.credentials".into() });
    }

    fn client() -> crate::Client {
        let region = crate::Region::custom("http://127.0.0.1:8080").unwrap_or_else(|e| panic!("{e}"));
        crate::Client::new(region, "cid", "http://localhost:3000/").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn token_requests_say_what_they_are_and_keep_their_body_out_of_debug() {
        let refresh = TokenRequest::refresh(&client(), &RefreshToken::new("RT-secret-value"));
        assert_eq!(refresh.method(), "POST");
        assert!(!refresh.spends_code(), "a refresh may be retried");
        let debug = format!("{refresh:?}");
        assert!(debug.contains("TokenRequest") && debug.contains("[redacted]"), "{debug}");
        assert!(!debug.contains("RT-secret-value"), "{debug}");
        let verifier = Verifier::new("v".repeat(43)).unwrap_or_else(|e| panic!("{e}"));
        let code = TokenRequest::authorization_code("u", "c", "r", &AuthorizationCode::new("x"), &verifier);
        assert!(code.spends_code());
    }

    #[test]
    fn lifetimes_and_sizes_are_bounded_where_the_docs_say() {
        let answer = |expires_in: i64, pad: usize| {
            let body = format!(
                r#"{{"access_token":"AT-1","token_type":"bearer","expires_in":{expires_in}{}}}"#,
                " ".repeat(pad)
            );
            parse_token_response(200, None, body.as_bytes(), 0)
        };
        assert!(answer(30 * 86_400, 0).is_ok());
        assert!(answer(30 * 86_400 + 1, 0).is_err());
        // A long answer (here 10 KB of white space) is still read; the bound is 64 KB.
        assert!(answer(60, 10_000).is_ok());
        assert!(answer(60, 70_000).is_err());
    }

    #[test]
    fn stored_token_sets_are_bounded_and_every_token_is_token_text() {
        let t = parse_token_response(
            200,
            None,
            br#"{"access_token":"AT-1","token_type":"bearer","expires_in":60,"refresh_token":"RT-1"}"#,
            0,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let text = t.to_storage();
        let bound = 3 * MAX_BODY / 2;
        let pad = |to: usize| format!("{text}&pad={}", "x".repeat(to - text.len() - 5));
        assert!(TokenSet::from_storage(&pad(bound)).is_ok());
        assert!(TokenSet::from_storage(&pad(bound + 1)).is_err());
        assert!(TokenSet::from_storage(&text.replace("RT-1", "RT+1")).is_err(), "a space in the refresh token");
        let long = "a".repeat(10_000);
        assert!(TokenSet::from_storage(&text.replace("AT-1", &long)).is_ok(), "10 KB tokens are fine");
        assert!(TokenSet::from_storage(&text.replace("AT-1", &"a".repeat(16 * 1024 + 1))).is_err());
    }

    #[test]
    fn an_api_429_says_how_long_to_wait() {
        assert_eq!(api_error(429, Some("3"), b"{}", 0), Error::RateLimited { retry_after_ms: Some(3000) });
        assert_eq!(api_error(429, None, b"{}", 0), Error::RateLimited { retry_after_ms: None });
        assert_eq!(api_error(503, Some("3"), b"{}", 0), Error::Server { status: 503 });
    }
}
