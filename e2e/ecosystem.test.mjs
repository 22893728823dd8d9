// Where our users are: the official Genesys JS SDK using our token, the React and Vue examples, the Leptos example.
import { APP, EMU, admin, assert, eq, newPage, noProblems, protectedRouteSignsIn, requests, run, shot, signIn, signInWithTestIds, signOutRevokes, test, tokenPosts, waitFor } from './harness.mjs';

/** The SDK page (`demo/sdk/`) loaded in `page`, signed in through the emulator's login page. */
async function sdkSignIn(page) {
  await page.goto(`${APP}sdk/`);
  await waitFor(() => page.evaluate(() => window.sdkDemo && window.sdkDemo.state !== 'loading'), 'the page');
  await page.click('#login');
  await page.waitForURL(/\/oauth\/authorize/);
  await page.click('#approve');
}

test('the official SDK (purecloud-platform-client-v2) calls /users/me with the token our library obtained', async () => {
  const page = await newPage();
  await sdkSignIn(page);
  await waitFor(() => page.evaluate(() => window.sdkDemo && ['ok', 'error'].includes(window.sdkDemo.state)), 'the SDK call');
  const result = await page.evaluate(() => window.sdkDemo);
  eq(result.state, 'ok', `SDK result ${JSON.stringify(result)}`);
  eq(result.name, 'Alex Agent', 'name from the SDK');
  const sdkCalls = (await requests()).filter((r) => r.path === '/api/v2/users/me' && r.method === 'GET');
  eq(sdkCalls.map((r) => r.status).join(), '200', 'the SDK reached the emulator');
  await shot(page, '9-official-sdk');
  noProblems(page);
});

test('connectSdk gives the official SDK no token while it points at another host than the session', async () => {
  const page = await newPage();
  await sdkSignIn(page);
  await waitFor(() => page.evaluate(() => window.sdkDemo?.state === 'ok'), 'the SDK signed in');
  const result = await page.evaluate(async () => {
    const { connectSdk } = await import('/pkg/sdk.js');
    const client = require('platformClient').ApiClient.instance;
    const auth = window.sdkDemo.auth;
    const given = [];
    const set = client.setAccessToken.bind(client);
    client.setAccessToken = (t) => { given.push(t === undefined ? 'none' : 'token'); set(t); };
    const gateway = client.config.gateway;
    // An embedded app that took its environment from the URL: the SDK now points at another region.
    client.setGateway(undefined);
    client.config.gateway = undefined;
    client.setEnvironment('mypurecloud.de');
    let refused;
    try { await connectSdk(auth, client); } catch (e) { refused = { code: e.code, message: e.message }; }
    const onConnect = given.splice(0);
    // Back on the session's host: connected; then pointed away again, the next token change gives it none.
    client.config.gateway = gateway;
    const disconnect = await connectSdk(auth, client);
    const whileMatching = given.splice(0);
    client.config.gateway = undefined;
    await auth.refresh();
    await new Promise((r) => setTimeout(r, 100));
    disconnect();
    client.config.gateway = gateway;
    return { refused, onConnect, whileMatching, afterMove: given };
  });
  eq(result.refused?.code, 'invalid_config', `refused: ${JSON.stringify(result)}`);
  assert(result.refused.message.includes('https://api.mypurecloud.de') && result.refused.message.includes(EMU), result.refused.message);
  eq(result.onConnect.join(), 'none', 'no token handed over on connect');
  eq(result.whileMatching.join(), 'token', 'the token while the hosts match');
  assert(result.afterMove.length > 0 && result.afterMove.every((t) => t === 'none'), `no token after the SDK moved: ${result.afterMove}`);
  noProblems(page);
});

