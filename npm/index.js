// The npm package `genesys-auth`: class GenesysAuth.
//
// The WebAssembly engine (crate genesys-auth-web, feature `engine`) makes the protocol and security decisions:
// PKCE, the authorize URL, the pending login and its `state` check, token request bodies, token and error parsing,
// retry rules, which host may receive the token, regions, and every error message. This class does the waiting and
// the sequencing: fetch, timers, storage, Web Locks, BroadcastChannel, popups, single flight, re-login. The Rust driver (`genesys_auth_web::Auth`) does the same in Rust for Rust
// front-ends; both pass the same end-to-end suites.
import init, {
  Engine, callbackState, failure, isCallback, queryValue, regionFromHostParams, reloginAllowed, returnPath,
  withoutCallback,
} from './genesys_auth.js';

let loading;

/** Loads the wasm module (done for you by GenesysAuth.create; call it early to preload). */
export function ready() {
  loading ??= init({ module_or_path: new URL('./genesys_auth_bg.wasm', import.meta.url) });
  return loading;
}

const PREFIX = 'genesys-auth:';
const POPUP = 'genesys-auth-popup';

const text = (v) => (typeof v == 'string' ? v : undefined);
const number = (v) => (typeof v == 'number' ? v : undefined);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const network = (e) => failure('network_error', String(e?.message ?? e));

