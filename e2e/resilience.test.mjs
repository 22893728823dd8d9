// Resilience and attacks, in Chromium against the emulator's fault injection: every case ends in a typed error
// (or a safe outcome), nothing stored, a clear message, and no uncaught exception or console error.
import { createServer } from 'node:http';
import { APP, EMU, KEY, admin, assert, callbackUrl, eq, newPage, noProblems, requests, run, screen, shot, signIn, storageKeys, test, tokenPosts, waitFor } from './harness.mjs';

/** The error screen shows `code` (and `oauthError`), with a message that says what to do; nothing stored. */
async function expectError(page, code, { oauthError, shotName } = {}) {
  eq(await screen(page), 'error', 'screen');
  const err = await page.evaluate(() => window.demo.error);
  eq(err.code, code, 'error code');
  if (oauthError) eq(err.oauthError, oauthError, 'oauth error');
  assert(err.message && err.message.length > 40 && /again|check|retry|use|sign in/i.test(err.message), `clear message: ${err.message}`);
  // The automatic sign-in marker (a timestamp, no secret) may stay; tokens and pending logins may not.
  eq((await storageKeys(page)).filter((k) => !k.endsWith(':relogin')).join(), '', 'nothing in sessionStorage');
  eq((await storageKeys(page, 'localStorage')).join(), '', 'nothing in localStorage');
  assert(!new URL(page.url()).searchParams.has('code'), 'code removed from the address bar');
  if (shotName) await shot(page, shotName);
  noProblems(page);
  return err;
}

async function freshLoginPage(query = '') {
  const page = await newPage();
  await page.goto(`${APP}${query}`);
  eq(await screen(page), 'login', 'first screen');
  return page;
}

/** Rewrites this tab's parked pending login (as a tampering script could), then loads `url`. */
async function withPending(page, url, edit) {
  await page.goto(`${APP}style.css`);
  await page.evaluate(([k, e]) => {
    const p = new URLSearchParams(sessionStorage.getItem(k));
    for (const [name, value] of Object.entries(e)) p.set(name, value);
    sessionStorage.setItem(k, p.toString());
  }, [KEY('pending'), edit]);
  await page.goto(url);
}

// --- The callback: state, pending login, code ---------------------------------------------------------------

test('tampered state → state_mismatch, no token request', async () => {
  const page = await freshLoginPage();
  const cb = new URL(await callbackUrl(page));
  cb.searchParams.set('state', 'forged-state-value');
  await page.goto(cb.href);
  await expectError(page, 'state_mismatch');
  eq((await tokenPosts()).length, 0, 'token requests');
});

test('missing state → missing_parameter', async () => {
  const page = await freshLoginPage();
  const cb = new URL(await callbackUrl(page));
  cb.searchParams.delete('state');
  await page.goto(cb.href);
  await expectError(page, 'missing_parameter');
  eq((await tokenPosts()).length, 0, 'token requests');
});

test('duplicated state → duplicate_parameter', async () => {
  const page = await freshLoginPage();
  const cb = await callbackUrl(page);
  await page.goto(`${cb}&state=${new URL(cb).searchParams.get('state')}`);
  await expectError(page, 'duplicate_parameter');
  eq((await tokenPosts()).length, 0, 'token requests');
});

test("a callback for another tab's login → no_pending_login", async () => {
  const tabA = await freshLoginPage();
  const cb = await callbackUrl(tabA);
  const tabB = await newPage(tabA.context());
  await tabB.goto(cb);
  await expectError(tabB, 'no_pending_login');
  eq((await tokenPosts()).length, 0, 'token requests');
});

test('replayed code → invalid_grant', async () => {
  const page = await freshLoginPage();
  const cb = await callbackUrl(page);
  await page.goto(`${APP}style.css`);
  const pending = await page.evaluate((k) => sessionStorage.getItem(k), KEY('pending'));
  await page.goto(cb);
  eq(await screen(page), 'dashboard', 'first use');
  const replay = await newPage();
  await replay.goto(`${APP}style.css`);
  await replay.evaluate(([k, v]) => sessionStorage.setItem(k, v), [KEY('pending'), pending]);
  await replay.goto(cb);
  await expectError(replay, 'oauth_error', { oauthError: 'invalid_grant' });
});

