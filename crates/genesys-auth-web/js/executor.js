// The browser's one executor of the session engine, shared by both faces: the npm package's class GenesysAuth
// extends it, and the Rust API (genesys_auth_web::Auth) drives it as a wasm-bindgen snippet.
//
// Every decision is made in the WebAssembly engine (the core's session machine): when to refresh, one refresh for
// many callers and tabs, retries, 401 handling, re-login and its loop guard, popup or redirect, which host may
// receive the token, what storage holds. This class feeds it events (a caller, an HTTP answer, the timer, the Web
// Lock, another tab, a popup) and does what it answers: fetch, timers, storage, Web Locks, BroadcastChannel,
// popups, navigation.

export const PREFIX = 'genesys-auth:';
const POPUP = 'genesys-auth-popup';

// The events of Engine.feed (crates/genesys-auth-web/src/engine.rs, module `event`).
const TIMEOUT = 0, LOCATION = 1, WANT_TOKEN = 2, WANT_REFRESH = 3, FETCH = 4, LOGIN = 5, CALLBACK = 8,
  POPUP_CALLBACK = 9, POPUP_CLOSED = 10, POPUP_BLOCKED = 11, LOCK_GRANTED = 12, STORED_CHANGED = 13,
  STORE_FAILED = 14, ANSWER = 15, NETWORK = 16, LOGOUT = 17, KEEP_FRESH = 19, ANNOUNCED = 20;

export const text = (v) => (typeof v == 'string' ? v : undefined);
export const number = (v) => (typeof v == 'number' ? v : undefined);
const message = (e) => String(e?.message ?? e);

function webStorage(kind) {
  try {
    return kind == 'session' ? sessionStorage : kind == 'local' ? localStorage : null;
  } catch {
    return null;
  }
}
export function storageGet(kind, key) {
  try {
    return webStorage(kind)?.getItem(key) ?? undefined;
  } catch {
    return undefined;
  }
}

export function framed() {
  try {
    return window.top !== window;
  } catch {
    return true; // a cross-origin top may be unreadable: then we certainly are framed
  }
}

const encoder = new TextEncoder(), decoder = new TextDecoder();

/** Writes `parts` (texts, bytes or undefined) one after another into the engine's buffer; returns their lengths. */
export function put(w, parts) {
  const bytes = parts.map((p) => (typeof p == 'string' ? encoder.encode(p) : p));
  let at = w.gaIo(bytes.reduce((n, b) => n + (b?.length ?? 0), 0));
  return bytes.map((b) => {
    if (!b) return -1;
    new Uint8Array(w.memory.buffer, at, b.length).set(b);
    at += b.length;
    return b.length;
  });
}

/** The text the engine left in its buffer. */
export function read(w) {
  const n = w.gaLen();
  const at = w.gaIo(n); // before reading memory.buffer: a call into wasm may grow the memory
  return decoder.decode(new Uint8Array(w.memory.buffer, at, n));
}

/** An error as the engine writes it: a GenesysAuthError from its form-encoded fields, or with the Rust API the
 * error's index in the Rust table. */
export function errorFrom(s) {
  if (s[0] != 'c') return +s;
  const fields = new URLSearchParams(s);
  const e = new Error(fields.get('message'));
  e.name = 'GenesysAuthError';
  for (const [k, v] of fields) if (k != 'message') e[k] = k == 'status' || k == 'retryAfterMs' ? +v : v;
  return e;
}

/** The error the engine left in its buffer (see errorFrom). */
export const readError = (w) => errorFrom(read(w));

const defined = (n) => (Number.isNaN(n) ? undefined : n);
const freed = typeof FinalizationRegistry == 'function' ? new FinalizationRegistry(([w, h]) => w.gaFree(h)) : undefined;

/** One session engine: engine `h` of the wasm module whose exports are `w` (crates/genesys-auth-web/src/engine.rs,
 * module `wire`). */
