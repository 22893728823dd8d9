// The official Genesys SDK making API calls with the token genesys-auth keeps valid.
import { GenesysAuth } from '/pkg/index.js';
import local from '/demo-config.js';

const out = document.getElementById('out');
window.sdkDemo = { state: 'loading' };
const auth = await GenesysAuth.create({ region: local.region, clientId: local.clientId, redirectUri: `${location.origin}/sdk/`, storage: 'session' });
await auth.handleRedirectCallback();
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
  client.setAccessToken(await auth.accessToken());
  try {
    const me = await new platformClient.UsersApi().getUsersMe({ expand: ['presence'] });
    out.textContent = `UsersApi.getUsersMe() → ${me.name} <${me.email}>, presence ${me.presence?.presenceDefinition?.systemPresence}`;
    window.sdkDemo = { state: 'ok', name: me.name, presence: me.presence?.presenceDefinition?.systemPresence };
  } catch (e) {
    out.className = 'error';
    out.textContent = `SDK call failed: ${e && (e.message || e.status || JSON.stringify(e))}`;
    window.sdkDemo = { state: 'error', error: String(e && (e.message || e.status)) };
  }
}
