// The JS form of the library's errors, built in one call from wasm rather than property by property.

/** A `GenesysAuthError`: `code` is stable, `message` says what to do. */
export function authError(code, message, oauthError, status, retryAfterMs, apiCode) {
  const e = new Error(message);
  e.name = 'GenesysAuthError';
  e.code = code;
  if (oauthError !== undefined) e.oauthError = oauthError;
  if (status !== undefined) e.status = status;
  if (retryAfterMs !== undefined) e.retryAfterMs = retryAfterMs;
  if (apiCode !== undefined) e.apiCode = apiCode;
  return e;
}
