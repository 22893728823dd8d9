// One GenesysAuth for the whole app, and a React hook that follows its state.
import { useEffect, useState } from 'react';
import { GenesysAuth } from 'genesys-auth';

// In your app: your region and OAuth client id. The demo server writes the local emulator's here.
const settings = await fetch('/demo-config.json').then((r) => r.json()).catch(() => ({
  region: 'mypurecloud.ie',
  clientId: 'YOUR-CLIENT-ID',
}));

export const auth = await GenesysAuth.create({
  region: settings.region,
  clientId: settings.clientId,
  redirectUri: `${location.origin}/react/`,
  storage: 'session',
});

// Finish a login when this page load is the callback (returns to the protected route it came from).
export const callback = auth.handleRedirectCallback();

export function useAuth() {
  const [state, setState] = useState(auth.state());
  useEffect(() => {
    const id = auth.onTokenChange(setState);
    callback.then(() => setState(auth.state()), () => setState(auth.state()));
    return () => auth.offTokenChange(id);
  }, []);
  return state;
}
