// The Apollo link and the urql exchange configuration, against a real
// authql: the token is added, and an operation authql refuses as expired is
// retried once after a refresh.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createClient, fetchExchange } from "@urql/core";
import { authExchange } from "@urql/exchange-auth";

import { authLink } from "../src/apollo.js";
import { createAuthClient, memoryStorage, type AuthClient } from "../src/index.js";
import { urqlAuth } from "../src/urql.js";
import { PASSWORD, freshEmail, sleep, startServer, type Server } from "./server.js";

const ME = "query Me { me { id email } }";

/**
 * A signed-in client whose access token has expired at the server while the
 * client still believes it fresh (as with a skewed clock or a sleeping
 * laptop): the next operation is refused as `expired`.
 */
async function expiredUnawares(server: Server): Promise<{ auth: AuthClient; email: string }> {
  const storage = memoryStorage();
  const auth = createAuthClient({ url: server.url, storage, channel: null });
  const email = freshEmail();
  const { accessToken } = await auth.register({
    name: "Ada",
    email,
    password: PASSWORD,
    passwordConfirmation: PASSWORD,
  });
  // authql accepts a token a few seconds past its `exp` (clock skew): wait
  // until it calls this one expired.
  for (let waited = 0; ; waited += 250) {
    assert.ok(waited < 15_000, "the access token expires at the server");
    const response = await fetch(server.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ query: "{ me { id } }" }),
    });
    const body = (await response.json()) as { errors?: { extensions?: { reason?: string } }[] };
    if (body.errors?.[0]?.extensions?.reason === "expired") break;
    await sleep(250);
  }
  const session = JSON.parse(String(await storage.getItem("authql")));
  session.receivedAt = Date.now();
  session.accessTokenExpiresAt = Date.now() + 3_600_000;
  await storage.setItem("authql", JSON.stringify(session));
  return { auth, email };
}

describe("framework links", () => {
  let server: Server;

  before(async () => {
    server = await startServer({ AUTHQL_ACCESS_TOKEN_TTL: "2s" });
  });
  after(async () => {
    await server.stop();
  });

  test("Apollo: authLink adds the token and retries once after a refresh on expired", async () => {
    const { auth, email } = await expiredUnawares(server);
    const apollo = new ApolloClient({
      link: ApolloLink.from([authLink(auth), new HttpLink({ uri: server.url, fetch })]),
      cache: new InMemoryCache(),
    });
    const result = await apollo.query({ query: gql(ME), fetchPolicy: "network-only" });
    assert.equal(result.data.me.email, email);
    assert.equal(auth.refreshCount, 1);
    // Fresh now: no further refresh.
    await apollo.query({ query: gql(ME), fetchPolicy: "network-only" });
    assert.equal(auth.refreshCount, 1);
    auth.close();
  });

  test("urql: authExchange(urqlAuth(auth)) adds the token and retries once after a refresh on expired", async () => {
    const { auth, email } = await expiredUnawares(server);
    const urql = createClient({
      url: server.url,
      exchanges: [authExchange(urqlAuth(auth)), fetchExchange],
      requestPolicy: "network-only",
    });
    const result = await urql.query(ME, {}).toPromise();
    assert.equal(result.error, undefined, String(result.error));
    assert.equal(result.data.me.email, email);
    assert.equal(auth.refreshCount, 1);
    auth.close();
  });

  test("a signed-out client sends no token and gets UNAUTHENTICATED missing", async () => {
    const auth = createAuthClient({ url: server.url, storage: memoryStorage(), channel: null });
    const apollo = new ApolloClient({
      link: ApolloLink.from([authLink(auth), new HttpLink({ uri: server.url, fetch })]),
      cache: new InMemoryCache(),
    });
    const result = await apollo.query({ query: gql(ME), errorPolicy: "all", fetchPolicy: "network-only" });
    assert.equal(result.errors?.[0].extensions?.code, "UNAUTHENTICATED");
    assert.equal(result.errors?.[0].extensions?.reason, "missing");
    assert.equal(auth.refreshCount, 0);
    auth.close();
  });
});
