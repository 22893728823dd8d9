// Where our users are: the official Genesys JS SDK using our token, the React + Vite example, the Leptos example.
import { APP, assert, eq, newPage, noProblems, requests, run, shot, signIn, signInWithTestIds, signOutRevokes, test, tokenPosts, waitFor } from './harness.mjs';

test('the official SDK (purecloud-platform-client-v2) calls /users/me with the token our library obtained', async () => {
  const page = await newPage();
  await page.goto(`${APP}sdk/`);
  await waitFor(() => page.evaluate(() => window.sdkDemo && window.sdkDemo.state !== 'loading'), 'the page');
  await page.click('#login');
  await page.waitForURL(/\/oauth\/authorize/);
  await page.click('#approve');
  await waitFor(() => page.evaluate(() => window.sdkDemo && ['ok', 'error'].includes(window.sdkDemo.state)), 'the SDK call');
  const result = await page.evaluate(() => window.sdkDemo);
  eq(result.state, 'ok', `SDK result ${JSON.stringify(result)}`);
  eq(result.name, 'Alex Agent', 'name from the SDK');
  const sdkCalls = (await requests()).filter((r) => r.path === '/api/v2/users/me' && r.method === 'GET');
  eq(sdkCalls.map((r) => r.status).join(), '200', 'the SDK reached the emulator');
  await shot(page, '9-official-sdk');
  noProblems(page);
});

test('the React + Vite example: protected route → sign in → back to the route with the profile → sign out', async () => {
  const page = await newPage();
  await page.goto(`${APP}react/#/profile`);
  await page.waitForSelector('[data-testid=login]');
  await shot(page, '10-react-protected');
  await signInWithTestIds(page);
  eq(await page.textContent('[data-testid=name]'), 'Alex Agent', 'profile on the protected route');
  eq(new URL(page.url()).hash, '#/profile', 'returned to the protected route');
  assert(!new URL(page.url()).searchParams.has('code'), 'address bar clean');
  await shot(page, '11-react-profile');
  await signOutRevokes(page);
  noProblems(page);
});

test('the Leptos example (Rust API): sign in → profile → refresh → sign out', async () => {
  const page = await newPage();
  await page.goto(`${APP}leptos/`);
  await page.waitForSelector('[data-testid=login]', { timeout: 15000 });
  await signInWithTestIds(page);
  eq(await page.textContent('[data-testid=name]'), 'Alex Agent', 'profile rendered by Leptos');
  assert(!new URL(page.url()).searchParams.has('code'), 'address bar clean');
  await shot(page, '12-leptos-profile');
  const before = (await tokenPosts('refresh_token')).length;
  await page.click('[data-testid=refresh]');
  await page.waitForFunction(() => document.querySelector('[data-testid=refreshed]')?.textContent === '1', null, { timeout: 10000 });
  eq((await tokenPosts('refresh_token')).length, before + 1, 'one refresh grant at the emulator');
  await signOutRevokes(page);
  noProblems(page);
});

await run();
