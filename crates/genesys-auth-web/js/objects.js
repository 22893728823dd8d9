// JS objects the wasm engine hands to apps, built here rather than field by field from Rust: one call instead of
// an import per property keeps the bundle small.

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
