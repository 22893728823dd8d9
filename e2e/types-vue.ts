// Compiled by `cargo xtask test` with `tsc --noEmit --strict` against the built package: the declarations of
// `genesys-auth/vue` must describe what Vue apps write.
import { createApp, defineComponent, h, type Ref } from 'vue';
import { RequireAuth, createGenesysAuth, useGenesysAuth, type GenesysAuthVue } from '../target/npm/genesys-auth/vue.js';
import type { GenesysAuth, GenesysAuthError } from '../target/npm/genesys-auth/index.js';

const auth: GenesysAuthVue = createGenesysAuth({
  region: 'mypurecloud.ie', clientId: 'cid', redirectUri: 'http://localhost:3000/', storage: 'session',
  userExpand: 'presence', onRedirectCallback: (to: string) => history.replaceState(null, '', to),
});

const Profile = defineComponent(() => {
  const { isLoading, isAuthenticated, user, error, expiresAt, login, logout, accessToken, fetch, client } = useGenesysAuth();
  const failure: Readonly<Ref<GenesysAuthError | null>> = error;
  const when: number | null | undefined = expiresAt.value;
  const c: GenesysAuth | null = client.value;
  const check = async (): Promise<string> => `${(await fetch('/api/v2/users/me')).status} ${await accessToken()}`;
  return () => isLoading.value ? h('p', 'Loading…')
    : isAuthenticated.value ? h('button', { onClick: () => { check(); logout({ returnTo: '/' }); } }, `${user.value?.name} ${failure.value?.code} ${when} ${c?.isFramed()}`)
    : h('button', { onClick: () => login({ org: 'acme', provider: 'okta' }) }, 'Sign in');
});

const App = defineComponent(() => () => h(RequireAuth, { loginOptions: { prompt: 'login' } }, { default: () => h(Profile) }));
auth.ready.then((a: GenesysAuth | null) => a?.isAuthenticated());
createApp(App).use(auth).mount('#app');
