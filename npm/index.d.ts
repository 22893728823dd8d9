/** Options of GenesysAuth.create. */
export interface GenesysAuthOptions {
  /** "mypurecloud.ie", "eu_west_1", "eu-west-1", "https://apps.mypurecloud.ie", or a custom base URL such as the emulator's "http://127.0.0.1:8080". */
  region: string;
  /** The OAuth client id (a public Code Authorization client with PKCE). */
  clientId: string;
  /** The redirect URI registered on the client, exactly. Default: this page's origin + path. */
  redirectUri?: string;
  /** Scopes to request; optional (Genesys uses the client's scopes). */
  scopes?: string | string[];
  /** Where tokens live: "memory" (default), "session" (this tab, survives reload) or "local" (all tabs). */
  storage?: "memory" | "session" | "local";
  /** When the session cannot be refreshed any more, sign in again by redirect back to this page (default true; at most once a minute, then a `relogin_loop` error). */
  reloginOnExpiry?: boolean;
  /** Refresh this many seconds before expiry (default 60). */
  refreshSkewSeconds?: number;
  /** Retry policy for 429, 502/503/504 and network failures. */
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number; maxRetryAfterMs?: number; maxTotalMs?: number };
  /** Called before each retry. */
  onRetry?: (event: RetryEvent) => void;
  /** Called with what the app should know that ends nothing: a storage write refused (`storage_unavailable`: the session goes on in memory), tokens another tab wrote that were unreadable or for another client, a Web Lock that could not be taken. */
  onReport?: (error: GenesysAuthError) => void;
  /** Refresh in the background ahead of expiry, with nobody asking (default false; `keepFresh()` turns it on later). For apps holding a notifications WebSocket, or whose API client never asks for a token. Never without a refresh token: no login happens behind the user's back. */
  keepFresh?: boolean;
}
/** What token-change listeners receive (never the token itself). */
export interface AuthState {
  authenticated: boolean;
  expiresAt: number | null;
  /** The user signed out (here, in another tab, or before a reload): nothing signs in by itself until `login()`. */
  signedOut: boolean;
}
/** A retry about to happen. */
export interface RetryEvent { url: string; attempt: number; status: number; delayMs: number; }
/** Errors thrown by GenesysAuth: `code` is stable, `message` says what to do. */
export interface GenesysAuthError extends Error {
  name: "GenesysAuthError";
  code: "unknown_region" | "foreign_tokens" | "storage_unavailable" | "invalid_callback" | "issuer_mismatch" | "invalid_config" | "invalid_verifier" | "random_failure" | "not_a_callback" | "missing_parameter" | "duplicate_parameter" | "state_mismatch" | "no_pending_login" | "pending_login_expired" | "corrupt_storage" | "authorization_error" | "oauth_error" | "rate_limited" | "server_error" | "malformed_response" | "network_error" | "redirected" | "unauthorized" | "login_required" | "signed_out" | "no_refresh_token" | "relogin_loop" | "popup_blocked" | "popup_closed" | "popup_timeout";
  oauthError?: string; status?: number; retryAfterMs?: number; apiCode?: string;
}

/** How to sign in: where to come back to, popup or redirect, and the login page's parameters. */
export interface LoginOptions {
  /** A same-origin path to come back to after the login (anything else is ignored). */
  returnTo?: string;
  /** true: a popup; false: a redirect; default: a redirect, or a popup inside a frame. */
  popup?: boolean;
  /** Give up on a popup login after this long (default 5 minutes). */
  timeoutMs?: number;
  /** Pre-fills the user name on the Genesys login page (`login_hint`). */
  loginHint?: string;
  /** `"login"` shows the login page even when a Genesys session exists (other values for standards servers). */
  prompt?: string;
  /** With `provider`: go straight to this org's single sign-on identity provider (`org`). */
  org?: string;
  /** With `org`: the SSO identity provider to use (`provider`, e.g. `"okta"`). */
  provider?: string;
  /** Further authorize parameters for standards servers (`ui_locales`, `acr_values`, ...). Checked: the ones the
   *  library sets itself (`state`, `redirect_uri`, ...) are refused with an `invalid_config` error. */
  params?: Record<string, string>;
}

