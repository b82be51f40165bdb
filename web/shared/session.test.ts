import { describe, expect, it } from "vitest";

import type { AccessToken } from "./api";
import { clearToken, loadToken, saveToken } from "./session";

class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const token: AccessToken = {
  token: "eyJ.a.b",
  identity: "ana",
  account_sid: "AC1",
  agent_sid: "AG1",
  ttl: 3600,
  date_expires: "2030-01-01T00:00:00Z",
};

describe("the signed-in token", () => {
  it("is kept until it expires", () => {
    const storage = new MemoryStorage();
    saveToken(token, storage);
    expect(loadToken(storage, Date.parse("2029-12-31T23:59:59Z"))).toEqual(token);
    expect(loadToken(storage, Date.parse("2030-01-01T00:00:00Z"))).toBeNull();
    expect(storage.length).toBe(0);
  });

  it("is forgotten on sign-out or when unreadable", () => {
    const storage = new MemoryStorage();
    saveToken(token, storage);
    clearToken(storage);
    expect(loadToken(storage)).toBeNull();
    storage.setItem("parley.accessToken", "{not json");
    expect(loadToken(storage)).toBeNull();
  });
});
