// The browser's CSPRNG for the engine: a failure is answered, not thrown through wasm.

/** Fills `view` with random bytes; false when the browser refuses. */
export function fillRandom(view) {
  try {
    crypto.getRandomValues(view);
    return true;
  } catch {
    return false;
  }
}
