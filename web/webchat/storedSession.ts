/** The guest's chat, kept in the page's localStorage so a reload (or another tab) picks it up again. */

export interface StoredSession {
  conversationSid: string;
  identity: string;
  token: string;
  /** The highest message index this browser has shown; the socket resumes after it. */
  lastIndex: number | null;
}

export function storageKey(addressSid: string): string {
  return `parley.webchat.${addressSid}`;
}

export function loadSession(addressSid: string, storage: Storage = localStorage): StoredSession | null {
  const raw = storage.getItem(storageKey(addressSid));
  if (!raw) {
    return null;
  }
  try {
    const session = JSON.parse(raw) as StoredSession;
    if (typeof session.conversationSid !== "string" || typeof session.token !== "string") {
      throw new Error("incomplete");
    }
    return { ...session, lastIndex: typeof session.lastIndex === "number" ? session.lastIndex : null };
  } catch {
    storage.removeItem(storageKey(addressSid));
    return null;
  }
}

export function saveSession(addressSid: string, session: StoredSession, storage: Storage = localStorage): void {
  storage.setItem(storageKey(addressSid), JSON.stringify(session));
}

export function forgetSession(addressSid: string, storage: Storage = localStorage): void {
  storage.removeItem(storageKey(addressSid));
}
