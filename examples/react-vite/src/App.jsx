import React, { useEffect, useState } from 'react';
import { RequireAuth, useGenesysAuth } from 'genesys-auth/react';

const box = { maxWidth: 560, margin: '40px auto', font: '15px/1.5 system-ui, sans-serif', color: '#1d2433' };
const button = { font: 'inherit', padding: '8px 14px', borderRadius: 8, border: '1px solid #2a60c8', background: '#2a60c8', color: '#fff', cursor: 'pointer' };

/** A tiny hash router: #/ is public, #/profile is protected. */
function useRoute() {
  const [route, setRoute] = useState(location.hash || '#/');
  useEffect(() => {
    const on = () => setRoute(location.hash || '#/');
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Profile() {
  const { user } = useGenesysAuth();
  if (!user) return <p>Loading profile…</p>;
  return (
    <dl data-testid="profile">
      <dt>Name</dt><dd data-testid="name">{user.name}</dd>
      <dt>Email</dt><dd>{user.email}</dd>
      <dt>Presence</dt><dd>{user.presence?.presenceDefinition?.systemPresence}</dd>
    </dl>
  );
}

export function App() {
  const route = useRoute();
  const { isLoading, isAuthenticated, expiresAt, error, login, logout } = useGenesysAuth();
  const signOut = () => { location.hash = '#/'; logout(); };
  return (
    <main style={box}>
      <h1>genesys-auth · React + Vite</h1>
      <nav style={{ display: 'flex', gap: 12 }}>
        <a href="#/">Home</a>
        <a href="#/profile" data-testid="profile-link">Profile (protected)</a>
        {!isLoading && (isAuthenticated
          ? <button style={button} data-testid="logout" onClick={signOut}>Sign out</button>
          : <button style={button} data-testid="login" onClick={() => login({ returnTo: '/react/#/profile' })}>Sign in with Genesys Cloud</button>)}
      </nav>
      {error && <p role="alert" data-testid="error">{error.code}: {error.message}</p>}
      <p data-testid="status">
        {isLoading ? 'Starting…' : isAuthenticated ? `Signed in; token valid until ${new Date(expiresAt).toLocaleTimeString()}.` : 'Signed out.'}
      </p>
      {route === '#/profile'
        ? <RequireAuth fallback={<p>Signing you in…</p>}><Profile /></RequireAuth>
        : <p>Public home page.</p>}
    </main>
  );
}