test('wrong verifier → invalid_grant', async () => {
  const page = await freshLoginPage();
  const cb = await callbackUrl(page);
  await withPending(page, cb, { verifier: 'x'.repeat(64) });
  await expectError(page, 'oauth_error', { oauthError: 'invalid_grant' });
});

test('a parked login rewritten for another redirect URI or token endpoint → corrupt_storage, nothing sent', async () => {
  for (const edit of [{ redirect_uri: `${APP}callback.html` }, { token_url: 'https://evil.example/oauth/token' }, { client_id: 'other' }]) {
    const page = await freshLoginPage();
    const cb = await callbackUrl(page);
    await withPending(page, cb, edit);
    await expectError(page, 'corrupt_storage');
  }
  eq((await tokenPosts()).length, 0, 'no token request left the page');
});

test('access_denied → authorization_error', async () => {
  const page = await freshLoginPage();
  eq(await signIn(page, { decision: 'deny' }), 'error', 'after deny');
  await expectError(page, 'authorization_error', { oauthError: 'access_denied' });
});

for (const evil of ['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)']) {
  test(`return path ${evil} is dropped: the app stays on its own origin`, async () => {
    const page = await freshLoginPage();
    await page.evaluate((r) => window.demo.auth.login({ returnTo: r }), evil);
    await page.waitForURL(/\/oauth\/authorize/);
    await page.click('#approve');
    eq(await screen(page), 'dashboard', 'signed in');
    const url = new URL(page.url());
    eq(url.origin, new URL(APP).origin, 'origin');
    eq(url.pathname, '/', 'path');
    noProblems(page);
  });
}

// --- The token endpoint misbehaves --------------------------------------------------------------------------

const tokenFault = (fault) => admin('POST', 'faults', { route: '/oauth/token', method: 'POST', ...fault });

