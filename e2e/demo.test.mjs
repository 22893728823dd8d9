// End-to-end: the demo SPA driven like a person, in Debian's Chromium, against the emulator.
import { APP, CLIENT, EMU, KEY, admin, assert, callbackUrl, eq, newPage, noProblems, requests, run, screen, shot, signIn, storageKeys, test, tokenPosts } from './harness.mjs';

test('login shows the profile, leaves a clean address bar and stores nothing with memory storage', async () => {
  const page = await newPage();
  await page.goto(APP);
  eq(await screen(page), 'login', 'first screen');
  await shot(page, '1-login');
  await page.click('#login-button');
  await page.waitForURL(/\/oauth\/authorize/);
  const authorize = new URL(page.url());
  eq(authorize.searchParams.get('code_challenge_method'), 'S256', 'PKCE method');
  eq(authorize.searchParams.get('code_challenge').length, 43, 'challenge length');
  assert(!authorize.searchParams.has('scope'), 'no scope sent by default');
  await shot(page, '2-emulator-login-page');
  await page.click('#approve');
  eq(await screen(page), 'dashboard', 'after approve');
  await page.waitForFunction(() => document.getElementById('user-name').textContent === 'Alex Agent');
  eq(await page.textContent('#user-presence'), 'Available', 'presence (expand)');
  await shot(page, '3-dashboard');
  const url = new URL(page.url());
  assert(!url.searchParams.has('code') && !url.searchParams.has('state'), `address bar still has the callback: ${page.url()}`);
  eq((await storageKeys(page)).join(), '', 'sessionStorage after login (memory storage, pending login consumed)');
  eq((await storageKeys(page, 'localStorage')).join(), '', 'localStorage');
  eq((await tokenPosts('authorization_code')).length, 1, 'code exchanges');
  noProblems(page);
});

test('reload keeps the session with session storage', async () => {
  const page = await newPage();
  await page.goto(`${APP}?storage=session`);
  await signIn(page);
  eq(await screen(page), 'dashboard', 'after login');
  eq((await storageKeys(page)).join(), KEY('tokens'), 'session storage holds the token set');
  await page.reload();
  eq(await screen(page), 'dashboard', 'after reload');
  eq((await tokenPosts()).length, 1, 'no new token request on reload');
  noProblems(page);
});

test('reload with memory storage signs in again (silently, through the login session)', async () => {
  const page = await newPage();
  await page.goto(APP);
  await signIn(page);
  await page.reload();
  eq(await screen(page), 'login', 'memory storage forgets the tokens on reload');
  await page.click('#login-button');
  eq(await screen(page, 'dashboard'), 'dashboard', 'the Genesys login session makes the second login silent');
  eq((await tokenPosts('authorization_code')).length, 2, 'two code exchanges');
  noProblems(page);
});

test('deny shows the error screen with access_denied', async () => {
  const page = await newPage();
  await page.goto(APP);
  eq(await signIn(page, { decision: 'deny' }), 'error', 'after deny');
  const err = await page.evaluate(() => window.demo.error);
  eq(err.code, 'authorization_error', 'error code');
  eq(err.oauthError, 'access_denied', 'oauth error');
  assert(/sign in again/i.test(err.message), `message says what to do: ${err.message}`);
  await shot(page, '4-error-access-denied');
  eq((await tokenPosts()).length, 0, 'no token request');
  noProblems(page);
});

test('tampered state is refused: error shown, no token stored, no token request', async () => {
  const page = await newPage();
  await page.goto(`${APP}?storage=session`);
  await screen(page);
  const cb = new URL(await callbackUrl(page));
  cb.searchParams.set('state', cb.searchParams.get('state').slice(0, -2) + 'xx');
  await page.goto(cb.href);
  eq(await screen(page), 'error', 'after tampered callback');
  eq(await page.evaluate(() => window.demo.error.code), 'state_mismatch', 'error code');
  eq((await storageKeys(page)).join(), '', 'nothing stored (pending login used up, no tokens)');
  eq((await tokenPosts()).length, 0, 'no request reached /oauth/token');
  assert(!new URL(page.url()).searchParams.has('code'), 'code removed from the address bar');
  await shot(page, '5-error-state-mismatch');
  noProblems(page);
});

test('a replayed code gets invalid_grant', async () => {
  const page = await newPage();
  await page.goto(APP);
  await screen(page);
  const cb = await callbackUrl(page);
  // Copy this tab's pending login (as an attacker holding the verifier would), then let the callback load.
  await page.goto(`${APP}style.css`);
  const pending = await page.evaluate((k) => sessionStorage.getItem(k), KEY('pending'));
  assert(pending, 'pending login parked in sessionStorage');
  await page.goto(cb);
  eq(await screen(page), 'dashboard', 'first use of the code');

  const replay = await newPage();
  await replay.goto(`${APP}style.css`);
  await replay.evaluate(([k, v]) => sessionStorage.setItem(k, v), [KEY('pending'), pending]);
  await replay.goto(cb);
  eq(await screen(replay), 'error', 'replay');
  const err = await replay.evaluate(() => window.demo.error);
  eq(err.oauthError, 'invalid_grant', 'oauth error of the replay');
  assert(/already used|sign in again/i.test(err.message), `message: ${err.message}`);
  eq((await tokenPosts('authorization_code')).map((r) => r.status).join(), '200,400', 'code exchanges');
  noProblems(replay);
});