/** Signs a person in to Genesys Cloud (OAuth Authorization Code + PKCE) and keeps the token valid. */
export declare class GenesysAuth {
  private constructor();
  /** Creates the client (loading the wasm module on first use). Rejects with a GenesysAuthError (code `invalid_config` / `unknown_region`) for bad options. */
  static create(options: GenesysAuthOptions): Promise<GenesysAuth>;
  /**
   * The region Genesys Cloud gives an embedded app in its URL (`gcHostOrigin`, `pcEnvironment`, `gcTargetEnv`), as a
   * name for `create({ region })`; kept in sessionStorage so it survives a login round trip. Only known regions are
   * accepted, plus the exact origins in `allow` (e.g. your local emulator). Returns `undefined` when the URL names none;
   * throws `unknown_region` for anything else. Call after `await ready()`.
   */
  static regionFromHostParams(options?: { allow?: string[]; url?: string }): string | undefined;
  /** Finishes a login when this page is the callback: resolves to the return path, or `undefined` when the URL holds no callback. Removes `code` and `state` from the address bar. */
  handleRedirectCallback(): Promise<string | undefined>;
  /** True while the user is signed in. */
  isAuthenticated(): boolean;
  /** The current state: `{ authenticated, expiresAt, signedOut }`. */
  state(): AuthState;
  /** True after the user signed out (here, in another tab, or before a reload of this tab), until `login()`: callers then get `signed_out`, and nothing signs in by itself. */
  isSignedOut(): boolean;
  /** Whether a guard in front of a protected view may start a login by itself now: not signed in, not signed out by the user, automatic sign-in allowed, not inside a frame, no automatic sign-in moments ago. Otherwise show a "Sign in" button. */
  shouldAutoLogin(): boolean;
  /**
   * Signs in. By default the browser goes to the Genesys login page and comes back (`returnTo`: a same-origin path to
   * come back to). Inside an iframe (an app embedded in Genesys Cloud), or with `popup: true`, it signs in through a
   * popup instead and resolves once signed in — call it from a click handler then.
   */
  login(options?: LoginOptions): Promise<void>;
  /** Signs in through a popup and resolves once signed in. Call it from a click handler: browsers block popups opened without a user gesture (`popup_blocked`). `timeoutMs` defaults to 5 minutes. */
  loginWithPopup(options?: Omit<LoginOptions, "popup">): Promise<void>;
  /** True when this page runs inside a frame (as Genesys Cloud shows client apps). */
  isFramed(): boolean;
  /** Turns the background refresh ahead of expiry on (default) or off; returns whether it was on. For the official SDK, see `connectSdk` in `genesys-auth/sdk`. */
  keepFresh(on?: boolean): boolean;
  /** A valid access token (refreshed when close to expiry; one refresh shared by all callers). For the official SDK: `client.setAccessToken(await auth.accessToken())`. */
  accessToken(): Promise<string>;
  /** Refreshes the tokens now. */
  refresh(): Promise<void>;
  /** `pathOrUrl` (a path such as `/api/v2/users/me`, or a URL) as a URL on the region's API origin, or `undefined` when the token must not go there: the same host rule as `fetch`, for an HTTP client that adds the token itself (an Angular interceptor). */
  apiUrl(pathOrUrl: string): string | undefined;
  /** `fetch` against the region's API host with the Bearer token: a path (`/api/v2/users/me`) or a URL on that host. One refresh-and-retry on 401; retries on 429/5xx. */
  fetch(pathOrUrl: string, init?: RequestInit): Promise<Response>;
  /** `GET /api/v2/users/me`, optionally with `expand` (e.g. "presence,routingStatus"). */
  currentUser(expand?: string): Promise<any>;
  /** Signs out: work in flight is dropped (a refresh answered later is revoked, not kept), the token revoked, storage cleared, every tab with `storage: "local"` signed out; until `login()` is called nothing signs in again by itself, also after a reload. `{ sso: true }` also ends the Genesys login session and returns to `returnTo` (default: the redirect URI). */
  logout(options?: { sso?: boolean; returnTo?: string }): Promise<void>;
  /** Calls `listener({ authenticated, expiresAt, signedOut })` on each login, refresh and logout. Returns an id for `offTokenChange`. */
  onTokenChange(listener: (state: AuthState) => void): number;
  /** Stops a listener added with `onTokenChange`. */
  offTokenChange(id: number): void;
  /** Why tokens found in storage were discarded at start (tampered or corrupt), if they were. */
  discardedStorage(): GenesysAuthError | undefined;
}

/** Loads the wasm module (done for you by GenesysAuth.create; call it early to preload). */
export declare function ready(): Promise<void>;
