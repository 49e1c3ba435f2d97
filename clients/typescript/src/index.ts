// @authql/client: sign up, sign in, keep the session fresh, sign out, and
// keep every tab of a browser profile on one session.

import {
  COMPLETE_PROVIDER_SIGN_IN,
  LOGIN,
  LOGOUT,
  ME,
  REFRESH,
  REGISTER,
  SIGN_IN_PROVIDERS,
  START_PROVIDER_SIGN_IN,
  VERIFY_SECOND_FACTOR,
  START_PASSKEY_REGISTRATION,
  FINISH_PASSKEY_REGISTRATION,
  START_PASSKEY_SIGN_IN,
  FINISH_PASSKEY_SIGN_IN,
  START_PASSKEY_SIGN_UP,
  FINISH_PASSKEY_SIGN_UP,
} from "./documents.js";
import { type CredentialsLike, browserCredentials, creationOptions, credentialJson, requestOptions } from "./passkeys.js";
import { AuthqlError, NetworkError, SecondFactorRequiredError } from "./errors.js";
import { type ChannelLike, type LockManagerLike, defaultChannel, defaultLock } from "./coordination.js";
import { type TokenStorage, defaultFlowStorage, defaultStorage } from "./storage.js";
import type {
  CompleteProviderSignInMutation,
  LoginInput,
  LoginMutation,
  LogoutMutation,
  LogoutScope,
  MeQuery,
  RefreshMutation,
  RegisterInput,
  RegisterMutation,
  SessionFieldsFragment,
  SignInProvidersQuery,
  StartProviderSignInMutation,
  UserFieldsFragment,
  VerifySecondFactorInput,
  VerifySecondFactorMutation,
  StartPasskeyRegistrationMutation,
  FinishPasskeyRegistrationMutation,
  StartPasskeySignInMutation,
  FinishPasskeySignInMutation,
  StartPasskeySignUpMutation,
  FinishPasskeySignUpMutation,
  PasskeyFieldsFragment,
} from "./generated.js";

export { AuthqlError, NetworkError, SecondFactorRequiredError } from "./errors.js";
export { type TokenStorage, memoryStorage } from "./storage.js";
export { type LockManagerLike, type ChannelLike, localLock } from "./coordination.js";
export type { CredentialsLike } from "./passkeys.js";

/** A passkey of the user's (`me.passkeys`). */
export type Passkey = PasskeyFieldsFragment;

export interface PasskeyOptions {
  /** Default: the browser's `navigator.credentials`. */
  credentials?: CredentialsLike;
}
export type { LoginInput, RegisterInput, LogoutScope, VerifySecondFactorInput } from "./generated.js";

/** The signed-in user. */
export type User = UserFieldsFragment;

/** A provider users may sign in with (`signInProviders`). */
export type SignInProvider = SignInProvidersQuery["signInProviders"][number];

export interface ProviderSignInOptions {
  /**
   * Where the provider's answer brings the browser back (it must be in
   * authql's `AUTHQL_REDIRECT_URLS`); default: this page without its query.
   */
  redirectTo?: string;
  /** Default: `window.location.assign`. */
  navigate?: (url: string) => void;
}

/** A signed-in session as the client keeps it. */
export interface Session {
  accessToken: string;
  /** When the access token expires (ms since the epoch). */
  accessTokenExpiresAt: number;
  /** When it was received (ms since the epoch), to refresh ahead of expiry. */
  receivedAt: number;
  /** Null with the `cookie` transport: the refresh token is an HttpOnly cookie. */
  refreshToken: string | null;
  refreshTokenExpiresAt: number;
  user: User;
}

export interface AuthClientOptions {
  /** authql's GraphQL endpoint, e.g. `https://auth.example.com/graphql`. */
  url: string;
  /**
   * Where the session is kept; tabs of one profile share it. Default:
   * `localStorage` in browsers, memory elsewhere.
   */
  storage?: TokenStorage;
  /**
   * `body` (default): the refresh token is in the session (and storage).
   * `cookie`: authql keeps it in an HttpOnly cookie; requests carry
   * credentials. The server's `AUTHQL_REFRESH_TOKEN_TRANSPORT` must allow it.
   */
  transport?: "body" | "cookie";
  /** Refresh when the access token has less than this left (ms); default 30 s, at most half its life. */
  refreshAhead?: number;
  /** The key in storage and the name of the lock and channel; default `authql`. */
  name?: string;
  /** Default: `navigator.locks`, else a lock within this page. */
  lock?: LockManagerLike;
  /** Default: a `BroadcastChannel`, when the platform has one; `null`: none. */
  channel?: ChannelLike | null;
  /** Default: the global `fetch`. */
  fetch?: typeof fetch;
  /**
   * Where a provider sign-in's PKCE verifier waits while the browser is at
   * the provider. Default: `sessionStorage` (this tab), else memory.
   */
  flowStorage?: TokenStorage;
}

