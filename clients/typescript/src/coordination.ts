// How the tabs of one browser profile share a session: one lock so that a
// single refresh is in flight, and one channel on which every tab hears the
// others' sign-in, refresh and sign-out.

/** The part of the Web Locks API the client uses (`navigator.locks`). */
export interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The part of `BroadcastChannel` the client uses. */
export interface ChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  close(): void;
}

/**
 * A lock within this JavaScript realm only: used when the Web Locks API is
 * missing (Node, old browsers). Tabs then coordinate through the channel and
 * storage alone: a tab that finds a newer session in storage uses it instead
 * of refreshing.
 */
export function localLock(): LockManagerLike {
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(callback, callback);
      tails.set(
        name,
        run.catch(() => undefined),
      );
      return run;
    },
  };
}

/** The browser's Web Locks API when there is one, else a local lock. */
export function defaultLock(): LockManagerLike {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks ?? localLock();
}

/** A `BroadcastChannel` named `name` when the platform has one. */
export function defaultChannel(name: string): ChannelLike | undefined {
  const Channel = (globalThis as { BroadcastChannel?: new (name: string) => ChannelLike }).BroadcastChannel;
  return Channel ? new Channel(name) : undefined;
}
