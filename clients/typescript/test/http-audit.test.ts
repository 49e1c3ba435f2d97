// authql against the GraphQL-over-HTTP audit of `graphql-http`: every check
// passes, none with a warning.

import assert from "node:assert/strict";
import { test } from "node:test";

import { auditServer } from "graphql-http";

import { startServer } from "./server.js";

test("the GraphQL-over-HTTP audit passes every check without a warning", async () => {
  const server = await startServer();
  try {
    const results = await auditServer({ url: server.url });
    const failed = results.filter((result) => result.status !== "ok");
    assert.deepEqual(
      failed.map((result) => `${result.status} ${result.id} ${result.name}`),
      [],
    );
    assert.ok(results.length >= 61, `${results.length} checks`);
  } finally {
    await server.stop();
  }
});
