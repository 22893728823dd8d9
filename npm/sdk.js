// genesys-auth/sdk: keeps the official Genesys Cloud SDK (purecloud-platform-client-v2) signed in with a GenesysAuth.
// The SDK never refreshes in a browser and never asks for a token, so this sets its token now and on every change,
// clears it on sign-out, and turns on the background refresh ahead of expiry. No dependency: the app passes its
// ApiClient in.

export async function connectSdk(auth, apiClient) {
  if (typeof apiClient?.setAccessToken != 'function' || typeof auth?.onTokenChange != 'function') {
    throw Object.assign(new TypeError("connectSdk(auth, apiClient) needs a GenesysAuth and the SDK's ApiClient (platformClient.ApiClient.instance)"), { code: 'invalid_config' });
  }
  const apply = () => (auth.isAuthenticated()
    ? auth.accessToken().then((t) => apiClient.setAccessToken(t), () => {})
    : apiClient.setAccessToken(undefined));
  const id = auth.onTokenChange(apply);
  const was = auth.keepFresh(true);
  await apply();
  return () => { auth.offTokenChange(id); auth.keepFresh(was); };
}