test('token endpoint answers an HTML 502 page → server_error, code not retried', async () => {
  const page = await freshLoginPage();
  await tokenFault({ status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', content_type: 'text/html' });
  await signIn(page);
  const err = await expectError(page, 'server_error');
  assert(err.message.includes('502'), err.message);
  eq((await tokenPosts()).length, 1, 'a request that spent the code is never retried');
});

test('token endpoint answers truncated JSON → malformed_response', async () => {
  const page = await freshLoginPage();
  await tokenFault({ malformed_json: true });
  await signIn(page);
  await expectError(page, 'malformed_response');
});

test('token endpoint answers JSON without access_token → malformed_response', async () => {
  const page = await freshLoginPage();
  await tokenFault({ status: 200, body: '{"token_type":"bearer","expires_in":3600}' });
  await signIn(page);
  await expectError(page, 'malformed_response');
});

test('negative expires_in → malformed_response', async () => {
  const page = await freshLoginPage();
  await tokenFault({ status: 200, body: '{"access_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","token_type":"bearer","expires_in":-3600}' });
  await signIn(page);
  const err = await expectError(page, 'malformed_response');
  assert(!err.message.includes('AAAAAAAAAAAAAAAAAAAA'), 'no token in the message');
});

test('absurd expires_in → malformed_response', async () => {
  const page = await freshLoginPage();
  await tokenFault({ status: 200, body: '{"access_token":"abc","token_type":"bearer","expires_in":99999999999}' });
  await signIn(page);
  await expectError(page, 'malformed_response');
});

test('dropped connection on the code exchange → network_error, not retried', async () => {
  const page = await freshLoginPage();
  await tokenFault({ drop_connection: true });
  await signIn(page);
  await expectError(page, 'network_error');
  eq((await tokenPosts()).length, 1, 'one attempt');
});

test('429 with Retry-After on the code exchange is honoured: retried after the wait, then signed in', async () => {
  const page = await freshLoginPage();
  await tokenFault({ status: 429, retry_after: '1' });
  const started = Date.now();
  await signIn(page);
  eq(await screen(page), 'dashboard', 'signed in after the retry');
  assert(Date.now() - started >= 1000, 'waited for Retry-After');
  eq((await tokenPosts()).map((r) => r.status).join(), '429,200', 'token requests');
  const retries = await page.evaluate(() => window.demo.retries);
  eq(retries.length, 1, 'the app observed one retry');
  eq(retries[0].delayMs, 1000, 'delay from Retry-After');
  noProblems(page);
});

// --- The API misbehaves -------------------------------------------------------------------------------------

test('5xx burst on the API is retried with backoff: the profile appears', async () => {
  const page = await freshLoginPage();
  await admin('POST', 'faults', { route: '/api/v2/users/me', status: 503, times: 2 });
  await signIn(page);
  eq(await screen(page), 'dashboard', 'dashboard after retries');
  eq((await requests()).filter((r) => r.path === '/api/v2/users/me' && r.method === 'GET').map((r) => r.status).join(), '503,503,200', 'attempts');
  eq((await page.evaluate(() => window.demo.retries)).length, 2, 'retries observed');
  noProblems(page);
});

test('an API redirect to another origin is not followed with the token', async () => {
  const page = await freshLoginPage();
  eq(await signIn(page), 'dashboard', 'signed in');
  // A real listener on another origin: what reaches it is what the browser sent there (Playwright's own request
  // events also list a redirect target that the browser never asks for).
  const reached = [];
  const elsewhere = createServer((req, res) => { reached.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`); res.end(); });
  await new Promise((ok) => elsewhere.listen(0, '127.0.0.2', ok));
  const target = `http://127.0.0.2:${elsewhere.address().port}/steal`;
  try {
    // Every answer of this route redirects (times 0), whoever asks first.
    await admin('POST', 'faults', { route: '/api/v2/users/me', status: 302, location: target, body: '', times: 0 });
    const gets = async () => (await requests()).filter((r) => r.path === '/api/v2/users/me' && r.method === 'GET').length;
    const before = await gets();
    const outcome = await page.evaluate(() => window.demo.auth.fetch('/api/v2/users/me').then((r) => `answered ${r.status}`, (e) => e.code));
    eq(outcome, 'redirected', 'the redirect is refused with its own code');
    await new Promise((r) => setTimeout(r, 200));
    eq(reached.join(), '', 'nothing was sent to the other origin');
    eq((await gets()) - before, 1, 'the Bearer went to the redirecting endpoint once, not retried');
  } finally {
    elsewhere.close();
  }
});

test('dropped connection on the API is retried', async () => {
  const page = await freshLoginPage();
  // Two drops: Chromium silently re-sends a GET once when a reused connection closes without an answer, so a
  // single drop would never reach the library.
  await admin('POST', 'faults', { route: '/api/v2/users/me', drop_connection: true, times: 2 });
  await signIn(page);
  eq(await screen(page), 'dashboard', 'dashboard after a retry');
  eq((await requests()).filter((r) => r.path === '/api/v2/users/me' && r.method === 'GET').map((r) => r.status).join(), '0,0,200', 'dropped attempts, then an answer');
  const retries = await page.evaluate(() => window.demo.retries);
  assert(retries.length >= 1 && retries.every((r) => r.status === 0), `the library retried after no answer: ${JSON.stringify(retries)}`);
  noProblems(page);
});

test('429 storm on the API → rate_limited after bounded retries', async () => {
  const page = await freshLoginPage();
  await admin('POST', 'faults', { route: '/api/v2/users/me', status: 429, retry_after: '1', times: 0 });
  await signIn(page);
  eq(await screen(page), 'error', 'error screen');
  const err = await page.evaluate(() => window.demo.error);
  eq(err.code, 'rate_limited', 'code');
  eq((await requests()).filter((r) => r.path === '/api/v2/users/me' && r.method === 'GET').length, 4, 'attempts bounded by the policy');
  assert(err.message.includes('retry'), err.message);
  noProblems(page);
});

// --- Sessions that end early ----------------------------------------------------------------------------------

test('idle-timeout 401 → refresh refused (family revoked) → silent re-login back to the app', async () => {
  const page = await freshLoginPage('?storage=session');
  await signIn(page);
  await admin('PATCH', 'config', { idle_timeout_s: 300 });
  await admin('POST', 'clock', { advance_ms: 301_000 });
  await page.click('#reload-profile');
  await waitFor(async () => (await tokenPosts('authorization_code')).length === 2, 'the second sign-in');
  eq(await screen(page, 'dashboard'), 'dashboard', 'back on the dashboard');
  eq((await tokenPosts('authorization_code')).length, 2, 'signed in again once');
  eq((await tokenPosts('refresh_token')).map((r) => r.error || r.status).join(), 'invalid_grant', 'the refresh was refused');
  noProblems(page);
});

test('refresh policy none: an expired token leads to a silent re-login, not an error', async () => {
  await admin('PATCH', 'config', { refresh: { policy: 'none' }, token_duration_s: 300 });
  const page = await freshLoginPage('?storage=session');
  await signIn(page);
  await admin('POST', 'clock', { advance_ms: 301_000 });
  await page.click('#reload-profile');
  await waitFor(async () => (await tokenPosts('authorization_code')).length === 2, 'the second sign-in');
  eq(await screen(page, 'dashboard'), 'dashboard', 'dashboard again');
  eq((await tokenPosts('authorization_code')).length, 2, 'second sign-in');
  eq((await tokenPosts('refresh_token')).length, 0, 'no refresh attempted without a refresh token');
  noProblems(page);
});

test('inactivity timeout on: no refresh token, the valid token is used to its end, then a silent re-login', async () => {
  // Genesys Cloud issues no refresh token for code authorization while the org's inactivity timeout is on.
  await admin('PATCH', 'config', { idle_timeout_s: 300, token_duration_s: 300 });
  const page = await newPage();
  // The page's clock and the emulator's move together: the library sees the token near its end.
  await page.clock.install();
  await page.goto(`${APP}?storage=session`);
  await signIn(page);
  const advance = async (ms) => { await admin('POST', 'clock', { advance_ms: ms }); await page.clock.fastForward(ms); };
  await advance(250_000);
  await page.click('#reload-profile');
  await page.waitForFunction(() => window.demo.user?.name === 'Alex Agent');
  const meCalls = async () => (await requests()).filter((r) => r.path.startsWith('/api/v2/users/me') && r.status === 200).length;
  await waitFor(async () => (await meCalls()) === 2, 'the profile loaded again with the same token');
  eq((await tokenPosts('refresh_token')).length, 0, 'no refresh inside the skew: there is no refresh token to use');
  eq((await tokenPosts('authorization_code')).length, 1, 'the token still valid for 50 s is used, no re-login yet');
  await advance(60_000);
  await page.click('#reload-profile');
  await waitFor(async () => (await tokenPosts('authorization_code')).length === 2, 'the second sign-in');
  eq(await screen(page, 'dashboard'), 'dashboard', 'back on the dashboard');
  eq((await tokenPosts('refresh_token')).length, 0, 'never a refresh');
  noProblems(page);
});

test('revoked token → refresh refused → silent re-login', async () => {
  const page = await freshLoginPage('?storage=session');
  await signIn(page);
  const token = await page.evaluate(() => window.demo.auth.accessToken());
  eq((await fetch(`${EMU}/api/v2/tokens/me`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status, 204, 'revoked');
  await page.click('#reload-profile');
  await waitFor(async () => (await tokenPosts('authorization_code')).length === 2, 'the second sign-in');
  eq(await screen(page, 'dashboard'), 'dashboard', 'dashboard again');
  noProblems(page);
});

test('a failed silent re-login ends on the error screen, not in a redirect loop', async () => {
  const page = await freshLoginPage('?storage=session');
  await signIn(page);
  await admin('POST', 'faults', { route: '/api/v2/users/me', status: 401, body: '{"message":"x","code":"bad.credentials","status":401}', times: 0 });
  await page.click('#reload-profile');
  await waitFor(async () => (await tokenPosts('authorization_code')).length === 2, 'the automatic sign-in');
  await page.waitForFunction(() => window.demo && window.demo.screen === 'error', null, { timeout: 10000 });
  const err = await expectError(page, 'relogin_loop', { shotName: '6-error-relogin-loop' });
  assert(/manually/.test(err.message), err.message);
  eq((await tokenPosts('authorization_code')).length, 2, 'exactly one automatic sign-in');
});

// --- Storage is untrusted -----------------------------------------------------------------------------------

for (const [what, value] of [['tampered', 'v=1&access=%3Cscript%3E&expires_at=soon&token_type=mac'], ['oversized', 'v=1&access=' + 'A'.repeat(300_000)]]) {
  test(`${what} content in storage is discarded, not trusted`, async () => {
    const page = await newPage();
    await page.goto(`${APP}style.css`);
    await page.evaluate(([k, v]) => localStorage.setItem(k, v), [KEY('tokens'), value]);
    await page.goto(`${APP}?storage=local`);
    eq(await screen(page), 'login', 'not signed in');
    eq(await page.evaluate(() => window.demo.discarded), 'corrupt_storage', 'reported');
    assert(await page.isVisible('#notice'), 'the user is told');
    eq((await storageKeys(page, 'localStorage')).join(), '', 'removed from storage');
    eq((await requests()).length, 0, 'nothing was sent anywhere');
    noProblems(page);
  });
}

// --- One refresh for many callers, many tabs ------------------------------------------------------------------

const timeTravel = (page, ms) => page.evaluate((d) => { const real = Date.now.bind(Date); Date.now = () => real() + d; }, ms);

test('single flight: 20 concurrent accessToken() calls with an expiring token → one refresh', async () => {
  const page = await freshLoginPage('?storage=session');
  await signIn(page);
  await timeTravel(page, 86_400_000);
  const tokens = await page.evaluate(() => Promise.all(Array.from({ length: 20 }, () => window.demo.auth.accessToken())));
  eq(new Set(tokens).size, 1, 'all callers got the same token');
  eq((await tokenPosts('refresh_token')).length, 1, 'refresh requests');
  noProblems(page);
});

test('4-tab refresh storm with rotation + reuse detection: 0 invalid_grant, 0 forced logouts', async () => {
  const first = await freshLoginPage('?storage=local');
  await signIn(first);
  const tabs = [first];
  for (let i = 0; i < 3; i++) {
    const t = await newPage(first.context());
    await t.goto(APP);
    eq(await screen(t), 'dashboard', `tab ${i + 2} shares the session`);
    tabs.push(t);
  }
  for (const t of tabs) await timeTravel(t, 86_400_000);
  const results = await Promise.all(tabs.map((t) => t.evaluate(() =>
    Promise.all(Array.from({ length: 5 }, () => window.demo.auth.accessToken().then((x) => x, (e) => `error:${e.code}`))))));
  const flat = results.flat();
  assert(!flat.some((r) => r.startsWith('error:')), `errors: ${flat.filter((r) => r.startsWith('error:'))}`);
  const refreshes = await tokenPosts('refresh_token');
  eq(refreshes.filter((r) => r.error === 'invalid_grant').length, 0, 'invalid_grant answers');
  eq(refreshes.length, 1, 'refresh requests for 4 tabs x 5 callers (the Web Lock lets one tab refresh, the others take its token)');
  for (const t of tabs) eq(await t.evaluate(() => window.demo.auth.isAuthenticated()), true, 'still signed in');
  const finalTokens = await Promise.all(tabs.map((t) => t.evaluate(() => window.demo.auth.accessToken())));
  eq(new Set(finalTokens).size, 1, 'all tabs hold the same token');
  for (const t of tabs) noProblems(t);
});

test('logout in one tab logs out the others', async () => {
  const first = await freshLoginPage('?storage=local');
  await signIn(first);
  const second = await newPage(first.context());
  await second.goto(APP);
  eq(await screen(second), 'dashboard', 'second tab signed in');
  await first.click('#logout-button');
  eq(await screen(second, 'login'), 'login', 'second tab back to login');
  eq(await second.evaluate(() => window.demo.auth.isAuthenticated()), false, 'second tab signed out');
  eq(await second.evaluate((k) => localStorage.getItem(k), KEY('tokens')), 'signed-out', 'no tokens in shared storage: the sign-out mark');
  noProblems(second);
});

// --- A sign-out sticks: work in flight cannot undo it ------------------------------------------------------------

/** The refresh answers `ms` late from now on. */
const slowRefresh = (ms) => admin('POST', 'faults', { route: '/oauth/token', method: 'POST', delay_ms: ms, times: 0 });
const revocations = async () => (await requests()).filter((r) => r.method === 'DELETE' && r.path === '/api/v2/tokens/me').length;
const authorizes = async () => (await requests()).filter((r) => r.path === '/oauth/authorize' && r.method === 'GET').length;

test('logout during a late refresh (session storage): signed out for good, storage empty, the late tokens revoked', async () => {
  const page = await freshLoginPage('?storage=session');
  await signIn(page);
  await slowRefresh(1500);
  const before = await authorizes();
  const outcome = await page.evaluate(async () => {
    const refresh = window.demo.auth.refresh().then(() => 'refreshed', (e) => e.code);
    await new Promise((r) => setTimeout(r, 300)); // the refresh is on the wire
    await window.demo.auth.logout();
    return { refresh: await refresh, authenticated: window.demo.auth.isAuthenticated(), signedOut: window.demo.auth.isSignedOut() };
  });
  eq(outcome.refresh, 'signed_out', 'the refresh caller hears of the sign-out');
  await new Promise((r) => setTimeout(r, 1800)); // the late answer has come
  eq(await page.evaluate(() => window.demo.auth.isAuthenticated()), false, 'still signed out after the late answer');
  eq((await storageKeys(page)).filter((k) => k.endsWith(':tokens')).join(), '', 'no tokens in sessionStorage');
  eq(await revocations(), 2, 'the session token and the late one revoked');
  await page.reload();
  eq(await screen(page), 'login', 'a reload is signed out');
  eq(await page.evaluate(() => [window.demo.auth.isSignedOut(), window.demo.auth.shouldAutoLogin()].join()), 'true,false', 'the sign-out survives the reload');
  eq(await authorizes(), before, 'no request to /oauth/authorize');
  noProblems(page);
});

test('two tabs on local storage, one refreshing, one waiting, one signs out: signed out everywhere, storage empty', async () => {
  const a = await freshLoginPage('?storage=local');
  await signIn(a);
  const b = await newPage(a.context());
  await b.goto(APP);
  eq(await screen(b), 'dashboard', 'tab b shares the session');
  await slowRefresh(1500);
  const before = await authorizes();
  for (const t of [a, b]) await timeTravel(t, 86_400_000);
  // a refreshes (holding the Web Lock), b's caller waits for the lock; then a signs out.
  const ra = a.evaluate(() => window.demo.auth.accessToken().then(() => 'token', (e) => e.code));
  await new Promise((r) => setTimeout(r, 300));
  const rb = b.evaluate(() => window.demo.auth.accessToken().then(() => 'token', (e) => e.code));
  await new Promise((r) => setTimeout(r, 200));
  await a.evaluate(() => window.demo.auth.logout());
  eq(await ra, 'signed_out', "a's caller");
  eq(await rb, 'signed_out', "b's caller");
  await new Promise((r) => setTimeout(r, 1800));
  for (const t of [a, b]) {
    eq(await t.evaluate(() => window.demo.auth.isAuthenticated()), false, 'signed out');
    eq(await t.evaluate(() => window.demo.auth.isSignedOut()), true, 'marked signed out');
  }
  eq(await a.evaluate((k) => localStorage.getItem(k), KEY('tokens')), 'signed-out', 'no tokens in localStorage: the sign-out mark');
  eq((await tokenPosts('refresh_token')).length, 1, 'b did not refresh the old session');
  eq(await authorizes(), before, 'no request to /oauth/authorize');
  for (const t of [a, b]) noProblems(t);
});

test('keepFresh with a background refresh in flight, then logout: stays signed out', async () => {
  const page = await freshLoginPage('?storage=session');
  await signIn(page);
  await slowRefresh(1500);
  await timeTravel(page, 86_400_000 - 30_000); // within the skew: the background refresh is due
  await page.evaluate(() => window.demo.auth.keepFresh(true));
  await waitFor(async () => (await tokenPosts('refresh_token')).length === 1, 'the background refresh');
  await page.evaluate(() => window.demo.auth.logout());
  await new Promise((r) => setTimeout(r, 1800));
  eq(await page.evaluate(() => window.demo.auth.isAuthenticated()), false, 'signed out after the late refresh');
  eq((await storageKeys(page)).filter((k) => k.endsWith(':tokens')).join(), '', 'no tokens stored');
  eq(await revocations(), 2, 'the late tokens revoked');
  noProblems(page);
});

test('a full storage is reported once through onReport, and the session goes on in memory', async () => {
  const page = await newPage();
  // Every page of this tab has a storage that refuses the tokens (as a full quota does).
  await page.addInitScript(() => {
    const set = Storage.prototype.setItem;
    Storage.prototype.setItem = function (k, v) {
      if (k.endsWith(':tokens')) throw new DOMException('the quota is exceeded', 'QuotaExceededError');
      return set.call(this, k, v);
    };
  });
  await page.goto(`${APP}?storage=session`);
  eq(await screen(page), 'login', 'first screen');
  eq(await signIn(page), 'dashboard', 'signed in, in memory');
  await timeTravel(page, 86_400_000);
  await page.evaluate(() => window.demo.auth.accessToken()); // a refresh: its write is refused too
  eq((await page.evaluate(() => window.demo.reports)).join(), 'storage_unavailable', 'reported once');
  eq(await page.evaluate(() => window.demo.auth.isAuthenticated()), true, 'the session goes on');
  noProblems(page);
});

await run();
