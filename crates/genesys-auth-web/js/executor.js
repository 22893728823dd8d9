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

export const text = (v) => (typeof v == 'string' ? v : undefined);
export const number = (v) => (typeof v == 'number' ? v : undefined);
const message = (e) => String(e?.message ?? e);

/** The browser storage of an area the engine names: `own` (this tab's), `shared` (the origin's tabs'). */
function webStorage(area) {
  try {
    return area == 'own' ? sessionStorage : area == 'shared' ? localStorage : null;
  } catch {
    return null;
  }
}
/** What `place` ({ area, key }, as the engine names it) holds, or undefined. */
export function storageGet(place) {
  try {
    return (place && webStorage(place.area)?.getItem(place.key)) ?? undefined;
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

/** The text the engine left in its buffer, which is wiped once read (it may hold a token). */
export function read(w) {
  const n = w.gaLen();
  const at = w.gaIo(n); // before reading memory.buffer: a call into wasm may grow the memory
  const text = decoder.decode(new Uint8Array(w.memory.buffer, at, n));
  w.gaWipe();
  return text;
}

/** An error as the engine writes it, form-encoded: a GenesysAuthError from its fields, or with the Rust API the
 * error's place in the Rust table (`index`). */
export function errorFrom(s) {
  const fields = new URLSearchParams(s);
  if (fields.has('index')) return +fields.get('index');
  const e = new Error(fields.get('message'));
  e.name = 'GenesysAuthError';
  for (const [k, v] of fields) if (k != 'message') e[k] = k == 'status' || k == 'retryAfterMs' ? +v : v;
  return e;
}

/** The error the engine left in its buffer (see errorFrom). */
export const readError = (w) => errorFrom(read(w));

const defined = (n) => (Number.isNaN(n) ? undefined : n);
const freed = typeof FinalizationRegistry == 'function' ? new FinalizationRegistry(([w, h]) => w.gaFree(h)) : undefined;

/** The names the engine defines (0: events, 1: actions), in order: the one list JS takes its codes from. */
export const names = (w, which) => (w.gaNames(which) ? read(w).split('\n') : []);

/** One session engine: engine `h` of the wasm module whose exports are `w` (crates/genesys-auth-web/src/engine.rs,
 * module `wire`). `ev`: the engine's events by name, their numbers as the engine defines them. */
export class Engine {
  #w;
  #h;
  constructor(w, h) {
    this.#w = w;
    this.#h = h;
    this.ev = Object.fromEntries(names(w, 0).map((name, i) => [name, i]));
    freed?.register(this, [w, h]);
  }
  /** A new engine for engineOptions(options); throws its GenesysAuthError. */
  static create(w, options) {
    const h = w.gaNew(...put(w, [options]));
    if (h < 0) throw readError(w);
    return new Engine(w, h);
  }
  /** Feeds the event named `name` (module `event` of engine.rs). */
  feed(name, n, x, a, b, body) {
    const kind = this.ev[name];
    // A name the engine does not define is a bug here, not event 0.
    if (kind === undefined) throw new TypeError(`genesys-auth: the engine has no event ${name}`);
    this.#w.gaFeed(this.#h, kind, n ?? 0, x ?? NaN, ...put(this.#w, [a, b, body]));
  }
  /** Where each slot is kept ({ tokens: { area, key }, ... }, only the stored ones) and the shared name. */
  places() {
    const lines = this.#w.gaPlaces(this.#h) ? read(this.#w).split('\n') : [];
    const shared = lines.pop();
    const places = {};
    for (let i = 0; i + 2 < lines.length; i += 3) places[lines[i]] = { area: lines[i + 1], key: lines[i + 2] };
    return { places, shared };
  }
  shouldAutoLogin() {
    return !!this.#w.gaAutoLogin(this.#h);
  }
  isSignedOut() {
    return !!this.#w.gaSignedOut(this.#h);
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

/** The names of the actions the executor handles (a test compares them with the engine's list). */
export const handledActions = () => Object.keys(Executor.actions);

/** The Rust API's engine `h`, registered in the module whose exports are `w`. */
export const bind = (w, h) => new Engine(w, h);

/** The engine's options (JSON, see `Engine::new`) for `options` of `GenesysAuth.create`: only what it reads,
 * whole numbers where it takes numbers. */
export function engineOptions(o) {
  const r = o.retry && typeof o.retry == 'object' ? o.retry : {};
  const whole = (v) => (typeof v == 'number' && Number.isFinite(v) && v >= 0 ? Math.floor(v) : undefined);
  return JSON.stringify({
    region: text(o.region), clientId: text(o.clientId), storage: text(o.storage),
    redirectUri: text(o.redirectUri) ?? location.origin + location.pathname,
    scope: Array.isArray(o.scopes) ? o.scopes.filter(text).join(' ') : text(o.scopes),
    retry: { maxAttempts: whole(r.maxAttempts), baseDelayMs: whole(r.baseDelayMs), maxDelayMs: whole(r.maxDelayMs),
      maxRetryAfterMs: whole(r.maxRetryAfterMs), maxTotalMs: whole(r.maxTotalMs) },
    refreshSkewMs: whole(number(o.refreshSkewSeconds) * 1000), relogin: o.reloginOnExpiry !== false,
    framed: framed(), popups: typeof BroadcastChannel == 'function',
  });
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
  #tokens;
  #pending;
  #aborts = new Map();

  /** `engine`: an Engine made from `engineOptions(options)`. */
  constructor(engine, options) {
    this.#e = engine;
    const hook = (f) => (typeof f == 'function' ? f : undefined);
    this.#o = { onRetry: hook(options.onRetry), onReport: hook(options.onReport), keepFresh: options.keepFresh === true };
    const { places, shared } = engine.places();
    this.#tokens = places.tokens;
    if (this.#o.keepFresh) engine.feed('keep_fresh', 1);
    engine.feed('restored', 0, storageGet(places['signed-out']) === undefined ? 0 : 1, storageGet(places.tokens),
      storageGet(places.relogin));
    if (places.tokens?.area == 'shared' && typeof BroadcastChannel == 'function') {
      // Other tabs announce new tokens (read from the shared storage, never sent on the channel) and logouts: the
      // engine decides from what storage holds. A tab in another process may see the message before the storage
      // change: the engine awaits announced tokens its storage does not show yet, and the storage event brings
      // them (or the removal) once they are visible here.
      this.#channel = new BroadcastChannel(shared);
      this.#channel.onmessage = (m) => this.#feed(m.data == 'logout' ? 'announced_logout' : 'announced_tokens', 0,
        undefined, this.#get());
      addEventListener('storage', (e) => {
        if (e.key == this.#tokens.key && e.storageArea == localStorage) this.#feed('stored_changed', 0, undefined, e.newValue ?? undefined);
      });
    }
    this.#pending = places.pending;
    this.#run();
  }

  /** The stored tokens, where the engine keeps them. */
  #get() {
    return storageGet(this.#tokens);
  }

  /** Feeds one event to the engine, then does what it asks. */
  #feed(name, n, x, a, b, body) {
    this.#e.feed(name, n, x, a, b, body);
    this.#run();
  }

  /** A caller's wait: the event `kind` for a new waiter; the promise settles when the engine resolves it. */
  #ask(name, x, a, b, init) {
    return new Promise((resolve, reject) => {
      const w = this.#next++;
      this.#waiters.set(w, { resolve, reject });
      if (init !== undefined) this.#inits.set(w, init);
      this.#e.feed('location', 0, undefined, location.href);
      this.#feed(name, w, x, a, b);
    });
  }

  #run() {
    for (let a; (a = this.#e.next()) !== undefined;) {
      const [name, ...fields] = a.split('\n');
      Executor.actions[name].call(this, ...fields);
    }
    clearTimeout(this.#timer);
    const at = this.#e.wakeAt();
    if (at !== undefined) this.#timer = setTimeout(() => this.#feed('timeout'), Math.max(0, at - Date.now()));
  }

  /** What the executor does for each action of the engine (the names of `ACTIONS` in engine.rs; a test checks
   * that every one is here). `this` is the executor. */
  static actions = {
    send(id, kind, url, x, n1, v1, n2, v2) { this.#send(+id, kind, url, x, n1, v1, n2, v2); },
    abort(id) { this.#aborts.get(+id)?.abort(); },
    body(id) { this.#readBody(+id); },
    lock(name) { this.#lock(name); },
    unlock() { this.#release?.(); this.#release = undefined; },
    store(slot, area, key, value) {
      try {
        const s = webStorage(area);
        if (!s) throw new Error('web storage is not available here');
        s.setItem(key, value);
      } catch (err) {
        this.#e.feed('store_failed', 0, undefined, slot, message(err));
      }
    },
    remove(slot, area, key) { try { webStorage(area)?.removeItem(key); } catch {} },
    announce(what) { this.#channel?.postMessage(what); },
    navigate(url) { location.assign(url); },
    address(url) { history.replaceState(null, '', url); },
    popup(url, state) { this.#openPopup(url, state); },
    close() { this.#closePopup(); },
    retry(url, attempt, status, delay) { try { this.#o.onRetry?.({ url, attempt: +attempt, status: +status, delayMs: +delay }); } catch {} },
    changed() { this.#notify(); },
    report() { const e = this.#e.error(); try { this.#o.onReport?.(e); } catch {} },
    ok(waiters, kind, value) { this.#settle(waiters, true, kind, value); },
    fail(waiters) { this.#settle(waiters, false); },
  };

  /** Ends the waits of `waiters` (comma-separated): with `kind` and `value` when they succeed (`ok`), else each
   * with its own error object. */
  #settle(waiters, ok, kind, value) {
    for (const id of waiters.split(',').map(Number)) {
      const waiter = this.#waiters.get(id);
      this.#waiters.delete(id);
      this.#inits.delete(id);
      const result = kind == 'response' ? this.#responses.get(+value)?.response : value;
      for (const [rid, r] of this.#responses) if (r.waiter == id) this.#responses.delete(rid);
      if (!ok) waiter?.reject(this.#e.error());
      else waiter?.resolve(result);
    }
  }

  /** Sends request `id` as the engine described it and feeds back its answer. */
  async #send(id, kind, url, x, n1, v1, n2, v2) {
    const failed = (err) => this.#feed('network', id, undefined, message(err));
    // The engine may give the request up (no answer in time): then it is dropped here.
    const ctl = new AbortController();
    this.#aborts.set(id, ctl);
    const done = () => this.#aborts.delete(id);
    let request, waiter;
    try {
      if (kind == 'token') {
        request = new Request(url, { method: 'POST', headers: { [n1]: v1, [n2]: v2 }, body: x, credentials: 'omit', redirect: 'manual', signal: ctl.signal });
      } else {
        waiter = +n1;
        const init = kind == 'api' ? this.#inits.get(waiter) : { method: 'DELETE' };
        // A shallow copy, so the caller's object is left as it was; redirects (which would carry the token
        // elsewhere) are not followed unless the app's init asks for them: the engine hears of them.
        const own = init?.signal;
        const signal = own && typeof AbortSignal.any == 'function' ? AbortSignal.any([own, ctl.signal]) : own ?? ctl.signal;
        request = new Request(url, Object.assign({ redirect: 'manual' }, init, { signal }));
        request.headers.set('Authorization', `Bearer ${x}`);
      }
    } catch (err) {
      done();
      return failed(err);
    }
    let response;
    try {
      response = await fetch(request);
    } catch (err) {
      done();
      return failed(err);
    }
    if (response.type == 'opaqueredirect') { done(); return this.#feed('redirected', id); }
    const retryAfter = response.headers.get('retry-after') ?? undefined;
    if (kind == 'api') {
      done();
      this.#responses.set(id, { waiter, response });
      return this.#feed('answer', id, response.status, undefined, retryAfter);
    }
    let body;
    try {
      body = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      return failed(err);
    } finally {
      done();
    }
    this.#feed('answer', id, response.status, undefined, retryAfter, body);
  }

  async #readBody(id) {
    const { response } = this.#responses.get(id) ?? {};
    let body = new Uint8Array();
    try {
      body = new Uint8Array(await response.clone().arrayBuffer());
    } catch {}
    this.#feed('answer', id, response?.status ?? 0, undefined, response?.headers.get('retry-after') ?? undefined, body);
  }

  /** Takes the Web Lock `name` shared by the origin's tabs; the engine reads the shared storage again under it. A
   * lock that cannot be taken is the engine's to decide on. */
  #lock(name) {
    const unavailable = (err) => this.#feed('lock_unavailable', 0, undefined, this.#get(), message(err));
    const locks = navigator.locks;
    if (!locks) return unavailable('this browser has no Web Locks API');
    let ran = false;
    locks.request(name, () => new Promise((release) => {
      ran = true;
      this.#release = release;
      this.#feed('lock_granted', 0, undefined, this.#get());
    })).catch((err) => ran || unavailable(err)); // refused before it ran (page teardown, exotic browsers)
  }

  #openPopup(url, state) {
    const [w, h] = [520, 680];
    const at = (v) => Math.max(0, Math.trunc(v || 0));
    const features = `popup=yes,width=${w},height=${h},left=${at(screenX + (outerWidth - w) / 2)},top=${at(screenY + (outerHeight - h) / 2)}`;
    const win = window.open(url, POPUP, features);
    if (!win) return this.#e.feed('popup_blocked');
    const channel = new BroadcastChannel(`${PREFIX}popup:${state}`);
    channel.onmessage = (event) => typeof event.data == 'string' && this.#feed('popup_callback', 0, undefined, event.data);
    // The callback may be posted just before the popup closes itself: a closed popup counts after a grace period.
    let closedSince;
    const poll = setInterval(() => {
      if (!win.closed) return;
      closedSince ??= Date.now();
      if (Date.now() - closedSince >= 100) this.#feed('popup_closed');
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
    return this.#ask('callback', undefined, href, storageGet(this.#pending));
  }

  isAuthenticated() {
    return this.#e.expiresAt() !== undefined;
  }

  /** True after the user signed out (here, in another tab, or before a reload), until login() is called. */
  isSignedOut() {
    return this.#e.isSignedOut();
  }

  /** Whether a guard in front of a protected view may start a login by itself now (the engine's answer: not
   * signed in, not signed out by the user, automatic sign-in allowed, not in a frame, no sign-in moments ago). */
  shouldAutoLogin() {
    return this.#e.shouldAutoLogin();
  }

  state() {
    return { authenticated: this.isAuthenticated(), expiresAt: this.#e.expiresAt() ?? null, signedOut: this.isSignedOut() };
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
    // A popup, a redirect, or the engine chooses (a popup inside a frame).
    return this.#ask(o.popup === true ? 'login_popup' : o.popup === false ? 'login_redirect' : 'login', Number.isFinite(t) && t >= 0 ? t : undefined,
      text(o.returnTo), params.size ? params.toString() : undefined);
  }

  loginWithPopup(options) {
    return this.login({ ...options, popup: true });
  }

  isFramed() {
    return framed();
  }

  accessToken() {
    return this.#ask('want_token');
  }

  refresh() {
    return this.#ask('want_refresh');
  }

  fetch(pathOrUrl, init) {
    return this.#ask('fetch', undefined, String(pathOrUrl), undefined, init ?? undefined);
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
    return this.#ask(sso ? 'logout_sso' : 'logout', undefined, sso ? text(options.returnTo) : undefined);
  }

  /** `pathOrUrl` as a URL on the region's API origin, or undefined when the token must not go there. */
  apiUrl(pathOrUrl) {
    return typeof pathOrUrl == 'string' ? this.#e.apiUrl(pathOrUrl) : undefined;
  }

  /** Refreshes in the background ahead of expiry (on), or only when asked (off). Returns what it was. */
  keepFresh(on = true) {
    const was = this.#o.keepFresh;
    this.#o.keepFresh = on;
    this.#feed('keep_fresh', on ? 1 : 0);
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
