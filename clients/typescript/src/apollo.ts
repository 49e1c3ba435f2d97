// An Apollo Client link: adds the access token, and after a refresh retries
// once an operation authql answered `UNAUTHENTICATED` / `expired`.

import { ApolloLink, Observable, type FetchResult } from "@apollo/client/core/index.js";

import type { AuthClient } from "./index.js";

function expired(result: FetchResult): boolean {
  return (result.errors ?? []).some(
    (error) => error.extensions?.code === "UNAUTHENTICATED" && error.extensions?.reason === "expired",
  );
}

/** `ApolloLink.from([authLink(auth), new HttpLink({ uri })])`. */
export function authLink(auth: AuthClient): ApolloLink {
  return new ApolloLink(
    (operation, forward) =>
      new Observable<FetchResult>((observer) => {
        let subscription: { unsubscribe(): void } | undefined;
        let closed = false;
        const attempt = async (afterRefresh: boolean) => {
          const token = afterRefresh
            ? ((await auth.refresh())?.accessToken ?? null)
            : await auth.getAccessToken();
          if (closed) return;
          operation.setContext(({ headers = {} }: { headers?: Record<string, string> }) => ({
            headers: token ? { ...headers, authorization: `Bearer ${token}` } : headers,
          }));
          let retrying = false;
          subscription = forward(operation).subscribe({
            next(result) {
              if (!afterRefresh && expired(result)) {
                retrying = true;
                attempt(true).catch((error) => observer.error(error));
                return;
              }
              observer.next(result);
            },
            error(error) {
              if (!retrying) observer.error(error);
            },
            complete() {
              if (!retrying) observer.complete();
            },
          });
        };
        attempt(false).catch((error) => observer.error(error));
        return () => {
          closed = true;
          subscription?.unsubscribe();
        };
      }),
  );
}
