import { AuthqlError, SecondFactorRequiredError, type SignInProvider, type User } from "@authql/client";
import QRCode from "qrcode";
import { type FormEvent, useCallback, useEffect, useState } from "react";

import { auth } from "./auth";
import type {
  ConfirmTotpMutation,
  EnrollTotpMutation,
  PasskeysQuery,
  RemovePasskeyMutation,
  RevokeSessionMutation,
  SessionsQuery,
  TwoStepQuery,
} from "./generated";

const SESSIONS =
  "query Sessions($after: String) { sessions(first: 20, after: $after) { totalCount " +
  "pageInfo { hasNextPage endCursor } nodes { id userAgent createdAt current } } }";
const REVOKE_SESSION = "mutation RevokeSession($id: ID!) { revokeSession(id: $id) }";
const TWO_STEP = "query TwoStep { me { secondFactors { id kind } recoveryCodesLeft } }";
const ENROLL_TOTP = "mutation EnrollTotp { enrollTotp { factorId secret otpauthUri } }";
const CONFIRM_TOTP =
  "mutation ConfirmTotp($input: ConfirmTotpInput!) { confirmTotp(input: $input) { codes } }";
const PASSKEYS = "query Passkeys { me { passkeys { id name createdAt backedUp } } }";
const REMOVE_PASSKEY = "mutation RemovePasskey($id: ID!) { removePasskey(id: $id) { id } }";

function message(error: unknown): string {
  if (error instanceof AuthqlError) {
    const fields = error.fields ? Object.entries(error.fields).map(([f, m]) => `${f} ${m}`).join("; ") : "";
    return `${error.code}${fields ? `: ${fields}` : `: ${error.message}`}`;
  }
  return String(error);
}

export function App() {
  const [user, setUser] = useState<User | null>(auth.user);
  const [ready, setReady] = useState(false);
  const [providerError, setProviderError] = useState("");

  useEffect(() => {
    const follow = () => setUser(auth.user);
    const stop = [
      auth.on("signedIn", follow),
      auth.on("tokenRefreshed", follow),
      auth.on("signedOut", follow),
      auth.on("sessionRevoked", follow),
    ];
    // Back from a provider (`?code=` or `?error=`): complete the sign-in and
    // take the answer out of the address bar. Otherwise the session kept in
    // storage, refreshed if it is about to expire.
    const back = new URL(window.location.href);
    const answered = back.searchParams.has("code") || back.searchParams.has("error");
    const arriving = answered
      ? auth.completeProviderSignIn().catch((caught) => {
          setProviderError(message(caught));
          return null;
        })
      : Promise.resolve(null);
    if (answered) {
      back.searchParams.delete("code");
      back.searchParams.delete("error");
      window.history.replaceState(null, "", back.toString());
    }
    arriving
      .then(() => auth.getAccessToken())
      .catch(() => null)
      .finally(() => {
        setUser(auth.user);
        setReady(true);
      });
    return () => stop.forEach((unsubscribe) => unsubscribe());
  }, []);

  if (!ready) return <p>Loading…</p>;
  return (
    <main style={{ fontFamily: "sans-serif", maxWidth: 640, margin: "2rem auto" }}>
      <h1>authql React example</h1>
      {user ? <SignedIn user={user} /> : <SignedOut providerError={providerError} />}
    </main>
  );
}