function webStorage(kind) {
  try {
    return kind == 'session' ? sessionStorage : kind == 'local' ? localStorage : null;
  } catch {
    return null;
  }
}
function storageGet(kind, key) {
  try {
    return webStorage(kind)?.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}
function storageSet(kind, key, value) {
  if (kind == 'memory') return;
  const s = webStorage(kind);
  if (!s) throw failure('no_storage');
  try {
    s.setItem(key, value);
  } catch (e) {
    throw failure('storage_unavailable', String(e?.message ?? e)); // full (quota) or refused
  }
}
function storageRemove(kind, key) {
  try {
    webStorage(kind)?.removeItem(key);
  } catch {}
}

function framed() {
  try {
    return window.top !== window;
  } catch {
    return true; // a cross-origin top may be unreadable: then we certainly are framed
  }
}

/** Runs `work` holding the Web Lock `name` (all tabs of the origin), or unlocked without Web Locks. */
async function withLock(name, work) {
  const locks = navigator.locks;
  if (!locks) return work();
  let ran = false;
  try {
    return await locks.request(name, () => ((ran = true), work()));
  } catch (e) {
    if (ran) throw e;
    return work(); // refused before it ran (page teardown, exotic browsers): run it unlocked
  }
}

/** In the popup: hands the callback URL to the opener (channel named after its state) and closes. */
function handToOpener(href) {
  const state = window.name == POPUP && isCallback(href) && callbackState(href);
  if (!state) return false;
  try {
    const channel = new BroadcastChannel(`${PREFIX}popup:${state}`);
    channel.postMessage(href);
    channel.close();
  } catch {
    return false;
  }
  history.replaceState(null, '', '/'); // keep the code out of this window's history
  window.close();
  return true;
}

// The engine hands several values over as lines of one string.
const lines = (s) => s.split('\n');
const fields = (s) => {
  const f = lines(s);
  return { text: f[0], access: f[1], expiresAt: Number(f[2]), refresh: f[3] == '1' };
};

export class GenesysAuth {
  #e;
  #o;
  #tokens = null;
  #flight = null;
  #listeners = new Map();
  #next = 1;
  #discarded;
  #channel = null;

  /** Use `GenesysAuth.create(options)`. */
  constructor(engine, options) {
    if (!(engine instanceof Engine)) throw new TypeError('use GenesysAuth.create(options)');
    this.#e = engine;
    this.#o = options;
    this.#load();
    if (options.storage == 'local' && typeof BroadcastChannel == 'function') {
      // Other tabs announce new tokens (read from the shared storage, never sent on the channel) and logouts.
      this.#channel = new BroadcastChannel(PREFIX + options.clientId);
      this.#channel.onmessage = (event) => {
        if (event.data != 'tokens' && event.data != 'logout') return;
        this.#tokens = null;
        if (event.data == 'tokens') this.#load();
        this.#notify();
      };
    }
  }

  static async create(options) {
    await ready();
    const o = options ?? {};
    const r = o.retry;
    const retry = r && typeof r == 'object'
      ? Float64Array.from([r.maxAttempts, r.baseDelayMs, r.maxDelayMs, r.maxRetryAfterMs, r.maxTotalMs], (n) => number(n) ?? NaN)
      : undefined;
    const engine = new Engine(text(o.region), text(o.clientId), text(o.redirectUri) ?? location.origin + location.pathname,
      text(o.storage), retry);
    const skew = number(o.refreshSkewSeconds);
    return new GenesysAuth(engine, {
      clientId: o.clientId,
      scope: Array.isArray(o.scopes) ? o.scopes.filter(text).join(' ') : text(o.scopes),
      storage: text(o.storage) ?? 'memory',
      relogin: o.reloginOnExpiry !== false,
      skewMs: Number.isFinite(skew) && skew >= 0 ? skew * 1000 : 60_000,
      onRetry: typeof o.onRetry == 'function' ? o.onRetry : undefined,
    });
  }

  static regionFromHostParams(options) {
    const KEY = `${PREFIX}host-region`;
    const url = text(options?.url) ?? location.href;
    const query = url.split('#')[0].split('?').slice(1).join('?');
    const allow = Array.isArray(options?.allow) ? options.allow.filter((a) => text(a) && !/[\r\n]/.test(a)) : [];
    const name = regionFromHostParams(query, allow.join('\n'), storageGet('session', KEY));
    // Kept for the rest of the round trip: after a login redirect the parameters may be gone.
    if (name) try { storageSet('session', KEY, name); } catch {}
    return name;
  }

  #key(what) {
    return `${PREFIX}${this.#o.clientId}:${what}`;
  }

  #load() {
    const kind = this.#o.storage;
    const stored = storageGet(kind, this.#key('tokens'));
    if (stored === undefined) return;
    try {
      const f = this.#e.load(stored);
      if (f) this.#tokens = fields(f);
      else storageRemove(kind, this.#key('tokens'));
    } catch (e) {
      storageRemove(kind, this.#key('tokens'));
      this.#discarded = e;
    }
  }

  #notify() {
    const state = this.state();
    for (const listener of [...this.#listeners.values()]) {
      try {
        listener(state);
      } catch {}
    }
  }

  /** Keeps `tokens` (memory, and storage when configured), tells listeners and, with shared storage, other tabs. */
  #set(tokens) {
    const kind = this.#o.storage;
    if (tokens) {
      try {
        storageSet(kind, this.#key('tokens'), tokens.text);
      } catch {} // a storage refusal must not lose the login: memory still holds the tokens
    } else {
      storageRemove(kind, this.#key('tokens'));
    }
    this.#channel?.postMessage(tokens ? 'tokens' : 'logout');
    this.#tokens = tokens;
    this.#notify();
  }

  /** One request built by `make` (again for each attempt), retried as the engine decides. */
  async #send(url, make, spendsCode) {
    const started = Date.now();
    for (let attempts = 1; ; attempts++) {
      let request;
      try {
        request = make();
      } catch (e) {
        throw network(e);
      }
      let response, error;
      try {
        response = await fetch(request);
      } catch (e) {
        error = e;
      }
      const status = response ? response.status : 0;
      const delayMs = this.#e.retryDelay(status, response?.headers.get('retry-after') ?? undefined, spendsCode, attempts,
        Date.now() - started);
      if (delayMs === undefined) {
        if (response) return response;
        throw network(error);
      }
      try {
        this.#o.onRetry?.({ url, attempt: attempts, status, delayMs });
      } catch {}
      await sleep(delayMs);
    }
  }

  /** Sends a token request as the engine wrote it: URL, form body, two headers (name, value). */
  async #tokenRequest([url, body, n1, v1, n2, v2], spendsCode, refreshing) {
    const headers = { [n1]: v1, [n2]: v2 };
    const make = () => new Request(url, { method: 'POST', headers, body, credentials: 'omit', redirect: 'error' });
    const response = await this.#send(url, make, spendsCode);
    let bytes;
    try {
      bytes = new Uint8Array(await response.arrayBuffer());
    } catch (e) {
      throw network(e);
    }
    return fields(this.#e.tokens(response.status, response.headers.get('retry-after') ?? undefined, bytes, refreshing));
  }

  /** Parks the pending login in this tab's sessionStorage and goes to the Genesys login page. */
  #redirect(returnTo) {
    const [url, pending] = lines(this.#e.authorize(this.#o.scope, returnTo));
    storageSet('session', this.#key('pending'), pending);
    location.assign(url);
  }

  async handleRedirectCallback() {
    const href = location.href;
    if (!isCallback(href) || handToOpener(href)) return undefined;
    history.replaceState(null, '', withoutCallback(href));
    const pending = storageGet('session', this.#key('pending'));
    storageRemove('session', this.#key('pending'));
    const request = lines(this.#e.exchange(pending, href));
    const back = request[6];
    this.#set(await this.#tokenRequest(request, true, false));
    if (back !== undefined) history.replaceState(null, '', back);
    return back ?? '/';
  }

  isAuthenticated() {
    return this.#tokens !== null;
  }

  state() {
    return { authenticated: this.#tokens !== null, expiresAt: this.#tokens?.expiresAt ?? null };
  }

  login(options) {
    const popup = typeof options?.popup == 'boolean' ? options.popup : framed();
    if (popup) return this.loginWithPopup(options);
    try {
      this.#redirect(text(options?.returnTo));
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  loginWithPopup(options) {
    const t = number(options?.timeoutMs);
    const timeoutMs = Number.isFinite(t) && t >= 0 ? t : 300_000;
    // Opened now, inside the click that called us; the rest happens in the returned promise.
    let opened;
    try {
      if (typeof BroadcastChannel != 'function') throw failure('no_broadcast');
      const [url, pending, state] = lines(this.#e.authorize(this.#o.scope, undefined));
      const [w, h] = [520, 680];
      const at = (v) => Math.max(0, Math.trunc(v || 0));
      const features = `popup=yes,width=${w},height=${h},left=${at(screenX + (outerWidth - w) / 2)},top=${at(screenY + (outerHeight - h) / 2)}`;
      const popup = window.open(url, POPUP, features);
      if (!popup) throw failure('popup_blocked');
      const channel = new BroadcastChannel(`${PREFIX}popup:${state}`);
      const arrived = [];
      channel.onmessage = (event) => typeof event.data == 'string' && arrived.push(event.data);
      opened = { pending, state, popup, channel, arrived };
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#finishPopup(opened, timeoutMs);
  }

  async #finishPopup({ pending, state, popup, channel, arrived }, timeoutMs) {
    const started = Date.now();
    let href;
    try {
      for (;;) {
        const url = arrived.pop();
        if (url !== undefined) {
          // Only a callback for this login counts (the engine checks the state again when exchanging).
          if (callbackState(url) === state) {
            href = url;
            break;
          }
          continue;
        }
        if (popup.closed) {
          await sleep(100); // the callback may have been posted just before the popup closed itself
          if (!arrived.length) throw failure('popup_closed');
          continue;
        }
        if (Date.now() - started > timeoutMs) throw failure('popup_timeout');
        await sleep(150);
      }
    } finally {
      channel.onmessage = null;
      channel.close();
      popup.close();
    }
    this.#set(await this.#tokenRequest(lines(this.#e.exchange(pending, href)), true, false));
  }

  isFramed() {
    return framed();
  }

  async accessToken() {
    const tokens = this.#tokens;
    if (!tokens) throw failure('login_required');
    if (Date.now() + this.#o.skewMs >= tokens.expiresAt) {
      try {
        await this.refresh();
      } catch (e) {
        throw await this.#reloginOr(e);
      }
    }
    if (!this.#tokens) throw failure('login_required');
    return this.#tokens.access;
  }

  /** Refreshes now; concurrent callers share one refresh (single flight). */
  refresh() {
    if (!this.#flight) {
      // The token this refresh replaces, taken now: another tab's new token must not be refreshed again.
      const seen = this.#tokens?.access;
      this.#flight = this.#refreshOnce(seen).finally(() => (this.#flight = null));
    }
    return this.#flight;
  }

  async #refreshOnce(seen) {
    if (this.#o.storage != 'local') return this.#refreshNow();
    // Tabs sharing local storage share one rotating refresh token: one tab refreshes at a time, and a tab that
    // waited for the lock first looks whether another tab already did the work.
    return withLock(this.#key('refresh'), async () => {
      this.#tokens = null;
      this.#load();
      const t = this.#tokens;
      if (t && t.access !== seen && Date.now() < t.expiresAt) {
        this.#notify();
        return;
      }
      return this.#refreshNow();
    });
  }

  async #refreshNow() {
    const tokens = this.#tokens;
    if (!tokens?.refresh) {
      this.#set(null);
      throw failure('login_required');
    }
    const request = lines(this.#e.refresh(tokens.text));
    try {
      this.#set(await this.#tokenRequest(request, false, true));
    } catch (e) {
      if (e?.code == 'login_required') this.#set(null); // refused: the session is over
      throw e;
    }
  }

  /**
   * When `error` means the session is over and automatic sign-in is on: signs in again by redirect to this page,
   * unless the last automatic sign-in was less than a minute ago (`relogin_loop`). Otherwise returns `error`.
   */
  async #reloginOr(error) {
    const over = error?.code == 'login_required' || error?.code == 'unauthorized';
    // In a frame the login page cannot load (and a popup needs a click): the app must call login() itself.
    if (!over || !this.#o.relogin || framed()) return error;
    if (!reloginAllowed(storageGet('session', this.#key('relogin')))) return failure('relogin_loop');
    try {
      storageSet('session', this.#key('relogin'), String(Date.now()));
      this.#redirect(returnPath(location.href));
    } catch (e) {
      return e;
    }
    await sleep(10_000); // the page is navigating away; if it is still here, something stopped the navigation
    return error;
  }

  async fetch(pathOrUrl, init) {
    const url = this.#e.apiUrl(String(pathOrUrl));
    for (let refreshed = false; ;) {
      const token = await this.accessToken();
      const make = () => {
        // A shallow copy, so the caller's object is left as it was; a redirect (which would carry the token to
        // wherever it points) fails unless the app's init asks for another redirect mode.
        const request = new Request(url, Object.assign({ redirect: 'error' }, init));
        request.headers.set('Authorization', `Bearer ${token}`);
        return request;
      };
      const response = await this.#send(url, make, false);
      const status = response.status;
      if (status == 401 && !refreshed && this.#tokens?.refresh) {
        refreshed = true;
        try {
          await this.refresh();
        } catch (e) {
          throw await this.#reloginOr(e);
        }
        continue;
      }
      if (status == 401 || status == 429 || status >= 500) {
        let body = new Uint8Array();
        try {
          body = new Uint8Array(await response.arrayBuffer());
        } catch {}
        const error = this.#e.apiError(status, response.headers.get('retry-after') ?? undefined, body);
        if (status != 401) throw error;
        this.#set(null);
        throw await this.#reloginOr(error);
      }
      return response;
    }
  }

  async currentUser(expand) {
    const e = text(expand);
    const response = await this.fetch(e ? `/api/v2/users/me?expand=${queryValue(e)}` : '/api/v2/users/me');
    const status = response.status;
    if (status < 200 || status >= 300) throw failure('server_error', undefined, status);
    try {
      return await response.json();
    } catch {
      throw failure('users_me_not_json', undefined, status);
    }
  }

  async logout(options) {
    const token = this.#tokens?.access;
    if (token) {
      try {
        // Best effort, one attempt: the local session ends whatever the server says.
        const url = this.#e.apiUrl('/api/v2/tokens/me');
        await fetch(new Request(url, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } }));
      } catch {}
    }
    this.#set(null);
    storageRemove('session', this.#key('pending'));
    if (options?.sso === true) location.assign(this.#e.logoutUrl(text(options.returnTo) ?? this.#e.redirectUri()));
  }

  onTokenChange(listener) {
    const id = this.#next++;
    this.#listeners.set(id, listener);
    return id;
  }

  offTokenChange(id) {
    this.#listeners.delete(id);
  }

  discardedStorage() {
    return this.#discarded;
  }
}