test('genesys-auth/sdk connectSdk keeps the official SDK signed in past several token lifetimes: 0 failed calls, one background refresh per token', async () => {
  await admin('PATCH', 'config', { token_duration_s: 300 }); // Genesys' minimum
  const page = await newPage();
  // The page's clock and the emulator's move together.
  await page.clock.install();
  await sdkSignIn(page);
  await waitFor(() => page.evaluate(() => window.sdkDemo?.calls?.ok === 1), 'the first SDK call')
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(await page.evaluate(() => window.sdkDemo))} ${page.url()} ${page.consoleText.join(' | ')}`); });
  const advance = async (ms) => { await admin('POST', 'clock', { advance_ms: ms }); await page.clock.fastForward(ms); };
  for (let i = 1; i <= 5; i++) {
    // 250 s on: the token has 50 s left, inside the 60 s skew; the background refresh runs with nobody asking.
    await advance(250_000);
    await waitFor(async () => (await tokenPosts('refresh_token')).length === i, `background refresh ${i}`);
    await page.click('#call');
    await waitFor(() => page.evaluate((n) => window.sdkDemo.calls.ok + window.sdkDemo.calls.failed === n, i + 1), `SDK call ${i + 1}`);
  }
  const { calls } = await page.evaluate(() => window.sdkDemo);
  eq(calls.failed, 0, 'failed SDK calls');
  eq(calls.ok, 6, 'SDK calls that succeeded over 1 250 s of 300 s tokens');
  const me = (await requests()).filter((r) => r.path === '/api/v2/users/me' && r.method === 'GET');
  eq(me.map((r) => r.status).join(), '200,200,200,200,200,200', 'every SDK request the emulator saw');
  eq((await tokenPosts('authorization_code')).length, 1, 'one sign-in');
  eq((await tokenPosts('refresh_token')).filter((r) => r.status === 200).length, 5, 'five background refreshes');
  await shot(page, '9b-sdk-kept-fresh');
  noProblems(page);
});

/**
 * A framework binding's example: its protected route signed out redirects to the login page, comes back to the route
 * with the profile, signs out to the public page; after the sign-out the guard offers a button instead of signing
 * straight back in, also after a reload, and the button signs in.
 */
async function bindingExample(path, shots, { guardAfterSignOut = 'button', onPage, secondTab = false } = {}) {
  const page = await newPage();
  onPage?.(page);
  await protectedRouteSignsIn(page, `${APP}${path}#/profile`);
  assert((await page.textContent('[data-testid=status]')).startsWith('Signed in'), 'the status follows the state');
  await shot(page, shots[0]);
  // A second tab of the app on the protected route shares the session (local storage).
  const second = secondTab ? await newPage(page.context()) : undefined;
  if (second) {
    await second.goto(`${APP}${path}#/profile`);
    await second.waitForSelector('[data-testid=name]');
  }
  await signOutRevokes(page);
  if (second) {
    // Signed out there too: its guard shows "Sign in", and starts no login of its own.
    await second.waitForSelector('main button:text-is("Sign in")', { timeout: 10000 });
    eq(await second.evaluate(() => document.querySelector('[data-testid=name]')), null, 'no profile in the second tab');
    noProblems(second);
  }
  eq(new URL(page.url()).hash, '#/', 'signed out on the public page');
  await shot(page, shots[1]);
  await page.click('[data-testid=profile-link]');
  if (guardAfterSignOut === 'button') await page.waitForSelector('main button:text-is("Sign in")');
  else await page.waitForFunction(() => location.hash === '#/' && document.querySelector('[data-testid=login]'));
  eq((await tokenPosts('authorization_code')).length, 1, 'no new sign-in after the sign-out');
  // A new visit (a new page load) of the protected route: the sign-out holds (nothing signs in by itself, though
  // the Genesys login session is alive) until the person asks.
  await page.goto('about:blank');
  await page.goto(`${APP}${path}#/profile`);
  const signIn = guardAfterSignOut === 'button' ? 'main button:text-is("Sign in")' : '[data-testid=login]';
  await page.waitForSelector(signIn);
  eq((await requests()).filter((r) => r.path === '/oauth/authorize' && r.method === 'GET').length, 1, 'no login started by itself after a reload');
  // Asked: signed in again, silently (the Genesys login session is alive: `logout({ sso: true })` would end it).
  await page.click(signIn);
  await page.waitForSelector('[data-testid=name]', { timeout: 15000 });
  eq((await tokenPosts('authorization_code')).length, 2, 'signed in again when asked');
  noProblems(page);
  return { page };
}

test('the React + Vite example (genesys-auth/react): the protected route redirects to sign in → back to the route with the profile → sign out, in a second tab too', () =>
  bindingExample('react/', ['11-react-profile', '10-react-signed-out'], { secondTab: true }));

test('the Vue + Vite example (genesys-auth/vue): the protected route redirects to sign in → back to the route with the profile → sign out, in a second tab too', () =>
  bindingExample('vue/', ['14-vue-profile', '15-vue-signed-out'], { secondTab: true }));

test('the Angular example (service, interceptor, guard): the guarded route signs in → profile over HttpClient → sign out; the token goes only to the API origin', async () => {
  const withToken = [];
  const seen = (page) => page.on('request', (r) => { if (r.headers().authorization) withToken.push(new URL(r.url()).origin); });
  const { page } = await bindingExample('angular/', ['16-angular-profile', '17-angular-signed-out'], { guardAfterSignOut: 'home', onPage: seen });
  assert(withToken.length > 0, 'the interceptor sent the token to the API');
  eq([...new Set(withToken)].join(), EMU, 'every request with the token went to the API origin');
  noProblems(page);
});

test('the Leptos example (Rust API): sign in → profile → refresh → sign out', async () => {
  const page = await newPage();
  await page.goto(`${APP}leptos/`);
  await page.waitForSelector('[data-testid=login]', { timeout: 15000 });
  await signInWithTestIds(page);
  eq(await page.textContent('[data-testid=name]'), 'Alex Agent', 'profile rendered by Leptos');
  assert(!new URL(page.url()).searchParams.has('code'), 'address bar clean');
  // No other script of the page can drive the engine (and read its tokens): neither the app's glue module nor the
  // wasm module exports the engine's functions in a Rust-API build.
  const reachable = await page.evaluate(async () => {
    const glue = await import('/leptos/genesys_auth_example_leptos.js');
    const wasm = await glue.default();
    return [...Object.keys(glue), ...Object.keys(wasm)].filter((k) => k.startsWith('ga')).join();
  });
  eq(reachable, '', 'engine functions reachable from the page');
  await shot(page, '12-leptos-profile');
  const before = (await tokenPosts('refresh_token')).length;
  await page.click('[data-testid=refresh]');
  await page.waitForFunction(() => document.querySelector('[data-testid=refreshed]')?.textContent === '1', null, { timeout: 10000 });
  eq((await tokenPosts('refresh_token')).length, before + 1, 'one refresh grant at the emulator');
  await signOutRevokes(page);
  noProblems(page);
});

await run();
