//! One error type for every failure of the flow, each with a stable code and a message that says what to do.

use core::fmt;

/// An OAuth error code, as sent in a callback (`?error=`) or a token endpoint body (`{"error":..}`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// `invalid_pkce_package` (Genesys-specific: the PKCE parameters were refused)
    InvalidPkcePackage,
    /// Any other code, kept verbatim (truncated to 64 characters).
    Other(String),
}

impl OAuthErrorCode {
    /// Maps the wire value to a code.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "unsupported_response_type" => Self::UnsupportedResponseType,
            "invalid_scope" => Self::InvalidScope,
            "access_denied" => Self::AccessDenied,
            "server_error" => Self::ServerError,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "invalid_pkce_package" => Self::InvalidPkcePackage,
            other => Self::Other(clean(other, 64)),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::AccessDenied => "access_denied",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::InvalidPkcePackage => "invalid_pkce_package",
            Self::Other(s) => s,
        }
    }

    /// What the user or the app developer can do about this code.
    fn advice(&self) -> &'static str {
        match self {
            Self::InvalidClient => {
                "check the client id and that the OAuth client exists in this region (Admin > Integrations > OAuth)"
            }
            Self::InvalidGrant => {
                "the code or refresh token is invalid, expired or already used, or redirect_uri/code_verifier do not match the authorize request: sign in again"
            }
            Self::UnauthorizedClient | Self::UnsupportedResponseType | Self::UnsupportedGrantType => {
                "set the OAuth client's grant type to 'Code Authorization' with PKCE in Genesys Cloud admin"
            }
            Self::InvalidScope => "request only scopes that are enabled on the OAuth client",
            Self::AccessDenied => "the user declined, or lacks permission for this app: sign in again and approve",
            Self::InvalidPkcePackage => {
                "the PKCE parameters were refused: use S256 and a 43..128 character verifier (this library does)"
            }
            Self::ServerError | Self::TemporarilyUnavailable => "Genesys Cloud had a problem: try again shortly",
            Self::InvalidRequest | Self::Other(_) => {
                "check the client id, the exact redirect URI registered on the OAuth client, and the region"
            }
        }
    }
}

/// Everything that can go wrong, structured so callers can match on it.
///
/// `Display` gives a sentence for people, ending with what to do. No variant ever holds a token, a code or a
/// verifier: bodies kept for debugging are redacted first.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The region name is not one of the known Genesys Cloud regions.
    UnknownRegion {
        /// What was given (truncated).
        input: String,
    },
    /// A configuration value is unusable.
    InvalidConfig {
        /// Which setting.
        field: &'static str,
        /// Why, and what would be accepted.
        reason: &'static str,
    },
    /// A PKCE verifier that RFC 7636 does not allow.
    InvalidVerifier {
        /// Why.
        reason: &'static str,
    },
    /// The system's random number generator failed.
    Random,
    /// The URL handed to the callback handler carries neither `code` nor `error`.
    NotACallback,
    /// A required parameter is missing from the callback.
    MissingParameter {
        /// The parameter name.
        name: &'static str,
    },
    /// A parameter occurs more than once in the callback (a sign of tampering).
    DuplicateParameter {
        /// The parameter name.
        name: &'static str,
    },
    /// The callback's `state` does not belong to the login this app started.
    StateMismatch,
    /// No login is pending in this browser/session for this callback.
    NoPendingLogin,
    /// The pending login is older than allowed.
    PendingLoginExpired,
    /// A stored value (pending login, token set) is unreadable or of an unknown format.
    CorruptStorage {
        /// What was being read.
        what: &'static str,
    },
    /// The authorization server sent an error back to the redirect URI.
    Authorization {
        /// The OAuth error code.
        code: OAuthErrorCode,
        /// `error_description`, if any (truncated).
        description: Option<String>,
    },
    /// The token endpoint refused the request.
    OAuth {
        /// The OAuth error code.
        code: OAuthErrorCode,
        /// `error_description` or Genesys' `description` (truncated).
        description: Option<String>,
        /// HTTP status.
        status: u16,
    },
    /// Too many requests; retry after this many milliseconds when the server said so.
    RateLimited {
        /// From `Retry-After`, capped.
        retry_after_ms: Option<u64>,
    },
    /// The server failed (5xx) or answered with an unexpected status.
    Server {
        /// HTTP status.
        status: u16,
    },
    /// The response could not be understood.
    Malformed {
        /// HTTP status.
        status: u16,
        /// What was wrong.
        reason: &'static str,
        /// The start of the body, with anything token-like redacted.
        body: String,
    },
    /// The server answered with a redirect, which is not followed: it would carry the token or the code elsewhere.
    Redirected {
        /// Its status, 0 where the platform does not tell (a browser's opaque redirect).
        status: u16,
    },
    /// The request never got a response (offline, DNS, CORS, connection dropped).
    Network {
        /// What the platform said.
        detail: String,
    },
    /// The API refused the access token (401): expired early, revoked, or idle-timed-out.
    Unauthorized {
        /// The Genesys error code, e.g. `authentication.required`.
        code: String,
    },
    /// No usable session: the app must call login.
    LoginRequired,
    /// A refresh was asked for, but the session has no refresh token (the OAuth client or the org's inactivity
    /// timeout gives none): the access token is used until it expires, then the user signs in again.
    NoRefreshToken,
    /// The user signed out (here, in another tab, or in another process): nothing signs in again, silently or by
    /// redirect, until the app calls login.
    SignedOut,
    /// The browser blocked the login popup (it was not opened from a click).
    PopupBlocked,
    /// The user closed the login popup before finishing.
    PopupClosed,
    /// The login popup did not come back in time.
    PopupTimeout,
    /// Tokens found in storage were issued for another region (login or API origin) or OAuth client than the app
    /// is configured with: they were discarded, never sent.
    ForeignTokens,
    /// The browser refused to store a value (storage full, or disabled in this mode).
    StorageUnavailable {
        /// What the platform said.
        detail: String,
    },
    /// A callback parameter is unacceptable (far too long, for one).
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The callback's `iss` (RFC 9207) names another authorization server than the one the login went to.
    IssuerMismatch,
    /// An automatic sign-in happened moments ago and the session is already unusable again: the library stops
    /// instead of redirecting in a loop.
    ReloginLoop,
}

