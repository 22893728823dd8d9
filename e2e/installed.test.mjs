// End-to-end: the package as a user installs it — from the npm tarball, outside the repository (`cargo xtask dist`,
// then `cargo xtask test` builds these apps in a temporary folder): the React example built with Vite, and a plain
// HTML page importing the unpacked package.
import { APP, assert, eq, newPage, noProblems, protectedRouteSignsIn, run, shot, signInWithTestIds, signOutRevokes, test } from './harness.mjs';

test('the React example installed from the tarball: protected route → sign in → profile → sign out', async () => {
  const from = await fetch(`${APP}react/installed-from.txt`).then((r) => (r.ok ? r.text() : `HTTP ${r.status}`));
  assert(/^genesys-auth-.+\.tgz$/.test(from), `the React build served is the one installed from the tarball (${from})`);
  const page = await newPage();
  await protectedRouteSignsIn(page, `${APP}react/#/profile`);
  await signOutRevokes(page);
  noProblems(page);
});

test('a plain HTML page importing the unpacked tarball: sign in → profile → sign out', async () => {
  const page = await newPage();
  await page.goto(`${APP}html/`);
  await page.waitForSelector('[data-testid=login]:not([hidden])', { timeout: 15000 });
  await signInWithTestIds(page);
  await page.waitForSelector('[data-testid=profile]:not([hidden])');
  eq(await page.textContent('[data-testid=name]'), 'Alex Agent', 'profile');
  assert(!new URL(page.url()).searchParams.has('code'), 'address bar clean');
  await shot(page, '13-plain-html-profile');
  await page.click('[data-testid=logout]');
  await page.waitForSelector('[data-testid=login]:not([hidden])');
  noProblems(page);
});

await run();
