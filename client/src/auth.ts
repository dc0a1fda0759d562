/**
 * An optional API key for people allowed to see restricted layers (hazardous-
 * chemical enterprises) and fields. Kept for the browser tab only (sessionStorage),
 * never in the URL; sent as `Authorization: Bearer` on every request the client
 * makes with fetch. EventSource cannot send headers, so the live stream stays
 * anonymous: restricted layers catch up when their tiles reload.
 */
const STORAGE_KEY = 'onemap.apiKey';

export function apiKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(STORAGE_KEY, key.trim());
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** Headers to add to a request: the key, when there is one. */
export function authHeaders(): Record<string, string> {
  const key = apiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}
