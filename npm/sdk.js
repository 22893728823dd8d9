// genesys-auth/sdk: keeps the official Genesys Cloud SDK (purecloud-platform-client-v2) signed in with a GenesysAuth.
// The SDK never refreshes in a browser and never asks for a token, so this sets its token now and on every change,
// clears it on sign-out, and turns on the background refresh ahead of expiry. No dependency: the app passes its
// ApiClient in. The token goes to the SDK only while the SDK's API host is the library's (the same host rule as
// auth.fetch): an SDK pointed elsewhere (setEnvironment from a URL parameter, say) gets no token.

const invalid = (message) => Object.assign(new TypeError(message), { name: 'GenesysAuthError', code: 'invalid_config' });

/** The API base the SDK sends to: its gateway when one is set, else its environment's base path. */
function sdkBase(apiClient) {
  const config = apiClient.config;
  const base = config?.basePath ?? apiClient.basePath;
  if (typeof config?.getConfUrl == 'function') return config.getConfUrl('api', base);
  return base;
}

export async function connectSdk(auth, apiClient) {
  if (typeof apiClient?.setAccessToken != 'function' || typeof auth?.onTokenChange != 'function') {
    throw invalid("connectSdk(auth, apiClient) needs a GenesysAuth and the SDK's ApiClient (platformClient.ApiClient.instance)");
  }
  /** Undefined while the SDK sends to the library's API origin, else the error that says where each points. */
  const mismatch = () => {
    const base = sdkBase(apiClient);
    if (typeof base == 'string' && auth.apiUrl(`${base.replace(/\/+$/, '')}/api/v2/tokens/me`) !== undefined) return undefined;
    const ours = new URL(auth.apiUrl('/api/v2/tokens/me')).origin;
    return invalid(`the SDK's API host (${typeof base == 'string' ? base : 'not set'}) is not this session's (${ours}): call setEnvironment or setGateway with the region genesys-auth signs in to; the SDK gets no token until they match`);
  };
  const apply = () => {
    if (mismatch() || !auth.isAuthenticated()) return apiClient.setAccessToken(undefined);
    return auth.accessToken().then((t) => (mismatch() ? apiClient.setAccessToken(undefined) : apiClient.setAccessToken(t)), () => {});
  };
  const wrong = mismatch();
  if (wrong) {
    apiClient.setAccessToken(undefined);
    throw wrong;
  }
  const id = auth.onTokenChange(apply);
  const was = auth.keepFresh(true);
  await apply();
  return () => { auth.offTokenChange(id); auth.keepFresh(was); };
}
