// A Vue 3 app with genesys-auth/vue: a public home page, a protected profile page, sign-in and sign-out.
// Render functions, so that no template compiler or Vue plugin for Vite is needed.
import { createApp, defineComponent, h, ref } from 'vue';
import { RequireAuth, createGenesysAuth, useGenesysAuth } from 'genesys-auth/vue';

// In your app: your region and OAuth client id. The demo server writes the local emulator's here.
const settings = await fetch('/demo-config.json').then((r) => r.json()).catch(() => ({
  region: 'mypurecloud.ie',
  clientId: 'YOUR-CLIENT-ID',
}));

/** A tiny hash router: #/ is public, #/profile is protected. */
const route = ref(location.hash || '#/');
const follow = () => { route.value = location.hash || '#/'; };
addEventListener('hashchange', follow);

const auth = createGenesysAuth({
  region: settings.region,
  clientId: settings.clientId,
  redirectUri: `${location.origin}/vue/`,
  // Shared by the app's tabs: they refresh one at a time, and a sign-out in one signs every tab out.
  storage: 'local',
  userExpand: 'presence',
  // The library has put the return path (e.g. /vue/#/profile) back in the address bar: tell the router.
  onRedirectCallback: follow,
});

const button = { font: 'inherit', padding: '8px 14px', borderRadius: '8px', border: '1px solid #2a60c8', background: '#2a60c8', color: '#fff', cursor: 'pointer' };

const Profile = defineComponent(() => {
  const { user } = useGenesysAuth();
  return () => (user.value
    ? h('dl', { 'data-testid': 'profile' }, [
      h('dt', 'Name'), h('dd', { 'data-testid': 'name' }, user.value.name),
      h('dt', 'Email'), h('dd', user.value.email),
      h('dt', 'Presence'), h('dd', user.value.presence?.presenceDefinition?.systemPresence),
    ])
    : h('p', 'Loading profile…'));
});

const App = defineComponent(() => {
  const { isLoading, isAuthenticated, expiresAt, error, login, logout } = useGenesysAuth();
  const signOut = () => { location.hash = '#/'; logout(); };
  return () => h('main', { style: { maxWidth: '560px', margin: '40px auto', font: '15px/1.5 system-ui, sans-serif', color: '#1d2433' } }, [
    h('h1', 'genesys-auth · Vue + Vite'),
    h('nav', { style: { display: 'flex', gap: '12px' } }, [
      h('a', { href: '#/' }, 'Home'),
      h('a', { href: '#/profile', 'data-testid': 'profile-link' }, 'Profile (protected)'),
      isLoading.value ? null : isAuthenticated.value
        ? h('button', { style: button, 'data-testid': 'logout', onClick: signOut }, 'Sign out')
        : h('button', { style: button, 'data-testid': 'login', onClick: () => login({ returnTo: '/vue/#/profile' }) }, 'Sign in with Genesys Cloud'),
    ]),
    error.value ? h('p', { role: 'alert', 'data-testid': 'error' }, `${error.value.code}: ${error.value.message}`) : null,
    h('p', { 'data-testid': 'status' }, isLoading.value ? 'Starting…'
      : isAuthenticated.value ? `Signed in; token valid until ${new Date(expiresAt.value).toLocaleTimeString()}.` : 'Signed out.'),
    route.value === '#/profile'
      ? h(RequireAuth, null, { default: () => h(Profile), fallback: () => h('p', 'Signing you in…') })
      : h('p', 'Public home page.'),
  ]);
});

createApp(App).use(auth).mount('#app');
