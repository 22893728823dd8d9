// genesys-auth/vue: a plugin that creates one GenesysAuth and finishes the callback, a composable with reactive
// state, and a guard component for protected views. Vue 3 is the only dependency (a peer); no template compiler.
import { computed, defineComponent, h, inject, markRaw, reactive, readonly, toRefs, watch } from 'vue';
import { GenesysAuth } from './index.js';

const KEY = Symbol('genesys-auth');

/** Where the page is now, as a same-origin path to come back to after a login. */
const here = () => location.pathname + location.search + location.hash;

export function createGenesysAuth(options = {}) {
  const { client, userExpand, onRedirectCallback, ...createOptions } = options;
  const state = reactive({
    isLoading: true, isAuthenticated: false, expiresAt: undefined, user: null, error: null, signedOut: false, client: null,
  });
  const ready = (client ? Promise.resolve(client) : GenesysAuth.create(createOptions)).then(async (a) => {
    state.client = markRaw(a);
    try {
      const returnTo = await a.handleRedirectCallback();
      if (returnTo !== undefined && onRedirectCallback) onRedirectCallback(returnTo);
    } catch (error) {
      state.error = error;
    }
    const follow = (s) => { state.isAuthenticated = s.authenticated; state.expiresAt = s.expiresAt; state.signedOut = s.signedOut; };
    a.onTokenChange(follow);
    follow(a.state());
    state.isLoading = false;
    return a;
  }, (error) => { state.error = error; state.isLoading = false; return null; });
  // The profile, once per sign-in.
  watch(() => state.isAuthenticated, (yes) => {
    state.user = null;
    if (yes) state.client.currentUser(userExpand).then((u) => { if (state.isAuthenticated) state.user = u; }, (error) => { state.error = error; });
  });
  const need = () => ready.then((a) => a ?? Promise.reject(state.error));
  const fail = (error) => { state.error = error; throw error; };
  const auth = {
    ...toRefs(readonly(state)),
    ready,
    login: (o) => need().then((a) => a.login({ returnTo: here(), ...o })).catch(fail),
    logout: (o) => need().then((a) => a.logout(o)).catch(fail),
    accessToken: () => need().then((a) => a.accessToken()),
    fetch: (pathOrUrl, init) => need().then((a) => a.fetch(pathOrUrl, init)),
    install(app) {
      app.provide(KEY, auth);
      app.config.globalProperties.$genesysAuth = auth;
    },
  };
  return auth;
}

export function useGenesysAuth() {
  const auth = inject(KEY, null);
  if (!auth) throw new Error('useGenesysAuth() needs app.use(createGenesysAuth(...)) first');
  return auth;
}

/**
 * Renders its default slot only when signed in. Signed out, it starts the login (back here afterwards) and renders
 * the `fallback` slot meanwhile. After a failed login, after the app's own logout(), and inside a frame (where a
 * login is a popup, opened from a click), it renders a "Sign in" button instead; an error is in `error`.
 */
export const RequireAuth = defineComponent({
  name: 'RequireAuth',
  props: { loginOptions: { type: Object, default: undefined } },
  setup(props, { slots }) {
    const auth = useGenesysAuth();
    // `signedOut` is read so that a sign-out in another tab computes this again; the library decides.
    const going = computed(() => !auth.isLoading.value && !auth.isAuthenticated.value && !auth.error.value
      && !auth.signedOut.value && !!auth.client.value?.shouldAutoLogin());
    watch(going, (go) => { if (go) auth.login(props.loginOptions).catch(() => {}); }, { immediate: true });
    return () => {
      if (auth.isAuthenticated.value) return slots.default?.();
      if (auth.isLoading.value || going.value) return slots.fallback?.() ?? null;
      return h('button', { type: 'button', onClick: () => auth.login(props.loginOptions).catch(() => {}) }, 'Sign in');
    };
  },
});