function SignedOut({ providerError }: { providerError: string }) {
  const [error, setError] = useState(providerError);
  const [providers, setProviders] = useState<SignInProvider[]>([]);
  // After the password, for an account with an authenticator app.
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [factors, setFactors] = useState<string[]>([]);
  useEffect(() => {
    auth.providers().then(setProviders, () => setProviders([]));
  }, []);
  const submit = (action: (form: FormData) => Promise<unknown>) => async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setError("");
    try {
      await action(new FormData(event.currentTarget));
    } catch (caught) {
      setError(message(caught));
    }
  };
  const text = (form: FormData, name: string) => String(form.get(name) ?? "");
  return (
    <div data-testid="signed-out">
      <form
        aria-label="Sign up with a passkey"
        onSubmit={submit((form) => auth.signUpWithPasskey({ name: text(form, "name"), email: text(form, "email") }))}
      >
        <h2>Sign up with a passkey</h2>
        <input name="name" placeholder="Name" required />
        <input name="email" type="email" placeholder="E-mail" required />
        <button type="submit">Create a passkey</button>
      </form>
      <p>
        <button onClick={() => auth.signInWithPasskey().catch((caught) => setError(message(caught)))}>
          Sign in with a passkey
        </button>
      </p>
      <form
        aria-label="Sign up"
        onSubmit={submit((form) =>
          auth.register({
            name: text(form, "name"),
            email: text(form, "email"),
            password: text(form, "password"),
            passwordConfirmation: text(form, "password"),
          }),
        )}
      >
        <h2>Sign up</h2>
        <input name="name" placeholder="Name" required />
        <input name="email" type="email" placeholder="E-mail" required />
        <input name="password" type="password" placeholder="Password" required />
        <button type="submit">Sign up</button>
      </form>
      {mfaToken && (
        <form
          aria-label="Second step"
          onSubmit={submit((form) => auth.verifySecondFactor({ mfaToken, totpCode: text(form, "code") }))}
        >
          <h2>Enter the code from your authenticator app</h2>
          <input name="code" inputMode="numeric" autoComplete="one-time-code" placeholder="123456" required />
          <button type="submit">Verify</button>
          {factors.includes("PASSKEY") && (
            <button
              type="button"
              onClick={() =>
                auth.verifySecondFactorWithPasskey(mfaToken).catch((caught) => setError(message(caught)))
              }
            >
              Use a passkey instead
            </button>
          )}
        </form>
      )}
      <form
        aria-label="Sign in"
        onSubmit={submit((form) =>
          auth.login({ email: text(form, "email"), password: text(form, "password") }).catch((caught) => {
            if (caught instanceof SecondFactorRequiredError) {
              setMfaToken(caught.mfaToken);
              setFactors(caught.factors);
              return;
            }
            throw caught;
          }),
        )}
      >
        <h2>Sign in</h2>
        <input name="email" type="email" placeholder="E-mail" required />
        <input name="password" type="password" placeholder="Password" required />
        <button type="submit">Sign in</button>
      </form>
      {providers.map((provider) => (
        <p key={provider.id}>
          <button
            onClick={() =>
              // Back to this very page (its `?api=` included), which must be
              // in authql's AUTHQL_REDIRECT_URLS.
              auth
                .signInWithProvider(provider.id, { redirectTo: window.location.href })
                .catch((caught) => setError(message(caught)))
            }
          >
            {`Sign in with ${provider.name}`}
          </button>
        </p>
      ))}
      {error && <p role="alert">{error}</p>}
    </div>
  );
}

function SignedIn({ user }: { user: User }) {
  const [me, setMe] = useState("");
  type Sessions = SessionsQuery["sessions"];
  const [sessions, setSessions] = useState<Sessions["nodes"]>([]);
  const [page, setPage] = useState<Pick<Sessions, "totalCount" | "pageInfo"> | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      setError("");
      const [current, list] = await Promise.all([auth.me(), auth.request<SessionsQuery>(SESSIONS)]);
      setMe(`${current.email} at ${new Date().toISOString()}`);
      setSessions(list.sessions.nodes);
      setPage(list.sessions);
    } catch (caught) {
      setError(message(caught));
    }
  }, []);

  // The next page of sessions, after the last one shown.
  const more = async () => {
    try {
      const list = await auth.request<SessionsQuery>(SESSIONS, { after: page?.pageInfo.endCursor });
      setSessions((shown) => [...shown, ...list.sessions.nodes]);
      setPage(list.sessions);
    } catch (caught) {
      setError(message(caught));
    }
  };

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (id: string) => {
    await auth.request<RevokeSessionMutation>(REVOKE_SESSION, { id });
    await load();
  };

  return (
    <div>
      <p>
        Signed in as <strong data-testid="me">{user.email}</strong>
      </p>
      <p>
        <button onClick={load}>Reload me</button> <span data-testid="me-from-server">{me}</span>
      </p>
      <h2>Sessions</h2>
      <ul data-testid="sessions">
        {sessions.map((session) => (
          <li key={session.id}>
            {session.userAgent ?? "unknown device"} since {session.createdAt}{" "}
            {session.current ? (
              <em>(this device)</em>
            ) : (
              <button onClick={() => revoke(session.id)}>Sign out this device</button>
            )}
          </li>
        ))}
      </ul>
      {page?.pageInfo.hasNextPage && (
        <p>
          {sessions.length} of {page.totalCount} shown <button onClick={more}>Show more</button>
        </p>
      )}
      <TwoStep />
      <Passkeys />
      <button onClick={() => auth.logout().catch((e) => setError(message(e)))}>Sign out</button>{" "}
      <button onClick={() => auth.logout("GLOBAL").catch((e) => setError(message(e)))}>Sign out everywhere</button>
      {error && <p role="alert">{error}</p>}
    </div>
  );
}

