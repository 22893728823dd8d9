import React from 'react';
import { createRoot } from 'react-dom/client';
import { GenesysAuthProvider } from 'genesys-auth/react';
import { App } from './App.jsx';

// In your app: your region and OAuth client id. The demo server writes the local emulator's here.
const settings = await fetch('/demo-config.json').then((r) => r.json()).catch(() => ({
  region: 'mypurecloud.ie',
  clientId: 'YOUR-CLIENT-ID',
}));

createRoot(document.getElementById('root')).render(
  <GenesysAuthProvider
    region={settings.region}
    clientId={settings.clientId}
    redirectUri={`${location.origin}/react/`}
    // Shared by the app's tabs: they refresh one at a time, and a sign-out in one signs every tab out.
    storage="local"
    userExpand="presence"
    // The library has put the return path (e.g. /react/#/profile) back in the address bar: tell the router.
    onRedirectCallback={() => dispatchEvent(new HashChangeEvent('hashchange'))}
  >
    <App />
  </GenesysAuthProvider>,
);
