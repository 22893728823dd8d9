// An app as Genesys Cloud embeds it: region from gcHostOrigin, popup login inside the frame.
import { GenesysAuth, ready } from '/pkg/index.js';
import local from '/demo-config.js';

const $ = (id) => document.getElementById(id);
window.embedded = { state: 'loading', error: null, region: null };

function fail(e) {
  window.embedded.error = { code: e && e.code, message: e && e.message };
  window.embedded.state = 'error';
  $('error').textContent = `${e.code}: ${e.message}`;
  $('error').hidden = false;
}

async function showProfile(auth) {
  const me = await auth.currentUser('presence');
  $('name').textContent = me.name;
  $('email').textContent = me.email;
  $('presence').textContent = me.presence?.presenceDefinition?.systemPresence ?? '–';
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  $('error').hidden = true;
  window.embedded.user = me.name;
  window.embedded.state = 'signed-in';
}

await ready();
let region;
try {
  // Only known Genesys regions are trusted, plus the local emulator this demo is configured with.
  region = GenesysAuth.regionFromHostParams({ allow: [local.region] }) ?? local.region;
} catch (e) {
  $('region').textContent = 'refused';
  fail(e);
}
if (region) {
  window.embedded.region = region;
  $('region').textContent = region;
  const auth = await GenesysAuth.create({ region, clientId: local.clientId, redirectUri: `${location.origin}/embedded/app.html` });
  if (local.test) window.embedded.auth = auth; // for the end-to-end suites only
  $('framed').textContent = auth.isFramed() ? 'running in a frame: popup sign-in' : 'not framed: redirect sign-in';
  try {
    await auth.handleRedirectCallback();
  } catch (e) { fail(e); }
  if (auth.isAuthenticated()) {
    await showProfile(auth).catch(fail);
  } else {
    $('signed-out').hidden = false;
    window.embedded.state = 'signed-out';
  }
  $('login').onclick = async () => {
    $('error').hidden = true;
    try {
      await auth.login({ returnTo: '/embedded/app.html' }); // a popup when framed
      if (auth.isAuthenticated()) await showProfile(auth);
    } catch (e) { fail(e); }
  };
  $('logout').onclick = async () => { await auth.logout(); $('signed-in').hidden = true; $('signed-out').hidden = false; window.embedded.state = 'signed-out'; };
}