export class Engine {
  #w;
  #h;
  constructor(w, h) {
    this.#w = w;
    this.#h = h;
    freed?.register(this, [w, h]);
  }
  /** A new engine for engineArgs(options); throws its GenesysAuthError. */
  static create(w, [texts, numbers]) {
    const h = w.gaNew(...put(w, texts), ...numbers);
    if (h < 0) throw readError(w);
    return new Engine(w, h);
  }
  feed(kind, n, x, a, b, body) {
    this.#w.gaFeed(this.#h, kind, n, x ?? NaN, ...put(this.#w, [a, b, body]));
  }
  next() {
    return this.#w.gaNext(this.#h) ? read(this.#w) : undefined;
  }
  error() {
    return this.#w.gaError(this.#h) ? readError(this.#w) : undefined;
  }
  discarded() {
    return this.#w.gaDiscarded(this.#h) ? readError(this.#w) : undefined;
  }
  userError(status) {
    this.#w.gaUserError(this.#h, status);
    return readError(this.#w);
  }
  wakeAt() {
    return defined(this.#w.gaWake(this.#h));
  }
  expiresAt() {
    return defined(this.#w.gaExpires(this.#h));
  }
  apiUrl(pathOrUrl) {
    return this.#w.gaApiUrl(this.#h, ...put(this.#w, [pathOrUrl])) ? read(this.#w) : undefined;
  }
  callbackState(href) {
    return this.#w.gaCallbackState(this.#h, ...put(this.#w, [href])) ? read(this.#w) : undefined;
  }
}

/** The Rust API's engine `h`, registered in the module whose exports are `w`. */
export const bind = (w, h) => new Engine(w, h);

/** The engine's texts and numbers for `options` of `GenesysAuth.create` (see `Engine::new`). */
export function engineArgs(o) {
  const r = o.retry && typeof o.retry == 'object' ? o.retry : {};
  const storage = text(o.storage);
  const clientId = text(o.clientId);
  const key = (what) => `${PREFIX}${clientId}:${what}`;
  const skew = number(o.refreshSkewSeconds);
  const texts = [text(o.region), clientId, text(o.redirectUri) ?? location.origin + location.pathname, storage,
    Array.isArray(o.scopes) ? o.scopes.filter(text).join(' ') : text(o.scopes),
    storageGet(storage ?? 'memory', key('tokens')), storageGet('session', key('relogin'))];
  const numbers = [r.maxAttempts, r.baseDelayMs, r.maxDelayMs, r.maxRetryAfterMs, r.maxTotalMs,
    Number.isFinite(skew) && skew >= 0 ? skew * 1000 : NaN, o.reloginOnExpiry !== false, framed(),
    typeof BroadcastChannel == 'function'].map((n) => (typeof n == 'boolean' ? +n : number(n) ?? NaN));
  return [texts, numbers];
}

export class Executor {
  #e;
  #o;
  #waiters = new Map();
  #next = 1;
  #inits = new Map();
  #responses = new Map();
  #listeners = new Map();
  #timer;
  #release;
  #channel;
  #popup;

  /** `engine`: an Engine made from `engineArgs(options)`. */
  constructor(engine, options) {
    this.#e = engine;
    this.#o = { clientId: text(options.clientId), storage: text(options.storage) ?? 'memory',
      onRetry: typeof options.onRetry == 'function' ? options.onRetry : undefined, keepFresh: options.keepFresh === true };
    if (this.#o.keepFresh) engine.feed(KEEP_FRESH, 1);
    if (this.#o.storage == 'local' && typeof BroadcastChannel == 'function') {
      // Other tabs announce new tokens (read from the shared storage, never sent on the channel) and logouts. A
      // tab in another process may see the message before the storage change: a logout needs no read, the engine
      // awaits announced tokens its storage does not show yet, and the storage event brings them once they are
      // visible here (feeding the same tokens twice changes nothing).
      this.#channel = new BroadcastChannel(PREFIX + this.#o.clientId);
      this.#channel.onmessage = (m) => this.#feed(ANNOUNCED, 0, undefined, m.data == 'logout' ? undefined : this.#get('tokens'));
      addEventListener('storage', (e) => {
        if (e.key == this.#key('tokens') && e.storageArea == localStorage) this.#feed(STORED_CHANGED, 0, undefined, e.newValue ?? undefined);
      });
    }
    this.#run();
  }

  /** Where each slot lives: the tokens in the configured storage, the pending login and loop guard in the tab's. */
  #kind(slot) {
    return slot == 'tokens' ? this.#o.storage : 'session';
  }
  #key(slot) {
    return `${PREFIX}${this.#o.clientId}:${slot}`;
  }
  #get(slot) {
    return storageGet(this.#kind(slot), this.#key(slot));
  }

  /** Feeds one event to the engine, then does what it asks. */
  #feed(kind, n, x, a, b, body) {
    this.#e.feed(kind, n, x, a, b, body);
    this.#run();
  }

  /** A caller's wait: the event `kind` for a new waiter; the promise settles when the engine resolves it. */
  #ask(kind, x, a, b, init) {
    return new Promise((resolve, reject) => {
      const w = this.#next++;
      this.#waiters.set(w, { resolve, reject });
      if (init !== undefined) this.#inits.set(w, init);
      this.#e.feed(LOCATION, 0, undefined, location.href);
      this.#feed(kind, w, x, a, b);
    });
  }

