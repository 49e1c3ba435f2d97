import { createAuthClient } from "@authql/client";

/** authql's endpoint: `?api=` in the page's address, else `VITE_AUTHQL_URL`, else the default dev server. */
function apiUrl(): string {
  return (
    new URLSearchParams(window.location.search).get("api") ??
    import.meta.env.VITE_AUTHQL_URL ??
    "http://127.0.0.1:8000/graphql"
  );
}

/** One client for the page; tabs of this browser profile share its session. */
export const auth = createAuthClient({ url: apiUrl() });