/** Two-step sign-in: set up an authenticator app from a QR code. */
function TwoStep() {
  const [state, setState] = useState<TwoStepQuery["me"] | null>(null);
  const [pending, setPending] = useState<{ factorId: string; secret: string; qr: string } | null>(null);
  const [codes, setCodes] = useState<string[]>([]);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      setState((await auth.request<TwoStepQuery>(TWO_STEP)).me);
    } catch (caught) {
      setError(message(caught));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const start = async () => {
    try {
      setError("");
      const { enrollTotp } = await auth.request<EnrollTotpMutation>(ENROLL_TOTP);
      const qr = await QRCode.toDataURL(enrollTotp.otpauthUri);
      setPending({ factorId: enrollTotp.factorId, secret: enrollTotp.secret, qr });
    } catch (caught) {
      setError(message(caught));
    }
  };
  const confirm = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get("code") ?? "");
    try {
      setError("");
      const { confirmTotp } = await auth.request<ConfirmTotpMutation>(CONFIRM_TOTP, {
        input: { factorId: pending?.factorId, code },
      });
      setCodes(confirmTotp.codes);
      setPending(null);
      await load();
    } catch (caught) {
      setError(message(caught));
    }
  };

  if (!state) return null;
  return (
    <section aria-label="Two-step sign-in">
      <h2>Two-step sign-in</h2>
      {state.secondFactors.length > 0 ? (
        <p data-testid="two-step-on">On ({state.recoveryCodesLeft} recovery codes left)</p>
      ) : pending ? (
        <form aria-label="Confirm the app" onSubmit={confirm}>
          <p>Scan this with your authenticator app, or type the key in:</p>
          <img src={pending.qr} alt="QR code of the authenticator key" width={200} height={200} />
          <p>
            <code data-testid="totp-secret">{pending.secret}</code>
          </p>
          <input name="code" inputMode="numeric" autoComplete="one-time-code" placeholder="123456" required />
          <button type="submit">Turn on</button>
        </form>
      ) : (
        <button onClick={start}>Set up an authenticator app</button>
      )}
      {codes.length > 0 && (
        <div>
          <p>Recovery codes (shown once; keep them safe):</p>
          <ul data-testid="recovery-codes">
            {codes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ul>
        </div>
      )}
      {error && <p role="alert">{error}</p>}
    </section>
  );
}

/** Passkeys: add one (after a recent sign-in), list and remove them. */
function Passkeys() {
  const [passkeys, setPasskeys] = useState<PasskeysQuery["me"]["passkeys"] | null>(null);
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      setPasskeys((await auth.request<PasskeysQuery>(PASSKEYS)).me.passkeys);
    } catch (caught) {
      setError(message(caught));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const act = (action: () => Promise<unknown>) => async () => {
    try {
      setError("");
      await action();
      await load();
    } catch (caught) {
      setError(message(caught));
    }
  };

  if (!passkeys) return null;
  return (
    <section aria-label="Passkeys">
      <h2>Passkeys</h2>
      <ul data-testid="passkeys">
        {passkeys.map((passkey) => (
          <li key={passkey.id}>
            {passkey.name} {passkey.backedUp ? "(synced)" : ""} added {passkey.createdAt}{" "}
            <button onClick={act(() => auth.request<RemovePasskeyMutation>(REMOVE_PASSKEY, { id: passkey.id }))}>
              Remove
            </button>
          </li>
        ))}
      </ul>
      <button onClick={act(() => auth.registerPasskey("This device"))}>Add a passkey</button>
      {error && <p role="alert">{error}</p>}
    </section>
  );
}