  #run() {
    for (let a; (a = this.#e.next()) !== undefined;) this.#do(a.split('\n'));
    clearTimeout(this.#timer);
    const at = this.#e.wakeAt();
    if (at !== undefined) this.#timer = setTimeout(() => this.#feed(TIMEOUT, 0), Math.max(0, at - Date.now()));
  }

  #do([action, a, b, c, d, e, f, g, h]) {
    switch (action) {
      case 'send': return this.#send(+a, b, c, d, e, f, g, h);
      case 'body': return this.#readBody(+a);
      case 'lock': return this.#lock();
      case 'unlock': this.#release?.(); this.#release = undefined; return;
      case 'store': {
        const kind = this.#kind(a);
        try {
          if (kind != 'memory') {
            const s = webStorage(kind);
            if (!s) throw new Error('web storage is not available here');
            s.setItem(this.#key(a), b);
          }
        } catch (err) {
          this.#e.feed(STORE_FAILED, 0, undefined, a, message(err));
        }
        return;
      }
      case 'remove': try { webStorage(this.#kind(a))?.removeItem(this.#key(a)); } catch {} return;
      case 'announce': return this.#channel?.postMessage(a);
      case 'navigate': return location.assign(a);
      case 'address': return history.replaceState(null, '', a);
      case 'popup': return this.#openPopup(a, b);
      case 'close': return this.#closePopup();
      case 'retry': try { this.#o.onRetry?.({ url: a, attempt: +b, status: +c, delayMs: +d }); } catch {} return;
      case 'changed': return this.#notify();
      case 'ok': case 'fail': {
        const error = action == 'fail' ? this.#e.error() : undefined;
        for (const id of a.split(',').map(Number)) {
          const waiter = this.#waiters.get(id);
          this.#waiters.delete(id);
          this.#inits.delete(id);
          const value = b == 'response' ? this.#responses.get(+c)?.response : c;
          for (const [rid, r] of this.#responses) if (r.waiter == id) this.#responses.delete(rid);
          if (action == 'fail') waiter?.reject(error);
          else waiter?.resolve(value);
        }
      }
    }
  }

  /** Sends request `id` as the engine described it and feeds back its answer. */
  async #send(id, kind, url, x, n1, v1, n2, v2) {
    const failed = (err) => this.#feed(NETWORK, id, undefined, message(err));
    let request, waiter;
    try {
      if (kind == 'token') {
        request = new Request(url, { method: 'POST', headers: { [n1]: v1, [n2]: v2 }, body: x, credentials: 'omit', redirect: 'error' });
      } else {
        waiter = +n1;
        const init = kind == 'api' ? this.#inits.get(waiter) : { method: 'DELETE' };
        // A shallow copy, so the caller's object is left as it was; redirects (which would carry the token
        // elsewhere) fail unless the app's init asks for them.
        request = new Request(url, Object.assign({ redirect: 'error' }, init));
        request.headers.set('Authorization', `Bearer ${x}`);
      }
    } catch (err) {
      return failed(err);
    }
    let response;
    try {
      response = await fetch(request);
    } catch (err) {
      return failed(err);
    }
    const retryAfter = response.headers.get('retry-after') ?? undefined;
    if (kind == 'api') {
      this.#responses.set(id, { waiter, response });
      return this.#feed(ANSWER, id, response.status, undefined, retryAfter);
    }
    let body;
    try {
      body = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      return failed(err);
    }
    this.#feed(ANSWER, id, response.status, undefined, retryAfter, body);
  }

  async #readBody(id) {
    const { response } = this.#responses.get(id) ?? {};
    let body = new Uint8Array();
    try {
      body = new Uint8Array(await response.clone().arrayBuffer());
    } catch {}
    this.#feed(ANSWER, id, response?.status ?? 0, undefined, response?.headers.get('retry-after') ?? undefined, body);
  }

  /** Takes the Web Lock shared by the origin's tabs; the engine reads the shared storage again under it. */
  #lock() {
    const granted = () => this.#feed(LOCK_GRANTED, 0, undefined, this.#get('tokens'));
    const locks = navigator.locks;
    if (!locks) return granted();
    let ran = false;
    locks.request(this.#key('refresh'), () => new Promise((release) => {
      ran = true;
      this.#release = release;
      granted();
    })).catch(() => ran || granted()); // refused before it ran (page teardown, exotic browsers): run unlocked
  }

  #openPopup(url, state) {
    const [w, h] = [520, 680];
    const at = (v) => Math.max(0, Math.trunc(v || 0));
    const features = `popup=yes,width=${w},height=${h},left=${at(screenX + (outerWidth - w) / 2)},top=${at(screenY + (outerHeight - h) / 2)}`;
    const win = window.open(url, POPUP, features);
    if (!win) return this.#e.feed(POPUP_BLOCKED, 0);
    const channel = new BroadcastChannel(`${PREFIX}popup:${state}`);
    channel.onmessage = (event) => typeof event.data == 'string' && this.#feed(POPUP_CALLBACK, 0, undefined, event.data);
    // The callback may be posted just before the popup closes itself: a closed popup counts after a grace period.
    let closedSince;
    const poll = setInterval(() => {
      if (!win.closed) return;
      closedSince ??= Date.now();
      if (Date.now() - closedSince >= 100) this.#feed(POPUP_CLOSED, 0);
    }, 50);
    this.#popup = { win, channel, poll };
  }

