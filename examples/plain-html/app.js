// A page without a build step: `npm install ./genesys-auth-<version>.tgz` (or `npm install genesys-auth` once
// published) and import the module from node_modules; any static server will do.
import { GenesysAuth } from './node_modules/genesys-auth/index.js';

// In your app: your region and OAuth client id. The demo server answers with the local emulator's.
const settings = await fetch('/demo-config.json').then((r) => r.json()).catch(() => ({ region: 'mypurecloud.ie', clientId: 'YOUR-CLIENT-ID' }));

const $ = (id) => document.querySelector(`[data-testid=${id}]`);
function show(...ids) {
  for (const id of ['loading', 'login', 'profile', 'logout', 'error']) $(id).hidden = !ids.includes(id);
}
function failed(e) {
  $('error').textContent = `${e.code ?? 'error'}: ${e.message}`;
  show('error', 'login');
}

const auth = await GenesysAuth.create({ region: settings.region, clientId: settings.clientId, redirectUri: location.origin + location.pathname });
$('login').onclick = () => auth.login().catch(failed);
$('logout').onclick = () => auth.logout().then(() => show('login'), failed);
try {
  await auth.handleRedirectCallback();
  if (auth.isAuthenticated()) {
    const me = await auth.currentUser();
    $('name').textContent = me.name;
    $('email').textContent = me.email;
    show('profile', 'logout');
  } else {
    show('login');
  }
} catch (e) {
  failed(e);
}
