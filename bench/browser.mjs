// Browser benchmarks (headless Debian Chromium against the emulator), run by `cargo xtask bench`.
// Prints one JSON object: callback_to_token (ours / raw fetch / oauth4webapi medians), fetch overhead, single-flight
// refresh count.
import { chromium } from 'playwright-core';

const APP = process.env.APP_URL, EMU = process.env.EMU_URL;
const RUNS = Number(process.env.BENCH_RUNS || 30), FETCHES = Number(process.env.BENCH_FETCHES || 1000);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const admin = async (method, path, body) => {
  const r = await fetch(`${EMU}/__emulator/${path}`, { method, headers: { 'content-type': 'application/json' }, body: body && JSON.stringify(body) });
  return r.status === 200 ? r.json() : null;
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
const context = await browser.newContext();
const page = await context.newPage();

async function callbackRun(mode) {
  await page.goto(`${APP}bench/callback.html?mode=${mode}`);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 20000 });
  const r = await page.evaluate(() => window.benchResult);
  if (!r.ok || r.mode !== mode) throw new Error(`callback run failed: ${JSON.stringify(r)}`);
  return r.ms;
}

// With AGAINST=1, another build of the package (served at /against/) runs beside ours, the two in alternating order.
const AGAINST = process.env.AGAINST === '1';
const ours = [], raw = [], anchor = [], against = [];
await callbackRun('ours'); await callbackRun('raw'); await callbackRun('anchor'); // warm-up: first compile, first connection
if (AGAINST) await callbackRun('against');
for (let i = 0; i < RUNS; i++) {
  if (AGAINST && i % 2) against.push(await callbackRun('against'));
  ours.push(await callbackRun('ours'));
  if (AGAINST && !(i % 2)) against.push(await callbackRun('against'));
  raw.push(await callbackRun('raw'));
  anchor.push(await callbackRun('anchor'));
}
const paired = AGAINST ? {
  callback_against_ms: median(against),
  callback_against_paired_ratio: median(ours.map((o, i) => o / against[i])),
  callback_against_ours_faster: ours.filter((o, i) => o < against[i]).length,
} : {};

await page.goto(`${APP}bench/session.html`);
await page.waitForFunction(() => window.bench, null, { timeout: 20000 });
let oursMs = 0, rawMs = 0;
const batch = Math.max(1, Math.min(100, FETCHES));
for (let done = 0; done < FETCHES; done += batch) {
  oursMs += await page.evaluate((n) => window.bench.ours(n), batch);
  rawMs += await page.evaluate((n) => window.bench.raw(n), batch);
}

// Single flight across tabs: 4 tabs sharing local storage, 100 concurrent accessToken() callers in each, every
// token expired (the clock a day ahead in each tab); the emulator counts the refresh requests.
const TABS = 4, CALLERS = 100;
const shared = await browser.newContext();
const tabs = [];
for (let i = 0; i < TABS; i++) {
  const tab = await shared.newPage();
  await tab.goto(`${APP}bench/session.html?storage=local`);
  await tab.waitForFunction(() => window.bench, null, { timeout: 20000 });
  tabs.push(tab);
}
await admin('DELETE', 'requests');
const distinct = await Promise.all(tabs.map((t) => t.evaluate((n) => window.bench.storm(n), CALLERS)));
const log = await admin('GET', 'requests');
const refreshes = log.filter((r) => r.path === '/oauth/token' && r.grant_type === 'refresh_token').length;
await browser.close();

console.log(JSON.stringify({
  callback_ours_ms: median(ours), callback_raw_ms: median(raw), callback_oauth4webapi_ms: median(anchor), callback_runs: RUNS,
  ...paired,
  fetch_ours_ms: oursMs, fetch_raw_ms: rawMs, fetch_calls: FETCHES,
  singleflight_tabs: TABS, singleflight_callers: TABS * CALLERS, singleflight_refresh_requests: refreshes,
  singleflight_distinct_tokens: new Set(distinct.flat()).size,
}));