export type AuthEvent = "signedIn" | "signedOut" | "tokenRefreshed" | "sessionRevoked";

type Listener = (session: Session | null) => void;

type Broadcast =
  | { type: "signedIn" | "tokenRefreshed"; session: Session }
  | { type: "signedOut" | "sessionRevoked" };

/** The answer to a GraphQL request, with its errors thrown. */
interface Answer<T> {
  data: T;
}

/** An authql client for one endpoint. */
export class AuthClient {
  readonly url: string;
  readonly transport: "body" | "cookie";
  private readonly storage: TokenStorage;
  private readonly flowStorage: TokenStorage;
  private readonly lock: LockManagerLike;
  private readonly channel: ChannelLike | undefined;
  private readonly fetcher: typeof fetch;
  private readonly key: string;
  private readonly refreshAhead: number;
  private readonly listeners = new Map<AuthEvent, Set<Listener>>();
  private current: Session | null = null;
  private loaded = false;
  private refreshing: Promise<Session | null> | undefined;
  /** How many refresh requests this client sent (for tests and metrics). */
  refreshCount = 0;

  constructor(options: AuthClientOptions) {
    this.url = options.url;
    this.transport = options.transport ?? "body";
    this.storage = options.storage ?? defaultStorage();
    this.flowStorage = options.flowStorage ?? defaultFlowStorage();
    this.key = options.name ?? "authql";
    this.lock = options.lock ?? defaultLock();
    this.channel = options.channel === null ? undefined : (options.channel ?? defaultChannel(this.key));
    this.fetcher = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.refreshAhead = options.refreshAhead ?? 30_000;
    this.channel?.addEventListener("message", (event) => this.hear(event.data as Broadcast));
  }

  /** The session as last known (call `getAccessToken` to be sure it is fresh). */
  get session(): Session | null {
    return this.current;
  }

  /** The signed-in user, if any. */
  get user(): User | null {
    return this.current?.user ?? null;
  }

