//! # genesys-auth-web
//!
//! Genesys Cloud sign-in for browser apps: OAuth 2.0 Authorization Code with PKCE, no client secret, compiled to
//! WebAssembly. Two faces, one behaviour (the end-to-end suites run against both):
//!
//! * Rust: [`Auth`], for Rust front-ends (Leptos, Yew, Dioxus): the whole driver in Rust, through web-sys.
//! * JavaScript / TypeScript: the npm package `genesys-auth` (class `GenesysAuth`), for React, Vue, Angular or
//!   plain HTML: a small JS class over the synchronous engine of feature `engine`, which makes the same protocol
//!   and security decisions in wasm, far smaller than the async driver compiled to wasm (`cargo xtask bench`). Feature `js-class` builds [`Auth`]
//!   behind the same JS API instead (the end-to-end suites use it).
//!
//! ```no_run
//! use genesys_auth_web::{Auth, Config};
//! use genesys_auth::Region;
//!
//! # async fn app() -> Result<(), genesys_auth::Error> {
//! let auth = Auth::new(Config::new(Region::parse("eu_west_1")?, "client-id", "http://localhost:3000/"))?;
//! if auth.handle_redirect_callback().await?.is_none() && !auth.is_authenticated() {
//!     auth.login(Some("/inbox"))?; // navigates to the Genesys login page
//! }
//! let me = auth.current_user(Some("presence")).await?;
//! # Ok(()) }
//! ```
//!
//! # Security
//! Protocol decisions (PKCE, `state`, token parsing, retry rules) live in the `genesys-auth` core. Tokens are kept
//! in memory unless the app opts into session or local storage; stored content is validated as untrusted input.
//! `code` and `state` are removed from the address bar after the callback; `fetch` sends the token only to the
//! region's API host.

#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

mod auth;
mod browser;
#[cfg(feature = "engine")]
pub mod engine;
mod error;
mod flight;
mod http;
#[cfg(feature = "js-class")]
mod js;
#[cfg(any(feature = "engine", feature = "js-class"))]
mod options;
mod popup;

pub use auth::{Auth, AuthState, Config};
pub use browser::StorageKind;
pub use error::to_js;
pub use http::RetryEvent;
#[cfg(feature = "js-class")]
pub use js::JsAuth;
pub use popup::is_framed;
