// @authql/client against a real authql server.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { after, before, describe, test } from "node:test";

import { parse, print } from "graphql";

import { AuthqlError, createAuthClient, localLock, memoryStorage, type AuthEvent } from "../src/index.js";
import * as documents from "../src/documents.js";
import { PASSWORD, cookieFetch, freshEmail, sleep, startServer, type Server } from "./server.js";

/** Access tokens live 2 s: long enough to use, short enough to wait out. */
const SHORT_LIVED = { AUTHQL_ACCESS_TOKEN_TTL: "2s" };

async function rawMe(url: string, token: string): Promise<{ errors?: { extensions: { code: string; reason?: string } }[] }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: "{ me { id } }" }),
  });
  return response.json() as Promise<{ errors?: { extensions: { code: string; reason?: string } }[] }>;
}

describe("@authql/client", () => {
  let server: Server;

  before(async () => {
    server = await startServer(SHORT_LIVED);
  });
  after(async () => {
    await server.stop();
  });

  test("the operations sent are the ones codegen types", () => {
    const file = readFileSync(resolve(import.meta.dirname, "..", "..", "src", "operations.graphql"), "utf8");
    const typed = new Map(
      parse(file).definitions.map((definition) => [
        "name" in definition && definition.name ? definition.name.value : "",
        print(definition),
      ]),
    );
    for (const document of Object.values(documents)) {
      for (const definition of parse(document).definitions) {
        const name = "name" in definition && definition.name ? definition.name.value : "";
        assert.equal(print(definition), typed.get(name), name);
      }
    }
  });

  test("signs up, signs in and reads the user", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    const email = freshEmail();
    const events: AuthEvent[] = [];
    client.on("signedIn", () => events.push("signedIn"));
    const session = await client.register({
      name: "Ada Lovelace",
      email,
      password: PASSWORD,
      passwordConfirmation: PASSWORD,
    });
    assert.equal(session.user.email, email);
    assert.equal(session.user.emailVerified, false);
    assert.equal((await client.me()).email, email);

    const other = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    await other.login({ email, password: PASSWORD });
    assert.equal(other.user?.email, email);
    assert.deepEqual(events, ["signedIn"]);
    client.close();
    other.close();
  });

  test("wrong credentials and throttling are typed errors with authql's codes", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    const email = freshEmail();
    await client.register({ name: "Ada", email, password: PASSWORD, passwordConfirmation: PASSWORD });
    let error: unknown;
    for (let attempt = 0; attempt < 7; attempt++) {
      try {
        await client.login({ email, password: `wrong password number ${attempt}` });
      } catch (caught) {
        error = caught;
      }
    }
    assert.ok(error instanceof AuthqlError);
    assert.equal(error.code, "TOO_MANY_REQUESTS");
    assert.ok((error.retryAfter ?? 0) > 0, "retryAfter");
    await assert.rejects(
      client.login({ email: freshEmail(), password: "not the password" }),
      (e: unknown) => e instanceof AuthqlError && e.code === "INVALID_CREDENTIALS",
    );
    await assert.rejects(
      client.register({ name: "Ada", email: "nope", password: "x", passwordConfirmation: "y" }),
      (e: unknown) => e instanceof AuthqlError && e.code === "BAD_USER_INPUT" && !!e.fields?.email,
    );
    client.close();
  });

  test("an expired access token is refreshed before use", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    const refreshed: AuthEvent[] = [];
    client.on("tokenRefreshed", () => refreshed.push("tokenRefreshed"));
    const first = await client.register({
      name: "Ada",
      email: freshEmail(),
      password: PASSWORD,
      passwordConfirmation: PASSWORD,
    });
    await sleep(2_200);
    const token = await client.getAccessToken();
    assert.notEqual(token, first.accessToken);
    assert.equal(client.refreshCount, 1);
    assert.equal(refreshed.length, 1);
    assert.ok((await client.me()).id);
    client.close();
  });

  test("five concurrent queries after expiry share one refresh", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    await client.register({ name: "Ada", email: freshEmail(), password: PASSWORD, passwordConfirmation: PASSWORD });
    await sleep(2_200);
    const users = await Promise.all([1, 2, 3, 4, 5].map(() => client.me()));
    assert.equal(new Set(users.map((u) => u.id)).size, 1);
    assert.equal(client.refreshCount, 1);
    client.close();
  });

  test("three tabs share one session: one refresh, and sign-in and sign-out reach every tab", async () => {
    // One browser profile: shared storage and lock (as navigator.locks), a
    // BroadcastChannel each.
    const storage = memoryStorage();
    const lock = localLock();
    const tabs = [1, 2, 3].map(() => createAuthClient({ url: server.url, storage, lock }));
    const heard = tabs.map(() => [] as AuthEvent[]);
    tabs.forEach((tab, i) => {
      for (const event of ["signedIn", "signedOut", "tokenRefreshed"] as AuthEvent[]) {
        tab.on(event, () => heard[i].push(event));
      }
    });
    const email = freshEmail();
    await tabs[0].register({ name: "Ada", email, password: PASSWORD, passwordConfirmation: PASSWORD });
    await sleep(50);
    assert.equal(tabs[1].user?.email, email, "tab 2 heard the sign-in");
    assert.equal(tabs[2].user?.email, email, "tab 3 heard the sign-in");

    await sleep(2_200);
    const tokens = await Promise.all(tabs.map((tab) => tab.getAccessToken()));
    assert.equal(new Set(tokens).size, 1, "every tab got the same new token");
    assert.equal(
      tabs.reduce((sum, tab) => sum + tab.refreshCount, 0),
      1,
      "one refresh for the profile",
    );
    const token = tokens[0] as string;
    assert.equal((await rawMe(server.url, token)).errors, undefined);

    await tabs[1].logout();
    await sleep(50);
    for (const [i, tab] of tabs.entries()) {
      assert.equal(tab.session, null, `tab ${i + 1} is signed out`);
      assert.equal(await tab.getAccessToken(), null);
      assert.ok(heard[i].includes("signedOut"), `tab ${i + 1} heard the sign-out`);
    }
    const after = await rawMe(server.url, token);
    assert.equal(after.errors?.[0].extensions.reason, "revoked", "the server ended the session");
    for (const tab of tabs) tab.close();
  });

  test("a session ended elsewhere is reported as sessionRevoked and signs the client out", async () => {
    const email = freshEmail();
    const phone = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    await phone.register({ name: "Ada", email, password: PASSWORD, passwordConfirmation: PASSWORD });
    const laptop = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    await laptop.login({ email, password: PASSWORD });
    const heard: AuthEvent[] = [];
    phone.on("sessionRevoked", () => heard.push("sessionRevoked"));
    phone.on("signedOut", () => heard.push("signedOut"));
    assert.equal(await laptop.logout("OTHERS"), 1);
    assert.equal(await phone.refresh(), null);
    assert.deepEqual(heard, ["sessionRevoked", "signedOut"]);
    assert.equal(phone.session, null);
    assert.equal(await phone.getAccessToken(), null);
    assert.ok(laptop.session, "the laptop stays signed in");
    phone.close();
    laptop.close();
  });

  test("logout ends the session on the server", async () => {
    const client = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    const session = await client.register({
      name: "Ada",
      email: freshEmail(),
      password: PASSWORD,
      passwordConfirmation: PASSWORD,
    });
    assert.equal(await client.logout(), 1);
    assert.equal(client.session, null);
    const answer = await rawMe(server.url, session.accessToken);
    assert.equal(answer.errors?.[0].extensions.code, "UNAUTHENTICATED");
    assert.equal(answer.errors?.[0].extensions.reason, "revoked");
    client.close();
  });

  test("cookie mode: the refresh token never reaches storage, and a new page signs in from the cookie", async () => {
    const browser = cookieFetch();
    const storage = memoryStorage();
    const client = createAuthClient({ url: server.url, storage, transport: "cookie", fetch: browser, channel: null });
    const session = await client.register({
      name: "Ada",
      email: freshEmail(),
      password: PASSWORD,
      passwordConfirmation: PASSWORD,
    });
    assert.equal(session.refreshToken, null);
    assert.ok(!String(await storage.getItem("authql")).includes('"refreshToken":"'), "no refresh token stored");
    await sleep(2_200);
    assert.notEqual(await client.getAccessToken(), session.accessToken);
    assert.equal(client.refreshCount, 1);

    // A reloaded page with nothing in storage: the cookie restores the session.
    const reloaded = createAuthClient({ url: server.url, storage: memoryStorage(), transport: "cookie", fetch: browser, channel: null });
    const restored = await reloaded.refresh();
    assert.equal(restored?.user.id, session.user.id);
    assert.equal(await reloaded.logout(), 1);
    // The cookie is gone with the session.
    const again = createAuthClient({ url: server.url, storage: memoryStorage(), transport: "cookie", fetch: browser, channel: null });
    assert.equal(await again.refresh(), null);
    client.close();
    reloaded.close();
    again.close();
  });
});
