// The genesys-auth demo: sign in, show the profile and the token's time left, sign out, show typed errors.
import { GenesysAuth } from '/pkg/index.js';
import local from '/demo-config.js';

const SETTINGS_KEY = 'genesys-auth-demo:settings';
const $ = (id) => document.getElementById(id);
const REGIONS = ['mypurecloud.com', 'mypurecloud.ie', 'mypurecloud.de', 'mypurecloud.com.au', 'mypurecloud.jp',
  'usw2.pure.cloud', 'cac1.pure.cloud', 'euw2.pure.cloud', 'aps1.pure.cloud', 'apne2.pure.cloud', 'sae1.pure.cloud'];

/** A region a link may choose without asking: a Genesys Cloud region or the local emulator. */
const knownRegion = (r) => REGIONS.includes(r) || r === local.region;

/**
 * Settings: URL parameters, then saved settings, then the local emulator. Never tokens. A link cannot point the
 * page at an unknown host: such a region waits in Settings until the user confirms it (`unconfirmed`).
 */
function loadSettings() {
  let saved = {};
  try { saved = JSON.parse(localStorage.getItem(SETTINGS_KEY) || '{}') || {}; } catch { saved = {}; }
  const url = new URLSearchParams(location.search);
  const unconfirmed = url.has('region') && !knownRegion(url.get('region')) ? url.get('region') : undefined;
  if (unconfirmed) url.delete('region');
  const pick = (k, fallback) => url.get(k) || (typeof saved[k] === 'string' && saved[k]) || fallback;
  const settings = { region: pick('region', local.region), clientId: pick('clientId', local.clientId), storage: pick('storage', 'memory'), unconfirmed };
  // Single sign-on is chosen in Settings only, never by a link.
  for (const k of ['org', 'provider']) if (typeof saved[k] === 'string' && saved[k]) settings[k] = saved[k];
  // Settings given in the URL are kept, so they survive the round trip to the login page.
  if (['region', 'clientId', 'storage'].some((k) => url.has(k))) {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify({ region: settings.region, clientId: settings.clientId, storage: settings.storage, org: settings.org, provider: settings.provider }));
  }
  return settings;
}

function show(screen) {
  document.body.dataset.screen = screen;
  demo.screen = screen;
}

function showError(err) {
  console.info('genesys-auth error:', err && err.code);
  $('error-code').textContent = (err && err.code) || 'unexpected';
  const message = (err && err.message) || String(err);
  $('error-message').textContent = message.charAt(0).toUpperCase() + message.slice(1) + '.';
  demo.error = { code: err && err.code, message: err && err.message, oauthError: err && err.oauthError };
  show('error');
}

let auth;
let timer;
const settings = loadSettings();
// The demo's state; the end-to-end suites read it as `window.demo`, which only the test server turns on.
const demo = { screen: 'loading', error: null, settings, retries: [], reports: [] };
if (local.test) window.demo = demo;

function fillSettingsForm() {
  const form = $('settings-form');
  form.region.value = settings.unconfirmed ?? settings.region;
  form.clientId.value = settings.clientId;
  form.storage.value = settings.storage;
  form.org.value = settings.org ?? '';
  form.provider.value = settings.provider ?? '';
  $('redirect-uri').textContent = location.origin + '/';
  $('regions').innerHTML = REGIONS.map((r) => `<option value="${r}">`).join('');
  $('target').textContent = `${settings.region} · ${settings.storage} storage${settings.org ? ` · SSO ${settings.org} / ${settings.provider}` : ''}`;
  form.onsubmit = (e) => {
    e.preventDefault();
    const next = { region: form.region.value.trim(), clientId: form.clientId.value.trim(), storage: form.storage.value,
      org: form.org.value.trim() || undefined, provider: form.provider.value.trim() || undefined };
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(next));
    location.assign('/');
  };
  $('reset-settings').onclick = () => { localStorage.removeItem(SETTINGS_KEY); location.assign('/'); };
}

function tickTokenTime() {
  const { expiresAt } = auth.state();
  if (!expiresAt) { $('token-left').textContent = '–'; return; }
  const s = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  $('token-left').textContent = `${h}h ${String(m).padStart(2, '0')}m ${String(sec).padStart(2, '0')}s`;
}

async function showDashboard() {
  const me = await auth.currentUser('presence,routingStatus,organization');
  $('user-name').textContent = me.name;
  $('user-title').textContent = me.title || '';
  $('user-email').textContent = me.email || me.username || '';
  $('user-department').textContent = me.department || '–';
  $('user-presence').textContent = me.presence?.presenceDefinition?.systemPresence ?? '–';
  $('user-routing').textContent = me.routingStatus?.status ?? '–';
  $('user-org').textContent = me.organization?.name ?? '–';
  $('avatar').textContent = (me.name || '?').split(' ').map((w) => w[0]).join('').slice(0, 2);
  $('token-storage').textContent = `(${settings.storage} storage)`;
  demo.user = { name: me.name, email: me.email };
  clearInterval(timer);
  tickTokenTime();
  timer = setInterval(tickTokenTime, 1000);
  show('dashboard');
}

async function login() {
  try { await auth.login({ returnTo: '/', org: settings.org, provider: settings.provider }); } catch (e) { showError(e); }
}

async function main() {
  fillSettingsForm();
  try {
    auth = await GenesysAuth.create({
      region: settings.region,
      clientId: settings.clientId,
      redirectUri: location.origin + '/',
      storage: settings.storage,
      onRetry: (e) => {
        demo.retries.push(e);
        $('events').textContent = `retrying ${new URL(e.url).pathname} after ${e.status ? 'HTTP ' + e.status : 'a network error'} in ${e.delayMs} ms`;
      },
      // What ends nothing (a full storage: the session goes on in this tab only) is shown, not hidden.
      onReport: (e) => {
        demo.reports.push(e.code);
        $('events').textContent = e.message;
      },
    });
  } catch (e) { showError(e); return; }
  demo.auth = auth;
  auth.onTokenChange((s) => {
    demo.authenticated = s.authenticated;
    tickTokenTime();
    // Signed out here or in another tab (shared storage): back to the login screen.
    if (!s.authenticated && demo.screen === 'dashboard') { clearInterval(timer); show('login'); }
  });
  if (settings.unconfirmed) {
    // Shown as text, never used: the user confirms it by saving Settings.
    $('notice').textContent = `This link asks for the region "${settings.unconfirmed}", which is not a known Genesys Cloud region. It is not used: check it and save it in Settings to use it.`;
    $('notice').hidden = false;
  }
  const discarded = auth.discardedStorage();
  if (discarded) { $('notice').textContent = discarded.message; $('notice').hidden = false; demo.discarded = discarded.code; }

  $('login-button').onclick = login;
  $('error-retry').onclick = login;
  $('error-back').onclick = () => { history.replaceState(null, '', '/'); show(auth.isAuthenticated() ? 'dashboard' : 'login'); };
  $('reload-profile').onclick = () => showDashboard().catch(showError);
  $('refresh-token').onclick = () => auth.refresh().then(tickTokenTime).catch(showError);
  $('logout-button').onclick = async () => { await auth.logout(); clearInterval(timer); show('login'); };
  $('logout-sso-button').onclick = () => auth.logout({ sso: true }).catch(showError);

  try {
    await auth.handleRedirectCallback();
    if (auth.isAuthenticated()) await showDashboard(); else show('login');
  } catch (e) { showError(e); }
}

main();
