import React, { useEffect, useState } from 'react';
import { auth, callback, useAuth } from './auth.js';

const box = { maxWidth: 560, margin: '40px auto', font: '15px/1.5 system-ui, sans-serif', color: '#1d2433' };
const button = { font: 'inherit', padding: '8px 14px', borderRadius: 8, border: '1px solid #2a60c8', background: '#2a60c8', color: '#fff', cursor: 'pointer' };

/** A tiny hash router: #/ is public, #/profile is protected. */
function useRoute() {
  const [route, setRoute] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setRoute(location.hash || '#/');
    addEventListener('hashchange', on);
    // After a login the library puts the return path (e.g. /react/#/profile) back in the address bar.
    callback.then(on, on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Profile() {
  const [me, setMe] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    auth.currentUser('presence').then(setMe, setError);
  }, []);
  if (error) return <p role="alert" data-testid="error">{error.code}: {error.message}</p>;
  if (!me) return <p>Loading profile…</p>;
  return (
    <dl data-testid="profile">
      <dt>Name</dt><dd data-testid="name">{me.name}</dd>
      <dt>Email</dt><dd>{me.email}</dd>
      <dt>Presence</dt><dd>{me.presence?.presenceDefinition?.systemPresence}</dd>
    </dl>
  );
}

/** Renders its children only when signed in; otherwise offers to sign in and come back here. */
function Protected({ children }) {
  const { authenticated } = useAuth();
  if (authenticated) return children;
  return (
    <div>
      <p>This page needs you to sign in.</p>
      <button style={button} data-testid="login" onClick={() => auth.login({ returnTo: '/react/#/profile' })}>
        Sign in with Genesys Cloud
      </button>
    </div>
  );
}

export function App() {
  const route = useRoute();
  const { authenticated, expiresAt } = useAuth();
  const [failure, setFailure] = useState(null);
  useEffect(() => { callback.catch(setFailure); }, []);
  return (
    <main style={box}>
      <h1>genesys-auth · React + Vite</h1>
      <nav style={{ display: 'flex', gap: 12 }}>
        <a href="#/">Home</a>
        <a href="#/profile" data-testid="profile-link">Profile (protected)</a>
        {authenticated && <button style={button} data-testid="logout" onClick={() => auth.logout()}>Sign out</button>}
      </nav>
      {failure && <p role="alert">{failure.code}: {failure.message}</p>}
      <p data-testid="status">
        {authenticated ? `Signed in; token valid until ${new Date(expiresAt).toLocaleTimeString()}.` : 'Signed out.'}
      </p>
      {route === '#/profile' ? <Protected><Profile /></Protected> : <p>Public home page.</p>}
    </main>
  );
}