test('logout revokes the token at the emulator and empties storage', async () => {
  const page = await newPage();
  await page.goto(`${APP}?storage=session`);
  await signIn(page);
  const token = await page.evaluate(() => window.demo.auth.accessToken());
  eq((await fetch(`${EMU}/api/v2/tokens/me`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } })).status, 200, 'token valid before logout');
  await page.click('#logout-button');
  eq(await screen(page, 'login'), 'login', 'after logout');
  const revoked = await fetch(`${EMU}/api/v2/tokens/me`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
  eq(revoked.status, 401, 'the emulator reports the token revoked');
  eq((await requests()).filter((r) => r.method === 'DELETE' && r.path === '/api/v2/tokens/me').map((r) => r.status).join(), '204', 'DELETE /tokens/me');
  eq((await storageKeys(page)).join(), KEY('signed-out'), 'storage empty but for the signed-out mark');
  assert(!page.consoleText.some((t) => t.includes(token)), 'the token never reached the console');
  noProblems(page);
});

test('single sign-on chosen in Settings reaches the login page as org and provider; a refused parameter stops the login', async () => {
  const page = await newPage();
  await page.goto(APP);
  await screen(page, 'login');
  await page.click('#settings summary');
  await page.fill('#settings-form input[name=org]', 'acme');
  await page.fill('#settings-form input[name=provider]', 'okta');
  await page.click('#settings-form button[type=submit]');
  await page.waitForFunction(() => /SSO acme \/ okta/.test(document.getElementById('target').textContent));
  await page.click('#login-button');
  await page.waitForURL(/\/oauth\/authorize/);
  const authorize = new URL(page.url());
  eq(authorize.searchParams.get('org'), 'acme', 'org sent');
  eq(authorize.searchParams.get('provider'), 'okta', 'provider sent');
  eq(await page.textContent('#sso-org'), 'acme', 'the login page names the org');
  eq(await page.textContent('#sso-provider'), 'okta', 'and its identity provider');
  await shot(page, 'sso-login-page');
  await page.click('#approve');
  eq(await screen(page, 'dashboard'), 'dashboard', 'signed in through SSO');
  const refused = (options) => page.evaluate((o) => window.demo.auth.login(o).then(() => null, (e) => ({ code: e.code, message: e.message })), options);
  const own = await refused({ params: { state: 'mine' } });
  eq(own?.code, 'invalid_config', 'a parameter the library sets itself');
  assert(/set by the library/.test(own.message), own.message);
  const half = await refused({ org: 'acme' });
  eq(half?.code, 'invalid_config', 'org without provider');
  assert(/go together/.test(half.message), half.message);
  assert(!page.url().includes('/oauth/authorize'), 'no navigation for a refused login');
  noProblems(page);
});

test('a link cannot point the demo at another host: the region waits for confirmation, nothing is sent there', async () => {
  const page = await newPage();
  await page.goto(APP);
  eq(await signIn(page), 'dashboard', 'signed in');
  const foreign = [];
  page.on('request', (r) => { if (new URL(r.url()).hostname.endsWith('evil.example')) foreign.push(r.url()); });
  await page.goto(`${APP}?region=${encodeURIComponent('https://evil.example')}&clientId=${CLIENT}&storage=local`);
  await screen(page);
  eq(await page.evaluate(() => window.demo.settings.region), EMU, 'the region stays the configured one');
  assert(/not a known Genesys Cloud region/.test(await page.textContent('#notice')), 'the user is told');
  eq(foreign.join(), '', 'no request to the unconfirmed host');
  noProblems(page);
});

test('tokens stored for one region are refused under another: discarded, reported, nothing sent there', async () => {
  const page = await newPage();
  await page.goto(`${APP}?storage=local`);
  eq(await signIn(page), 'dashboard', 'signed in with local storage');
  assert(await page.evaluate((k) => localStorage.getItem(k), KEY('tokens')), 'tokens in localStorage');
  // Another origin (a custom base on loopback), the same client id: as if the app were configured for another region.
  const other = EMU.replace('127.0.0.1', 'localhost');
  const sent = [];
  page.on('request', (r) => { if (r.url().startsWith(other)) sent.push(r.url()); });
  const result = await page.evaluate(async ({ region, clientId, key }) => {
    const { GenesysAuth } = await import('/pkg/index.js');
    const auth = await GenesysAuth.create({ region, clientId, storage: 'local', reloginOnExpiry: false });
    let token, fetched;
    try { await auth.accessToken(); } catch (e) { token = e.code; }
    try { await auth.fetch('/api/v2/users/me'); } catch (e) { fetched = e.code; }
    // Removed under the Web Lock shared with the other tabs, a moment later.
    for (let i = 0; i < 100 && localStorage.getItem(key) !== null; i++) await new Promise((r) => setTimeout(r, 20));
    return { authenticated: auth.isAuthenticated(), discarded: auth.discardedStorage()?.code, token, fetched, stored: localStorage.getItem(key) };
  }, { region: other, clientId: CLIENT, key: KEY('tokens') });
  eq(result.authenticated, false, 'not signed in under the other region');
  eq(result.discarded, 'foreign_tokens', 'the discarded tokens are reported');
  eq(result.token, 'login_required', 'no token handed out');
  eq(result.fetched, 'login_required', 'no API call made');
  eq(result.stored, null, 'the foreign tokens are removed from storage');
  eq(sent.join(), '', 'nothing sent to the other region');
  noProblems(page);
});

test('the demo pages carry a Content-Security-Policy without inline script', async () => {
  for (const path of ['', 'embedded/host.html', 'embedded/app.html', 'sdk/']) {
    const csp = (await fetch(`${APP}${path}`)).headers.get('content-security-policy') || '';
    const scripts = (csp.split(';').find((d) => d.trim().startsWith('script-src')) || '').trim();
    eq(scripts, "script-src 'self' 'wasm-unsafe-eval'", `script-src of /${path}`);
  }
});

await run();
