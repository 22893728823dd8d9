//! # genesys-auth-web
//!
//! Genesys Cloud sign-in for browser apps: OAuth 2.0 Authorization Code with PKCE, no client secret, compiled to
//! WebAssembly. Two faces over one browser implementation:
//!
//! * JavaScript / TypeScript: the npm package `genesys-auth` (class `GenesysAuth`), for React, Vue, Angular or
//!   plain HTML (built with feature `engine`, which adds the package's exports).
//! * Rust: [`Auth`], for Rust front-ends (Leptos, Yew, Dioxus): a typed face over the same executor.
//!
//! Both run the core's session machine ([`genesys_auth::session`]) in the [`engine::Engine`], where every
//! decision is made, and one JS executor (`js/executor.js`, shipped in this crate as a wasm-bindgen snippet) that
//! does fetch, timers, storage, Web Locks, BroadcastChannel, popups and navigation, and decides nothing.
//!
//! ```no_run
//! use genesys_auth_web::{Auth, Config};
//! use genesys_auth::Region;
//!
//! # async fn app() -> Result<(), genesys_auth::Error> {
//! let auth = Auth::new(Config::new(Region::parse("eu_west_1")?, "client-id", "http://localhost:3000/"))?;
//! if auth.handle_redirect_callback().await?.is_none() && !auth.is_authenticated() {
//!     auth.login(Some("/inbox")).await?; // navigates to the Genesys login page
//! }
//! let me = auth.current_user(Some("presence")).await?;
//! # Ok(()) }
//! ```
//!
//! # Security
//! Protocol and session decisions (PKCE, `state`, token parsing, retries, refresh, the API host rule, stored tokens
//! bound to their region and client) live in the `genesys-auth` core. Tokens are kept in memory unless the app
//! opts into session or local storage; stored content is validated as untrusted input. `code` and `state` are
//! removed from the address bar after the callback; `fetch` sends the token only to the region's API origin.

#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

mod auth;
mod browser;
pub mod engine;
mod error;
mod options;

pub use auth::{Auth, AuthState, Config, LoginOptions, RetryEvent, is_framed};
pub use browser::StorageKind;
pub use error::to_js;