impl Error {
    /// A stable, machine-readable code (what the JS `Error.code` and the CLI exit codes are derived from).
    ///
    /// ```
    /// use genesys_auth::Error;
    /// assert_eq!(Error::StateMismatch.code(), "state_mismatch");
    /// assert!(Error::StateMismatch.to_string().contains("start the login again"));
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnknownRegion { .. } => "unknown_region",
            Error::InvalidConfig { .. } => "invalid_config",
            Error::InvalidVerifier { .. } => "invalid_verifier",
            Error::Random => "random_failure",
            Error::NotACallback => "not_a_callback",
            Error::MissingParameter { .. } => "missing_parameter",
            Error::DuplicateParameter { .. } => "duplicate_parameter",
            Error::StateMismatch => "state_mismatch",
            Error::NoPendingLogin => "no_pending_login",
            Error::PendingLoginExpired => "pending_login_expired",
            Error::CorruptStorage { .. } => "corrupt_storage",
            Error::Authorization { .. } => "authorization_error",
            Error::OAuth { .. } => "oauth_error",
            Error::RateLimited { .. } => "rate_limited",
            Error::Server { .. } => "server_error",
            Error::Malformed { .. } => "malformed_response",
            Error::Network { .. } => "network_error",
            Error::Redirected { .. } => "redirected",
            Error::Unauthorized { .. } => "unauthorized",
            Error::LoginRequired => "login_required",
            Error::SignedOut => "signed_out",
            Error::NoRefreshToken => "no_refresh_token",
            Error::ReloginLoop => "relogin_loop",
            Error::PopupBlocked => "popup_blocked",
            Error::PopupClosed => "popup_closed",
            Error::PopupTimeout => "popup_timeout",
            Error::ForeignTokens => "foreign_tokens",
            Error::StorageUnavailable { .. } => "storage_unavailable",
            Error::InvalidParameter { .. } => "invalid_callback",
            Error::IssuerMismatch => "issuer_mismatch",
        }
    }

    /// True when the token endpoint refused a refresh for good (`invalid_grant`: expired, revoked, reused;
    /// `unauthorized_client`: refresh not allowed for this client): the session is over and the user must sign
    /// in again. Transient failures (network, 5xx, 429) are not refusals.
    ///
    /// ```
    /// use genesys_auth::{Error, OAuthErrorCode};
    /// let refused = Error::OAuth { code: OAuthErrorCode::InvalidGrant, description: None, status: 400 };
    /// assert!(refused.refresh_refused());
    /// assert!(!Error::Server { status: 503 }.refresh_refused());
    /// ```
    pub fn refresh_refused(&self) -> bool {
        matches!(self, Error::OAuth { code: OAuthErrorCode::InvalidGrant | OAuthErrorCode::UnauthorizedClient, .. })
    }

    /// The OAuth error code, for the two variants that carry one.
    pub fn oauth_code(&self) -> Option<&OAuthErrorCode> {
        match self {
            Error::Authorization { code, .. } | Error::OAuth { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl Error {
    /// What happened and what to do, as one sentence (the `Display` text).
    ///
    /// Built by concatenation rather than `format!`: keeping `core::fmt` out of the browser bundle saves kilobytes.
    pub fn message(&self) -> String {
        let c = concat;
        match self {
            Error::UnknownRegion { input } => c(&[
                "unknown Genesys Cloud region \"",
                input,
                "\": use one of ",
                &crate::region::valid_names(),
                ", or a full origin such as https://apps.mypurecloud.ie",
            ]),
            Error::InvalidConfig { field, reason } => c(&["invalid ", field, ": ", reason]),
            Error::InvalidVerifier { reason } => c(&[
                "invalid PKCE code verifier: ",
                reason,
                " (RFC 7636: 43..128 characters of A-Z a-z 0-9 - . _ ~)",
            ]),
            Error::Random => "the system random number generator failed: no login can be started safely".into(),
            Error::NotACallback => "this URL is not an OAuth callback: it has neither `code` nor `error`".into(),
            Error::MissingParameter { name } => c(&["the callback lacks `", name, "`: start the login again from the app"]),
            Error::DuplicateParameter { name } => {
                c(&["the callback repeats `", name, "`, which is a sign of tampering: start the login again"])
            }
            Error::StateMismatch => "the callback's state does not match the login started here (a forged or stale link): start the login again".into(),
            Error::NoPendingLogin => "no login was started in this browser session for this callback (opened in another tab or already used): start the login again".into(),
            Error::PendingLoginExpired => "the login took too long and expired: start the login again".into(),
            Error::CorruptStorage { what } => c(&["the stored ", what, " is unreadable and was discarded: sign in again"]),
            Error::Authorization { code, description } => c(&[
                "Genesys Cloud refused the sign-in (",
                code.as_str(),
                ")",
                &description.as_deref().map(|d| c(&[": ", d])).unwrap_or_default(),
                "; ",
                code.advice(),
            ]),
            Error::OAuth { code, description, status } => c(&[
                "the token endpoint refused the request (HTTP ",
                &decimal(u64::from(*status)),
                ", ",
                code.as_str(),
                ")",
                &description.as_deref().map(|d| c(&[": ", d])).unwrap_or_default(),
                "; ",
                code.advice(),
            ]),
            Error::RateLimited { retry_after_ms } => c(&[
                "Genesys Cloud is rate limiting this token (HTTP 429)",
                &match retry_after_ms {
                    Some(ms) => c(&[": retry in ", &decimal(ms.div_ceil(1000)), " s"]),
                    None => ": retry later and send fewer requests".into(),
                },
            ]),
            Error::Server { status } => c(&[
                "Genesys Cloud answered HTTP ",
                &decimal(u64::from(*status)),
                ": try again shortly; if it persists, check status.mypurecloud.com",
            ]),
            Error::Malformed { status, reason, .. } => c(&[
                "the server's answer (HTTP ",
                &decimal(u64::from(*status)),
                ") could not be understood: ",
                reason,
                "; check the region/base URL points at Genesys Cloud",
            ]),
            Error::Network { detail } => c(&[
                "the request got no answer (",
                detail,
                "): check the network, the region, and that the app's origin is allowed (CORS) on the OAuth client",
            ]),
            Error::Redirected { status } => c(&[
                "the server answered with a redirect (status ",
                &decimal(u64::from(*status)),
                "), which is not followed with a token or a code: check the region and any proxy in front of Genesys Cloud",
            ]),
            Error::Unauthorized { code } => c(&[
                "Genesys Cloud refused the access token (",
                code,
                "): it expired, was revoked or timed out while idle; sign in again",
            ]),
            Error::LoginRequired => "not signed in: call login() to sign in".into(),
            Error::NoRefreshToken => "no refresh token was issued for this session (the OAuth client's settings or the org's inactivity timeout give none): the session lasts until the access token expires, then sign in again".into(),
            Error::SignedOut => "signed out by the user: nothing signs in again until the app calls login() (from a click, say)".into(),
            Error::PopupBlocked => "the browser blocked the sign-in popup: call loginWithPopup() directly from a click handler (a user gesture), or allow popups for this site".into(),
            Error::PopupClosed => "the sign-in popup was closed before the sign-in finished: click sign in to try again".into(),
            Error::PopupTimeout => "the sign-in popup did not finish in time and was closed: click sign in to try again".into(),
            Error::ForeignTokens => "the stored tokens were issued for another region or OAuth client than this app is configured with; they were discarded, not sent: sign in again".into(),
            Error::StorageUnavailable { detail } => c(&[
                "the browser refused to store the sign-in data (",
                detail,
                "): its storage is full or disabled here; free some space, leave private mode, or use storage \"memory\"",
            ]),
            Error::InvalidParameter { name, reason } => c(&["the callback's `", name, "` is unacceptable (", reason, "): start the login again"]),
            Error::IssuerMismatch => "the callback names another authorization server (iss) than the one this login went to (a mix-up attack or a misconfigured region): start the login again".into(),
            Error::ReloginLoop => "signing in again automatically did not give a usable session (the last automatic sign-in was moments ago): sign in manually; if it persists, check the OAuth client's token duration and the org's idle timeout".into(),
        }
    }
}

/// Server or platform text fit for a message: control characters (a terminal's escape sequences, line breaks)
/// removed, at most `max` characters.
///
/// ```
/// assert_eq!(genesys_auth::clean_text("bad\x1b[31m\nnews", 100), "bad[31mnews");
/// ```
pub fn clean(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// `text` with every occurrence of `value` (not empty) replaced by `[redacted]`: a plain scan, because the standard
/// library's substring search brings its two-way searcher (1 167 B of the package's wasm before gzip, measured on
/// 2026-12-03).
pub(crate) fn redact_value(text: &str, value: &str) -> String {
    let (t, v) = (text.as_bytes(), value.as_bytes());
    let mut out = String::new();
    let (mut start, mut i) = (0, 0);
    while !v.is_empty() && i + v.len() <= t.len() {
        if t.get(i..i + v.len()) == Some(v) {
            // A match starts and ends on character boundaries: `value` is UTF-8 too.
            out.push_str(text.get(start..i).unwrap_or_default());
            out.push_str("[redacted]");
            i += v.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push_str(text.get(start..).unwrap_or_default());
    out
}

/// Popup login without a way to hear from the popup.
pub(crate) const NO_POPUP_CHANNEL: Error = Error::InvalidConfig {
    field: "environment",
    reason: "popup login needs BroadcastChannel, which this browser lacks: use login() with a redirect",
};

/// The pieces joined, like `[..].concat()` in far less wasm code (the standard library's version is unrolled for
/// separators of every small size, and instantiated once per element type).
///
/// ```
/// assert_eq!(genesys_auth::concat(&["https://", "api.", "mypurecloud.ie"]), "https://api.mypurecloud.ie");
/// ```
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `n` in decimal, without `core::fmt` (for drivers that keep the formatting machinery out of a wasm bundle).
///
/// ```
/// assert_eq!(genesys_auth::decimal(86_400), "86400");
/// ```
pub fn decimal(mut n: u64) -> String {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    digits[i..].iter().map(|&d| char::from(d)).collect()
}

/// The whole number that `text` spells in decimal digits only (no sign, no spaces), if it fits a `u64`: the one
/// reader of the numbers this library writes (stored times) and receives (`Retry-After` seconds, JSON integers);
/// smaller in the browser bundle than `str::parse`.
///
/// ```
/// assert_eq!(genesys_auth::parse_decimal("86400"), Some(86_400));
/// assert_eq!(genesys_auth::parse_decimal("+1"), None);
/// ```
pub fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.bytes().try_fold(0u64, |n, b| {
        if !b.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_value_matches_str_replace() {
        for (text, value) in [
            ("a tok b tok", "tok"),
            ("toktok", "tok"),
            ("tototok", "tok"),
            ("", "tok"),
            ("tok", "tok"),
            ("é tok ü", "tok"),
            ("ütök", "ö"),
            ("abc", "abcd"),
            ("abc", ""),
        ] {
            let expected = if value.is_empty() { text.to_string() } else { text.replace(value, "[redacted]") };
            assert_eq!(redact_value(text, value), expected, "{text:?} / {value:?}");
        }
    }

    #[test]
    fn decimal_writes_every_magnitude() {
        for n in [0u64, 7, 10, 429, 86_400_000, u64::MAX] {
            assert_eq!(decimal(n), n.to_string());
        }
    }

    #[test]
    fn messages_carry_their_numbers_and_advice() {
        let e = Error::OAuth {
            code: OAuthErrorCode::InvalidClient,
            description: Some("client not found".into()),
            status: 400,
        };
        assert_eq!(e.to_string(), e.message());
        assert!(e.message().starts_with(
            "the token endpoint refused the request (HTTP 400, invalid_client): client not found; check the client id"
        ));
        assert!(Error::RateLimited { retry_after_ms: Some(2_500) }.message().ends_with(": retry in 3 s"));
    }
    #[test]
    fn parse_decimal_reads_unsigned_digits_that_fit() {
        assert_eq!(parse_decimal("0"), Some(0));
        assert_eq!(parse_decimal("007"), Some(7));
        assert_eq!(parse_decimal("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal("18446744073709551616"), None);
        assert_eq!(parse_decimal("99999999999999999999"), None);
        for bad in ["", "+1", "-1", " 1", "1 ", "1.0", "1e3", "١"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }
}
