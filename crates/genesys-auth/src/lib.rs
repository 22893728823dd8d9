//! # genesys-auth
//!
//! The OAuth 2.0 Authorization Code grant with PKCE for Genesys Cloud, as a protocol core without I/O: it builds
//! requests and reads answers; the caller moves the bytes and passes in the time and a random source. The browser
//! (`genesys-auth-web`), native (`genesys-auth-native`) drivers and the emulator all share it.
//!
//! ```
//! use genesys_auth::{Client, OsRng, Region, parse_token_response};
//!
//! # fn main() -> Result<(), genesys_auth::Error> {
//! let client = Client::new(Region::parse("eu_west_1")?, "my-client-id", "http://localhost:3000/")?;
//! let now_ms = 1_700_000_000_000;
//!
//! // 1. Send the browser to `url`; keep `pending` (e.g. `pending.to_storage()` in sessionStorage).
//! let (url, pending) = client.authorize().return_to("/inbox").build(&mut OsRng, now_ms)?;
//! assert!(url.starts_with("https://login.mypurecloud.ie/oauth/authorize?"));
//!
//! // 2. The browser comes back: the library checks `state` itself and yields the token request.
//! let callback = format!("http://localhost:3000/?code=abc&state={}", pending.state().secret());
//! let request = pending.complete(&callback, now_ms + 5_000)?;
//! assert_eq!(request.url(), "https://login.mypurecloud.ie/oauth/token");
//!
//! // 3. POST `request.body()` to `request.url()`, then read the answer.
//! let body = br#"{"access_token":"tok","token_type":"bearer","expires_in":86400}"#;
//! let tokens = parse_token_response(200, None, body, now_ms + 6_000)?;
//! assert!(!tokens.needs_refresh(now_ms + 6_000, 60_000));
//! # Ok(()) }
//! ```
//!
//! # Security
//! Secrets (verifier, state, code, tokens) are newtypes with a redacted `Debug`, no `Display`, constant-time
//! equality and zeroize-on-drop. Errors never carry them.

mod authorize;
mod callback;
mod error;
pub mod form;
pub mod json;
mod pkce;
mod region;
mod retry;
mod secret;
pub mod session;
mod token;

pub use authorize::{
    AuthorizeRequest, Client, MAX_AUTHORIZE_PARAMS, PendingLogin, RELOGIN_GUARD_MS, relogin_allowed, safe_return_path,
};
pub use callback::{Callback, return_path, without_callback};
pub use error::{Error, OAuthErrorCode, clean as clean_text, concat, decimal, parse_decimal};
pub use pkce::{Challenge, OsRng, Rng, Verifier, base64url};
pub use region::{Environment, Region};
pub use retry::{Failure, RetryPolicy, parse_retry_after};
pub use secret::{AccessToken, AuthorizationCode, RefreshToken, State, StoredText};
pub use token::{Grant, TokenRequest, TokenSet, api_error, parse_token_response, redacted_excerpt};
