// signInWithProvider and completeProviderSignIn against a real authql and a
// real OpenID provider (authql's test partner, tests/partners/oidc-provider),
// whose login and consent forms are filled over HTTP as a browser would.

import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";

import { AuthqlError, createAuthClient, memoryStorage } from "../src/index.js";
import { freePort, startServer, type Server } from "./server.js";

const partner = resolve(import.meta.dirname, "..", "..", "..", "..", "tests", "partners", "oidc-provider");
const SECRET = "client-test-provider-secret";
const APP = "http://app.test/signed-in";

interface Provider {
  issuer: string;
  stop(): Promise<void>;
}

async function startProvider(authqlBase: string): Promise<Provider> {
  assert.ok(existsSync(join(partner, "node_modules", "oidc-provider")), `run npm ci in ${partner} first`);
  const config = {
    port: 0,
    clients: [{ client_id: "authql", client_secret: SECRET, redirect_uris: [`${authqlBase}/auth/callback/acme`] }],
    accounts: { ada: { email: "ada@example.com", email_verified: true, name: "Ada" } },
  };
  const child: ChildProcess = spawn(process.execPath, [join(partner, "provider.mjs"), JSON.stringify(config)], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  const issuer = await new Promise<string>((done, fail) => {
    let seen = "";
    child.stdout?.on("data", (chunk) => {
      seen += chunk;
      const line = seen.split("\n").find((l) => l.startsWith("listening "));
      if (line) done(line.slice("listening ".length).trim());
    });
    child.once("exit", () => fail(new Error("the provider ended before listening")));
  });
  return {
    issuer,
    async stop() {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Follows the provider's pages from `url` as `login`, up to where it sends the browser next outside itself. */
async function signInAtProvider(url: string, login: string): Promise<string> {
  const jar = new Map<string, string>();
  const origin = new URL(url).origin;
  const send = async (target: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const response = await fetch(target, { ...init, headers, redirect: "manual" });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair.indexOf("=");
      jar.set(pair.slice(0, at).trim(), pair.slice(at + 1).trim());
    }
    return response;
  };
  let next = url;
  for (let step = 0; step < 12; step++) {
    const response = await send(next);
    const location = response.headers.get("location");
    if (location) {
      next = new URL(location, next).toString();
      if (new URL(next).origin !== origin) return next;
      continue;
    }
    const html = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    assert.ok(action, `a form on the provider's page: ${html.slice(0, 200)}`);
    const fields = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
      fields.set(name, value);
    }
    if (fields.get("prompt") === "login") {
      fields.set("login", login);
      fields.set("password", "any password");
    }
    const submitted = await send(new URL(action, next).toString(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: fields.toString(),
    });
    next = new URL(submitted.headers.get("location") ?? "", next).toString();
  }
  throw new Error("the provider did not send the browser back");
}

describe("signing in with a provider", () => {
  let server: Server;
  let provider: Provider;

  before(async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    provider = await startProvider(base);
    server = await startServer(
      {
        AUTHQL_PUBLIC_URL: base,
        AUTHQL_REDIRECT_URLS: APP,
        AUTHQL_PROVIDERS: "acme",
        AUTHQL_PROVIDER_ACME_KIND: "oidc",
        AUTHQL_PROVIDER_ACME_ISSUER: provider.issuer,
        AUTHQL_PROVIDER_ACME_CLIENT_ID: "authql",
        AUTHQL_PROVIDER_ACME_CLIENT_SECRET: SECRET,
        AUTHQL_PROVIDER_ACME_NAME: "Acme ID",
      },
      port,
    );
  });
  after(async () => {
    await server?.stop();
    await provider?.stop();
  });

  test("lists the providers, goes to the provider with a challenge, and completes with the kept verifier", async () => {
    const flowStorage = memoryStorage();
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), flowStorage, channel: null });
    assert.deepEqual(await client.providers(), [{ id: "acme", name: "Acme ID" }]);

    let navigatedTo = "";
    const url = await client.signInWithProvider("acme", { redirectTo: APP, navigate: (to) => (navigatedTo = to) });
    assert.equal(navigatedTo, url);
    const authorization = new URL(url);
    assert.equal(authorization.origin, provider.issuer);
    assert.ok(await flowStorage.getItem("authql:provider-verifier"), "the verifier waits in the tab's storage");

    // The provider sends the browser to authql's callback, which sends it on to the app.
    const callback = await signInAtProvider(url, "ada");
    assert.ok(callback.startsWith(`${new URL(server.url).origin}/auth/callback/acme`), callback);
    const answer = await fetch(callback, { redirect: "manual" });
    assert.equal(answer.status, 303);
    const landed = answer.headers.get("location") ?? "";
    assert.ok(landed.startsWith(`${APP}?code=`), landed);

    const session = await client.completeProviderSignIn(landed);
    assert.equal(session?.user.email, "ada@example.com");
    assert.equal(client.user?.email, "ada@example.com");
    assert.equal(await flowStorage.getItem("authql:provider-verifier"), null, "the verifier is used once");
    assert.equal((await client.me()).email, "ada@example.com");
    // The same code again is refused.
    await assert.rejects(
      async () => {
        await flowStorage.setItem("authql:provider-verifier", "x".repeat(43));
        await client.completeProviderSignIn(landed);
      },
      (error: unknown) => error instanceof AuthqlError && error.code === "INVALID_TOKEN",
    );
  });

  test("a page without an answer is not a sign-in; an error answer is thrown with its code", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), flowStorage: memoryStorage(), channel: null });
    assert.equal(await client.completeProviderSignIn(`${APP}?next=1`), null);
    await assert.rejects(
      () => client.completeProviderSignIn(`${APP}?error=ACCOUNT_EXISTS`),
      (error: unknown) => error instanceof AuthqlError && error.code === "ACCOUNT_EXISTS",
    );
    // A redirect outside authql's list is refused before the browser leaves.
    await assert.rejects(
      () => client.signInWithProvider("acme", { redirectTo: "https://evil.test/", navigate: () => assert.fail("navigated") }),
      (error: unknown) => error instanceof AuthqlError && error.code === "REDIRECT_NOT_ALLOWED",
    );
  });
});
