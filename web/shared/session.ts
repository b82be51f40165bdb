/** The signed-in agent's access token, kept for this browser tab only (sessionStorage). */
import type { AccessToken } from "./api";

const KEY = "parley.accessToken";

export function loadToken(storage: Storage = sessionStorage, now: number = Date.now()): AccessToken | null {
  const raw = storage.getItem(KEY);
  if (!raw) {
    return null;
  }
  try {
    const token = JSON.parse(raw) as AccessToken;
    if (!token.token || Date.parse(token.date_expires) <= now) {
      storage.removeItem(KEY);
      return null;
    }
    return token;
  } catch {
    storage.removeItem(KEY);
    return null;
  }
}

export function saveToken(token: AccessToken, storage: Storage = sessionStorage): void {
  storage.setItem(KEY, JSON.stringify(token));
}

export function clearToken(storage: Storage = sessionStorage): void {
  storage.removeItem(KEY);
}
