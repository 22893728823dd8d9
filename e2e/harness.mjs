// A small harness for driving the demo in Debian's Chromium against the emulator (playwright-core, no download).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

export const APP = process.env.APP_URL;          // http://localhost:PORT/
export const EMU = process.env.EMU_URL;          // http://127.0.0.1:PORT
export const CLIENT = process.env.CLIENT_ID;
export const SHOTS = process.env.SHOTS_DIR || 'target/e2e/screenshots';
if (!APP || !EMU || !CLIENT) throw new Error('run through `cargo xtask test` (APP_URL, EMU_URL, CLIENT_ID are set there)');
mkdirSync(SHOTS, { recursive: true });

export const KEY = (what) => `genesys-auth:${CLIENT}:${what}`;

const tests = [];
export function test(name, fn) { tests.push({ name, fn }); }

export function assert(cond, message) { if (!cond) throw new Error(`assertion failed: ${message}`); }
export function eq(a, b, message) { assert(Object.is(a, b), `${message}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`); }

/** The emulator's test controls. */
export async function admin(method, path, body) {
  const res = await fetch(`${EMU}/__emulator/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 400) throw new Error(`admin ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 200 ? res.json() : null;
}
export const requests = () => admin('GET', 'requests');
export const tokenPosts = async (grant) => (await requests()).filter((r) => r.path === '/oauth/token' && r.method === 'POST' && (!grant || r.grant_type === grant));

let browser;
export async function launch() {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return browser;
}

const contexts = [];

/** A fresh browser context (its own storage and cookies) and a page that records errors. */
export async function newPage(context) {
  if (!context) {
    context = await browser.newContext();
    contexts.push(context);
  }
  const page = await context.newPage();
  page.problems = [];
  page.consoleText = [];
  page.on('pageerror', (e) => page.problems.push(`uncaught: ${e.message}`));
  page.on('console', (m) => {
    page.consoleText.push(m.text());
    // Chromium logs every non-2xx fetch as "Failed to load resource"; those are expected in failure tests.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.problems.push(`console.error: ${m.text()}`);
  });
  return page;
}

/** Waits until the demo shows a screen other than "loading" (or `want`), and returns it. */
export async function screen(page, want) {
  await page.waitForFunction((w) => window.demo && window.demo.screen !== 'loading' && (!w || window.demo.screen === w), want, { timeout: 15000 })
    .catch(async (e) => { throw new Error(`screen ${want ?? '(any)'} not reached; now ${await page.evaluate(() => window.demo?.screen)}: ${e.message}`); });
  return page.evaluate(() => window.demo.screen);
}

/** Clicks "Sign in", then on the emulator's login page picks `user` and Approves (or Denies). */
export async function signIn(page, { user = 'alex.agent@example.com', decision = 'approve' } = {}) {
  await page.click('#login-button');
  await page.waitForURL(/\/oauth\/authorize/, { timeout: 10000 });
  await page.check(`input[name=user][value="${user}"]`);
  await page.click(decision === 'approve' ? '#approve' : '#deny');
  return screen(page);
}

/** Polls `fn` until it returns a truthy value (10 s at most). */
/** An example app's sign-in button → the emulator's login page → approve → the profile is shown. */
export async function signInWithTestIds(page) {
  await page.click('[data-testid=login]');
  await page.waitForURL(/\/oauth\/authorize/);
  await page.click('#approve');
  await page.waitForSelector('[data-testid=name]', { timeout: 15000 });
}

/** An example app's protected route opened signed out: its guard goes to the emulator's login page; approve →
 *  back on the route with the profile. */
export async function protectedRouteSignsIn(page, url) {
  await page.goto(url);
  await page.waitForURL(/\/oauth\/authorize/, { timeout: 15000 });
  await page.click('#approve');
  await page.waitForSelector('[data-testid=name]', { timeout: 15000 }).catch(async (e) => {
    await shot(page, 'protected-route-failed');
    throw new Error(`${e.message.split('\n')[0]} at ${page.url()}: ${await page.textContent('body')} | console: ${page.consoleText.join(' | ')}`);
  });
  eq(await page.textContent('[data-testid=name]'), 'Alex Agent', 'profile on the protected route');
  eq(new URL(page.url()).hash, new URL(url).hash, 'returned to the protected route');
  assert(!new URL(page.url()).searchParams.has('code'), 'address bar clean');
}

/** An example app's sign-out button: back to the sign-in button, and the token revoked at the emulator. */
export async function signOutRevokes(page) {
  await page.click('[data-testid=logout]');
  await page.waitForSelector('[data-testid=login]').catch(async (e) => {
    await shot(page, 'sign-out-failed');
    throw new Error(`${e.message.split('\n')[0]} at ${page.url()}: ${await page.textContent('body')} | console: ${page.consoleText.join(' | ')}`);
  });
  eq((await requests()).filter((r) => r.method === 'DELETE' && r.path === '/api/v2/tokens/me').length, 1, 'token revoked');
}

export async function waitFor(fn, what) {
  for (let i = 0; i < 200; i++) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Fails the test when the page had an uncaught exception, an unhandled rejection or a console error. */
export function noProblems(page) {
  eq(page.problems.join(' | '), '', 'uncaught errors or console errors');
}

/** Logs in up to the callback, which is captured (not loaded): returns its URL. */
export async function callbackUrl(page) {
  let captured;
  // Playwright does not route redirected requests, so catch the login form's POST and read its redirect.
  const isDecision = (u) => u.href === `${EMU}/oauth/authorize`;
  await page.route(isDecision, async (route) => {
    const res = await route.fetch({ maxRedirects: 0 });
    captured = res.headers()['location'];
    await route.abort();
  });
  await page.click('#login-button');
  await page.waitForURL(/\/oauth\/authorize/);
  await page.click('#approve');
  await waitFor(() => captured, 'the callback');
  await page.unroute(isDecision);
  assert(captured.includes('code='), `callback captured: ${captured}`);
  return captured;
}

export async function shot(page, name) { await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true }); }

export async function storageKeys(page, kind = 'sessionStorage') {
  return page.evaluate((k) => Object.keys(window[k]).filter((x) => x.startsWith('genesys-auth:')), kind);
}

/** Runs the registered tests; each starts from a reset emulator. Exits non-zero on any failure. */
export async function run() {
  await launch();
  let failed = 0;
  const only = process.env.E2E_ONLY;
  const chosen = tests.filter((t) => !only || t.name.includes(only));
  if (chosen.length === 0) {
    console.log(`e2e: E2E_ONLY=${JSON.stringify(only)} matches no test of this suite`);
    await browser.close();
    process.exit(1);
  }
  for (const t of chosen) {
    await admin('POST', 'reset');
    const started = Date.now();
    try {
      await t.fn();
      console.log(`  ok    ${t.name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`  FAIL  ${t.name}\n        ${String(e.stack || e).split('\n').slice(0, 4).join('\n        ')}`);
    }
    // Pages of a finished test must not keep talking to the emulator during the next one.
    for (const c of contexts.splice(0)) await c.close();
  }
  await browser.close();
  const skipped = tests.length - chosen.length;
  console.log(`e2e: ${chosen.length - failed} passed, ${failed} failed${skipped ? `, ${skipped} not chosen (E2E_ONLY)` : ''}; screenshots in ${SHOTS}`);
  process.exit(failed ? 1 : 0);
}