  /** Listens to `event`, here and in the profile's other tabs; returns the unsubscribe function. */
  on(event: AuthEvent, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Creates an account and signs it in. */
  async register(input: RegisterInput): Promise<Session> {
    const { data } = await this.send<RegisterMutation>(REGISTER, { input }, null);
    return this.signedIn(data.register);
  }

  /**
   * Signs in with e-mail and password (a new session). For an account with
   * two-step sign-in it throws `SecondFactorRequiredError` (no session yet):
   * pass its `mfaToken` with a code to `verifySecondFactor`.
   */
  async login(input: LoginInput): Promise<Session> {
    const { data } = await this.send<LoginMutation>(LOGIN, { input }, null);
    return this.signedIn(data.login);
  }

  /** The second step of a sign-in: the `mfaToken` and a TOTP or recovery code open the session. */
  async verifySecondFactor(input: VerifySecondFactorInput): Promise<Session> {
    const { data } = await this.send<VerifySecondFactorMutation>(VERIFY_SECOND_FACTOR, { input }, null);
    return this.signedIn(data.verifySecondFactor);
  }

  /**
   * Adds a passkey to the signed-in user's account: the browser asks the
   * user to create one (fingerprint, face, screen lock or security key).
   * Needs a sign-in within the last 10 minutes (else `RECENT_SIGN_IN_REQUIRED`).
   */
  async registerPasskey(name?: string, options: PasskeyOptions = {}): Promise<Passkey> {
    const credentials = options.credentials ?? browserCredentials();
    const started = (await this.request<StartPasskeyRegistrationMutation>(START_PASSKEY_REGISTRATION))
      .startPasskeyRegistration;
    const credential = await credentials.create({ publicKey: creationOptions(started.options) });
    const finished = await this.request<FinishPasskeyRegistrationMutation>(FINISH_PASSKEY_REGISTRATION, {
      input: { challengeId: started.challengeId, credential: credentialJson(credential), name },
    });
    return finished.finishPasskeyRegistration;
  }

  /**
   * Signs in with a passkey: with no address the browser offers the
   * passkeys it holds for this site (usernameless); with `email`, that
   * account's. The session is two-factor (`aal2`).
   */
  async signInWithPasskey(input: { email?: string } = {}, options: PasskeyOptions = {}): Promise<Session> {
    const credentials = options.credentials ?? browserCredentials();
    const started = (
      await this.send<StartPasskeySignInMutation>(
        START_PASSKEY_SIGN_IN,
        { input: input.email ? { email: input.email } : null },
        null,
      )
    ).data.startPasskeySignIn;
    const credential = await credentials.get({ publicKey: requestOptions(started.options) });
    const { data } = await this.send<FinishPasskeySignInMutation>(
      FINISH_PASSKEY_SIGN_IN,
      { input: { challengeId: started.challengeId, credential: credentialJson(credential) } },
      null,
    );
    return this.signedIn(data.finishPasskeySignIn);
  }

  /** Creates an account with a passkey alone (no password) and signs it in. */
  async signUpWithPasskey(input: { name: string; email: string }, options: PasskeyOptions = {}): Promise<Session> {
    const credentials = options.credentials ?? browserCredentials();
    const started = (await this.send<StartPasskeySignUpMutation>(START_PASSKEY_SIGN_UP, { input }, null)).data
      .startPasskeySignUp;
    const credential = await credentials.create({ publicKey: creationOptions(started.options) });
    const { data } = await this.send<FinishPasskeySignUpMutation>(
      FINISH_PASSKEY_SIGN_UP,
      { input: { challengeId: started.challengeId, credential: credentialJson(credential) } },
      null,
    );
    return this.signedIn(data.finishPasskeySignUp);
  }

  /**
   * The second step of a sign-in with a passkey (when the
   * `SecondFactorRequiredError`'s `factors` include `PASSKEY`).
   */
  async verifySecondFactorWithPasskey(mfaToken: string, options: PasskeyOptions = {}): Promise<Session> {
    const credentials = options.credentials ?? browserCredentials();
    const started = (
      await this.send<StartPasskeySignInMutation>(START_PASSKEY_SIGN_IN, { input: { mfaToken } }, null)
    ).data.startPasskeySignIn;
    const credential = await credentials.get({ publicKey: requestOptions(started.options) });
    return this.verifySecondFactor({
      mfaToken,
      passkey: { challengeId: started.challengeId, credential: credentialJson(credential) },
    });
  }

  /** The providers users may sign in with, for drawing their buttons. */
  async providers(): Promise<SignInProvider[]> {
    const { data } = await this.send<SignInProvidersQuery>(SIGN_IN_PROVIDERS, {}, null);
    return data.signInProviders;
  }

  /**
   * Signs in (or up) with a provider: makes a PKCE verifier (kept in
   * `flowStorage`) and its challenge, asks authql for the provider's
   * authorization URL and sends the browser there. The browser comes back
   * to `redirectTo` with `?code=` (or `?error=`): call
   * `completeProviderSignIn()` on that page. Returns the URL navigated to.
   */
  async signInWithProvider(provider: string, options: ProviderSignInOptions = {}): Promise<string> {
    const location = (globalThis as { location?: { href: string; assign(url: string): void } }).location;
    const redirectTo = options.redirectTo ?? (location ? withoutQuery(location.href) : undefined);
    if (!redirectTo) throw new Error("signInWithProvider needs redirectTo outside a browser");
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const challenge = base64url(
      new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))),
    );
    await this.flowStorage.setItem(`${this.key}:provider-verifier`, verifier);
    const { data } = await this.send<StartProviderSignInMutation>(
      START_PROVIDER_SIGN_IN,
      { input: { provider, redirectTo, codeChallenge: challenge } },
      null,
    );
    const url = data.startProviderSignIn.authorizationUrl;
    const navigate = options.navigate ?? ((to: string) => location?.assign(to));
    navigate(url);
    return url;
  }

  /**
   * Completes a provider sign-in on the page the provider's answer brought
   * the browser back to (`url`, default this page's): trades its `code` and
   * the kept verifier for a session. Null when the URL holds no answer;
   * throws `AuthqlError` with the server's code when it holds `error=` or
   * the code is refused.
   */
  async completeProviderSignIn(url?: string): Promise<Session | null> {
    const href = url ?? (globalThis as { location?: { href: string } }).location?.href;
    if (!href) return null;
    const params = new URL(href).searchParams;
    const error = params.get("error");
    const code = params.get("code");
    const key = `${this.key}:provider-verifier`;
    const verifier = await this.flowStorage.getItem(key);
    if (!error && !code) return null;
    await this.flowStorage.removeItem(key);
    if (error) throw new AuthqlError(`the provider sign-in failed: ${error}`, error, 200, { code: error });
    if (!verifier) {
      throw new AuthqlError("no provider sign-in was started in this tab", "INVALID_TOKEN", 200, {});
    }
    const { data } = await this.send<CompleteProviderSignInMutation>(
      COMPLETE_PROVIDER_SIGN_IN,
      { input: { code, codeVerifier: verifier } },
      null,
    );
    return this.signedIn(data.completeProviderSignIn);
  }

  /**
   * Ends sessions: `LOCAL` this one (default), `OTHERS` every other, `GLOBAL`
   * all. With `LOCAL` or `GLOBAL` this tab and the profile's others are
   * signed out even if the server cannot be reached.
   */
  async logout(scope: LogoutScope = "LOCAL"): Promise<number> {
    const session = await this.load();
    try {
      const { data } = await this.send<LogoutMutation>(
        LOGOUT,
        { scope, refreshToken: session?.refreshToken ?? null },
        session?.accessToken ?? null,
      );
      return data.logout.revokedSessions;
    } finally {
      if (scope !== "OTHERS") {
        await this.forget("signedOut");
      }
    }
  }

  /** A fresh pair for this session; shared by concurrent callers and by the profile's tabs. */
  async refresh(): Promise<Session | null> {
    const stale = (await this.load())?.accessToken ?? null;
    return this.refreshFrom(stale);
  }

  /** The access token, refreshed first when it is about to expire; null when signed out. */
  async getAccessToken(): Promise<string | null> {
    const session = await this.load();
    if (!session) return null;
    if (!this.expiring(session)) return session.accessToken;
    const refreshed = await this.refreshFrom(session.accessToken);
    return refreshed?.accessToken ?? null;
  }

  /** The signed-in user, read from the server (`me`). */
  async me(): Promise<User> {
    return (await this.request<MeQuery>(ME)).me;
  }

  /**
   * Runs a GraphQL operation with the access token; on `UNAUTHENTICATED`
   * with reason `expired` it refreshes once and retries once.
   */
  async request<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const token = await this.getAccessToken();
    try {
      return (await this.send<T>(query, variables, token)).data;
    } catch (error) {
      if (!(error instanceof AuthqlError) || !error.isExpired) throw error;
      const refreshed = await this.refreshFrom(token);
      if (!refreshed) throw error;
      return (await this.send<T>(query, variables, refreshed.accessToken)).data;
    }
  }

  /** Stops listening to the other tabs. */
  close(): void {
    this.channel?.close();
  }

  private toSession(payload: SessionFieldsFragment): Session {
    return {
      accessToken: payload.accessToken,
      accessTokenExpiresAt: Date.parse(payload.accessTokenExpiresAt),
      receivedAt: Date.now(),
      // With the cookie transport the refresh token stays out of JavaScript's storage.
      refreshToken: this.transport === "body" ? (payload.refreshToken ?? null) : null,
      refreshTokenExpiresAt: Date.parse(payload.refreshTokenExpiresAt),
      user: payload.user,
    };
  }

  private expiring(session: Session): boolean {
    const lifetime = session.accessTokenExpiresAt - session.receivedAt;
    const ahead = Math.min(this.refreshAhead, lifetime / 2);
    return session.accessTokenExpiresAt - Date.now() <= ahead;
  }

  /**
   * One refresh per profile: under the lock, a session another tab (or a
   * concurrent call) already refreshed is taken from storage instead.
   */
  private refreshFrom(stale: string | null): Promise<Session | null> {
    if (this.refreshing) return this.refreshing;
    const run = this.lock
      .request(`${this.key}:refresh`, async () => {
        const stored = await this.read();
        if (stored && stored.accessToken !== stale && !this.expiring(stored)) {
          // Refreshed meanwhile, by another tab or an earlier call.
          this.current = stored;
          return stored;
        }
        const base = stored ?? this.current;
        if (!base && this.transport === "body") return null;
        this.refreshCount += 1;
        try {
          const { data } = await this.send<RefreshMutation>(
            REFRESH,
            { refreshToken: this.transport === "body" ? (base?.refreshToken ?? null) : null },
            null,
          );
          const session = this.toSession(data.refresh);
          await this.save(session);
          this.emit("tokenRefreshed", session, true);
          return session;
        } catch (error) {
          if (error instanceof AuthqlError && error.code === "INVALID_REFRESH_TOKEN") {
            await this.forget("sessionRevoked");
            return null;
          }
          throw error;
        }
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    this.refreshing = run;
    return run;
  }

  private async signedIn(payload: SessionFieldsFragment): Promise<Session> {
    const session = this.toSession(payload);
    await this.save(session);
    this.emit("signedIn", session, true);
    return session;
  }

  private async forget(event: "signedOut" | "sessionRevoked"): Promise<void> {
    this.current = null;
    await this.storage.removeItem(this.key);
    this.emit(event, null, true);
    if (event === "sessionRevoked") this.emit("signedOut", null, false);
  }

  /** The session, read from storage (another tab may have changed it). */
  private async load(): Promise<Session | null> {
    const stored = await this.read();
    if (stored || this.loaded) this.current = stored;
    this.loaded = true;
    return this.current;
  }

  private async read(): Promise<Session | null> {
    const raw = await this.storage.getItem(this.key);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as Session;
    } catch {
      return null;
    }
  }

  private async save(session: Session): Promise<void> {
    this.current = session;
    this.loaded = true;
    await this.storage.setItem(this.key, JSON.stringify(session));
  }

  private emit(event: AuthEvent, session: Session | null, broadcast: boolean): void {
    for (const listener of this.listeners.get(event) ?? []) listener(session);
    if (broadcast && this.channel) {
      const message: Broadcast =
        event === "signedIn" || event === "tokenRefreshed"
          ? { type: event, session: session as Session }
          : { type: event };
      this.channel.postMessage(message);
    }
  }

  /** Another tab's news. */
  private hear(message: Broadcast): void {
    if (message.type === "signedIn" || message.type === "tokenRefreshed") {
      this.current = message.session;
      this.loaded = true;
      this.emit(message.type, message.session, false);
    } else {
      this.current = null;
      this.emit(message.type, null, false);
      if (message.type === "sessionRevoked") this.emit("signedOut", null, false);
    }
  }

  private async send<T>(
    query: string,
    variables: Record<string, unknown>,
    bearer: string | null,
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json;q=0.9",
    };
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    let response: Response;
    try {
      response = await this.fetcher(this.url, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
        credentials: this.transport === "cookie" ? "include" : "same-origin",
      });
    } catch (cause) {
      throw new NetworkError(`cannot reach ${this.url}`, cause);
    }
    let body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    try {
      body = await response.json();
    } catch (cause) {
      throw new NetworkError(`${this.url} answered HTTP ${response.status} without GraphQL`, cause);
    }
    const error = body.errors?.[0];
    if (error) {
      const extensions = error.extensions ?? {};
      const code = typeof extensions.code === "string" ? extensions.code : "UNKNOWN";
      if (code === "SECOND_FACTOR_REQUIRED") {
        throw new SecondFactorRequiredError(error.message, response.status, extensions);
      }
      throw new AuthqlError(error.message, code, response.status, extensions);
    }
    if (body.data == null) {
      throw new NetworkError(`${this.url} answered HTTP ${response.status} without data`);
    }
    return { data: body.data };
  }
}


/** Unpadded base64url of `bytes`. */
function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** `href` without its query and fragment. */
function withoutQuery(href: string): string {
  const url = new URL(href);
  url.search = "";
  url.hash = "";
  return url.toString();
}

/** A client for authql at `options.url`. */
export function createAuthClient(options: AuthClientOptions): AuthClient {
  return new AuthClient(options);
}
