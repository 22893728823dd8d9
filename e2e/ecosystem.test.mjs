// Where our users are: the official Genesys JS SDK using our token, the React + Vite example, the Leptos example.
import { APP, assert, eq, newPage, requests, run, shot, signIn, test, waitFor } from './harness.mjs';

const noProblems = (page) => eq(page.problems.join(' | '), '', 'uncaught errors or console errors');

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

await run();
