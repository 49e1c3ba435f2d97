/** Where the session is kept between page loads and shared between tabs. */
export interface TokenStorage {
  getItem(key: string): string | null | Promise<string | null>;
  setItem(key: string, value: string): void | Promise<void>;
  removeItem(key: string): void | Promise<void>;
}

/** A storage in memory: the session lasts as long as the page (the default outside browsers). */
export function memoryStorage(): TokenStorage {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => {
      items.set(key, value);
    },
    removeItem: (key) => {
      items.delete(key);
    },
  };
}

/** `localStorage` in a browser, else memory. */
export function defaultStorage(): TokenStorage {
  const local = (globalThis as { localStorage?: TokenStorage }).localStorage;
  return local ?? memoryStorage();
}

/** `sessionStorage` in a browser (this tab, across its page loads), else memory. */
export function defaultFlowStorage(): TokenStorage {
  const session = (globalThis as { sessionStorage?: TokenStorage }).sessionStorage;
  return session ?? memoryStorage();
}
