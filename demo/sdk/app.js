// The official Genesys SDK making API calls with the token genesys-auth keeps valid: `connectSdk` (genesys-auth/sdk)
// sets the SDK's token now and on every change, and turns on the refresh ahead of expiry in the background (the
// SDK never asks).
import { GenesysAuth } from '/pkg/index.js';
import { connectSdk } from '/pkg/sdk.js';
import local from '/demo-config.js';

const out = document.getElementById('out');
window.sdkDemo = { state: 'loading', calls: { ok: 0, failed: 0 }, tokens: 0 };
const auth = await GenesysAuth.create({ region: local.region, clientId: local.clientId, redirectUri: `${location.origin}/sdk/`, storage: 'session' });
await auth.handleRedirectCallback();
window.sdkDemo.auth = auth;
if (!auth.isAuthenticated()) {
  const button = document.getElementById('login');
  button.hidden = false;
  button.onclick = () => auth.login({ returnTo: '/sdk/' });
  out.textContent = 'Not signed in.';
  window.sdkDemo.state = 'signed-out';
} else {
  const platformClient = require('platformClient');
  const client = platformClient.ApiClient.instance;
  // Real orgs: client.setEnvironment('mypurecloud.ie'). The emulator is reached through the SDK's gateway setting.
  const api = new URL(local.region);
  if (api.protocol === 'http:') client.setGateway({ host: api.hostname, protocol: 'http', port: Number(api.port) });
  else client.setEnvironment(api.host.replace(/^(api|login|apps)\./, ''));
  await connectSdk(auth, client);
  auth.onTokenChange(() => { window.sdkDemo.tokens += 1; });
  const call = async () => {
    try {
      const me = await new platformClient.UsersApi().getUsersMe({ expand: ['presence'] });
      window.sdkDemo.calls.ok += 1;
      out.className = '';
      out.textContent = `UsersApi.getUsersMe() → ${me.name} <${me.email}>, presence ${me.presence?.presenceDefinition?.systemPresence} (${window.sdkDemo.calls.ok} calls, ${window.sdkDemo.calls.failed} failed)`;
      Object.assign(window.sdkDemo, { state: 'ok', name: me.name, presence: me.presence?.presenceDefinition?.systemPresence });
    } catch (e) {
      window.sdkDemo.calls.failed += 1;
      out.className = 'error';
      out.textContent = `SDK call failed: ${e && (e.message || e.status || JSON.stringify(e))}`;
      Object.assign(window.sdkDemo, { state: 'error', error: String(e && (e.message || e.status)) });
    }
  };
  const again = document.getElementById('call');
  again.hidden = false;
  again.onclick = call;
  await call();
}
