// Apps embedded in Genesys Cloud: the demo's host page frames the app with gcHostOrigin; sign-in by popup.
import { APP, EMU, admin, assert, eq, newPage, noProblems, run, shot, test, tokenPosts, waitFor } from './harness.mjs';

async function host(query = '') {
  const page = await newPage();
  await page.goto(`${APP}embedded/host.html${query}`);
  const frame = page.frameLocator('#app');
  const appFrame = () => page.frames().find((f) => f.url().includes('/embedded/app.html'));
  await waitFor(async () => appFrame() && (await appFrame().evaluate(() => window.embedded && window.embedded.state !== 'loading').catch(() => false)), 'the framed app');
  return { page, frame, app: appFrame() };
}

const state = (app) => app.evaluate(() => ({ state: window.embedded.state, error: window.embedded.error, region: window.embedded.region, user: window.embedded.user }));

/** Clicks the framed app's sign-in button and returns the popup once it shows the login page. */
async function openPopup(page, frame) {
  const [popup] = await Promise.all([page.waitForEvent('popup'), frame.locator('#login').click()]);
  await popup.waitForURL(/\/oauth\/authorize/);
  return popup;
}

test('popup login from the framed app shows the profile in the frame', async () => {
  const { page, frame, app } = await host();
  eq((await state(app)).region, EMU, 'region taken from gcHostOrigin (the emulator, allowed by the app)');
  eq(await app.evaluate(() => window.embedded.auth.isFramed()), true, 'the app knows it is framed');
  await shot(page, '7-embedded-signed-out');
  const popup = await openPopup(page, frame);
  await popup.click('#approve');
  await popup.waitForEvent('close', { timeout: 10000 });
  await waitFor(async () => (await state(app)).state === 'signed-in', 'signed in inside the frame');
  eq((await state(app)).user, 'Alex Agent', 'profile in the frame');
  assert(page.url().endsWith('/embedded/host.html'), `the host page stayed: ${page.url()}`);
  await shot(page, '8-embedded-signed-in');
  eq((await tokenPosts('authorization_code')).length, 1, 'one code exchange (in the opener)');
  noProblems(page);
});

test('inside a frame an ended session asks the app to sign in again, without redirecting the frame', async () => {
  const { page, frame, app } = await host();
  const popup = await openPopup(page, frame);
  await popup.click('#approve');
  await waitFor(async () => (await state(app)).state === 'signed-in', 'signed in');
  const token = await app.evaluate(() => window.embedded.auth.accessToken());
  eq((await fetch(`${EMU}/api/v2/tokens/me`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status, 204, 'revoked');
  const code = await app.evaluate(() => window.embedded.auth.currentUser().then(() => 'ok', (e) => e.code));
  eq(code, 'login_required', 'typed error for the app');
  assert(app.url().includes('/embedded/app.html') && !app.url().includes('/oauth/'), `the frame stayed: ${app.url()}`);
  eq((await tokenPosts('authorization_code')).length, 1, 'no automatic sign-in attempt');
  noProblems(page);
});

test('popup closed by the user → popup_closed, no token', async () => {
  const { page, frame, app } = await host();
  const popup = await openPopup(page, frame);
  await popup.close();
  await waitFor(async () => (await state(app)).state === 'error', 'the error');
  const s = await state(app);
  eq(s.error.code, 'popup_closed', 'code');
  assert(/try again/.test(s.error.message), s.error.message);
  eq(await app.evaluate(() => window.embedded.auth.isAuthenticated()), false, 'no session');
  eq((await tokenPosts()).length, 0, 'no token request');
  noProblems(page);
});

test('popup blocked (no user gesture) → popup_blocked telling the app to call it from a click', async () => {
  const { page, app } = await host();
  // Playwright lets scripts open popups; a browser's blocker makes window.open return null, as here.
  const err = await app.evaluate(() => {
    window.open = () => null;
    return window.embedded.auth.loginWithPopup({}).then(() => null, (e) => ({ code: e.code, message: e.message }));
  });
  eq(err && err.code, 'popup_blocked', 'code');
  assert(/click/.test(err.message), err.message);
  noProblems(page);
});

test('a popup that never comes back → popup_timeout, popup closed', async () => {
  const { page, app } = await host();
  const started = Date.now();
  const [popup, err] = await Promise.all([
    page.waitForEvent('popup'),
    app.evaluate(() => window.embedded.auth.loginWithPopup({ timeoutMs: 1000 }).then(() => null, (e) => e.code)),
  ]);
  eq(err, 'popup_timeout', 'code');
  assert(Date.now() - started < 8000, 'bounded');
  await waitFor(() => popup.isClosed(), 'the popup closed');
  noProblems(page);
});

test('a channel message with a wrong state, or one that is not a URL, is ignored', async () => {
  const { page, frame, app } = await host();
  const popup = await openPopup(page, frame);
  const realState = new URL(popup.url()).searchParams.get('state');
  // Same channel: a forged callback with another state, and a message that is not a URL. (The library hears
  // callbacks only on this BroadcastChannel, which is same-origin by design: a page of another origin cannot post on it.)
  await app.evaluate((s) => {
    const c = new BroadcastChannel(`genesys-auth:popup:${s}`);
    c.postMessage(`${location.origin}/embedded/app.html?code=forged&state=not-${s}`);
    c.postMessage({ url: 'not a string' });
    c.close();
  }, realState);
  await page.waitForTimeout(400);
  eq((await state(app)).state, 'signed-out', 'still waiting for the real callback');
  eq((await tokenPosts()).length, 0, 'the forged code was never sent');
  await popup.click('#approve');
  await waitFor(async () => (await state(app)).state === 'signed-in', 'the real sign-in');
  noProblems(page);
});

test('an unknown gcHostOrigin is refused, never used as a login host', async () => {
  const { page, app } = await host('?hostOrigin=https%3A%2F%2Fevil.example');
  const s = await state(app);
  eq(s.state, 'error', 'state');
  eq(s.error.code, 'unknown_region', 'code');
  eq((await admin('GET', 'requests')).length, 0, 'nothing sent anywhere');
  noProblems(page);
});

test('a known region in gcHostOrigin is recognized', async () => {
  const page = await newPage();
  await page.goto(`${APP}embedded/app.html?gcHostOrigin=${encodeURIComponent('https://apps.mypurecloud.ie')}&gcTargetEnv=prod`);
  await waitFor(() => page.evaluate(() => window.embedded && window.embedded.region), 'the region');
  eq(await page.evaluate(() => window.embedded.region), 'mypurecloud.ie', 'region');
  await page.goto(`${APP}embedded/app.html?pcEnvironment=mypurecloud.de`);
  await waitFor(() => page.evaluate(() => window.embedded && window.embedded.region), 'the region');
  eq(await page.evaluate(() => window.embedded.region), 'mypurecloud.de', 'legacy pcEnvironment');
  // The region survives a round trip whose return URL lacks the parameters.
  await page.goto(`${APP}embedded/app.html`);
  await waitFor(() => page.evaluate(() => window.embedded && window.embedded.region), 'the region');
  eq(await page.evaluate(() => window.embedded.region), 'mypurecloud.de', 'kept across the round trip');
});

await run();