  #closePopup() {
    const p = this.#popup;
    this.#popup = undefined;
    if (!p) return;
    clearInterval(p.poll);
    p.channel.onmessage = null;
    p.channel.close();
    p.win.close();
  }

  #notify() {
    const state = this.state();
    for (const listener of [...this.#listeners.values()]) {
      try {
        listener(state);
      } catch {}
    }
  }

  /** In the popup: hands the callback URL to the opener (channel named after its state) and closes. */
  #handToOpener(href) {
    const state = window.name == POPUP && this.#e.callbackState(href);
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

  async handleRedirectCallback() {
    const href = location.href;
    if (this.#handToOpener(href)) return undefined;
    return this.#ask(CALLBACK, undefined, href, this.#get('pending'));
  }

  isAuthenticated() {
    return this.#e.expiresAt() !== undefined;
  }

  state() {
    return { authenticated: this.isAuthenticated(), expiresAt: this.#e.expiresAt() ?? null };
  }

  login(options) {
    const o = options ?? {};
    const t = number(o.timeoutMs);
    // The authorize parameters, checked by the engine: Genesys Cloud's, then any others.
    const params = new URLSearchParams();
    const add = (name, value) => value !== undefined && params.append(name, String(value));
    add('login_hint', text(o.loginHint));
    add('prompt', text(o.prompt));
    add('org', text(o.org));
    add('provider', text(o.provider));
    if (o.params && typeof o.params == 'object') for (const [name, value] of Object.entries(o.params)) add(name, value);
    // LOGIN + 1: a popup, LOGIN + 2: a redirect, LOGIN: the engine chooses (a popup inside a frame).
    return this.#ask(LOGIN + (o.popup === true ? 1 : o.popup === false ? 2 : 0), Number.isFinite(t) && t >= 0 ? t : undefined,
      text(o.returnTo), params.size ? params.toString() : undefined);
  }

  loginWithPopup(options) {
    return this.login({ ...options, popup: true });
  }

  isFramed() {
    return framed();
  }

  accessToken() {
    return this.#ask(WANT_TOKEN);
  }

  refresh() {
    return this.#ask(WANT_REFRESH);
  }

  fetch(pathOrUrl, init) {
    return this.#ask(FETCH, undefined, String(pathOrUrl), undefined, init ?? undefined);
  }

  async currentUser(expand) {
    const e = text(expand);
    const response = await this.fetch(e ? `/api/v2/users/me?expand=${encodeURIComponent(e)}` : '/api/v2/users/me');
    const status = response.status;
    if (status < 200 || status >= 300) throw this.#e.userError(status);
    try {
      return await response.json();
    } catch {
      throw this.#e.userError(status);
    }
  }

  logout(options) {
    const sso = options?.sso === true;
    return this.#ask(LOGOUT + sso, undefined, sso ? text(options.returnTo) : undefined);
  }

  /** `pathOrUrl` as a URL on the region's API origin, or undefined when the token must not go there. */
  apiUrl(pathOrUrl) {
    return typeof pathOrUrl == 'string' ? this.#e.apiUrl(pathOrUrl) : undefined;
  }

  /** Refreshes in the background ahead of expiry (on), or only when asked (off). Returns what it was. */
  keepFresh(on = true) {
    const was = this.#o.keepFresh;
    this.#o.keepFresh = on;
    this.#feed(KEEP_FRESH, on ? 1 : 0);
    return was;
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
    return this.#e.discarded();
  }
}
