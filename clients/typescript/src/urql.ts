// The configuration of urql's `authExchange` (`@urql/exchange-auth`) for
// authql: `authExchange(urqlAuth(auth))`.

import type { AuthConfig, AuthUtilities } from "@urql/exchange-auth";

import type { AuthClient } from "./index.js";

/** Adds the access token, refreshes ahead of expiry, and after `expired` refreshes and retries once. */
export function urqlAuth(auth: AuthClient): (utils: AuthUtilities) => Promise<AuthConfig> {
  return async (utils) => {
    // The token is added synchronously: make sure the one kept is fresh.
    await auth.getAccessToken();
    return {
      addAuthToOperation(operation) {
        const token = auth.session?.accessToken;
        return token ? utils.appendHeaders(operation, { authorization: `Bearer ${token}` }) : operation;
      },
      willAuthError() {
        const session = auth.session;
        return !!session && session.accessTokenExpiresAt - Date.now() < 5_000;
      },
      didAuthError(error) {
        return error.graphQLErrors.some(
          (e) => e.extensions?.code === "UNAUTHENTICATED" && e.extensions?.reason === "expired",
        );
      },
      async refreshAuth() {
        await auth.refresh();
      },
    };
  };
}
