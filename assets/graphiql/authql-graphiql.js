// authql's GraphiQL: everything is served by authql itself (no CDN), under a
// Content-Security-Policy that allows this origin only.
(function () {
  "use strict";

  var defaultQuery = [
    "# Welcome to authql.",
    "#",
    "# 1. Run `register` or `login`; copy `accessToken` from the answer.",
    "# 2. In Headers below, put it after `Bearer `.",
    "# 3. Run `me`. (With the refresh cookie, `refresh` needs no argument.)",
    "",
    "mutation Login {",
    '  login(input: { email: "ada@example.com", password: "correct horse battery staple" }) {',
    "    accessToken",
    "    accessExpiresIn",
    "    user { id email emailVerified roles }",
    "  }",
    "}",
    "",
    "query Me {",
    "  me { id name email emailVerified roles }",
    "  session { id expiresAt }",
    "}",
    "",
  ].join("\n");

  var defaultHeaders = JSON.stringify(
    { Authorization: "Bearer <paste the accessToken here>" },
    null,
    2
  );

  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    // Same-origin requests carry the HttpOnly refresh cookie.
    fetch: function (input, init) {
      return window.fetch(input, Object.assign({}, init, { credentials: "same-origin" }));
    },
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultHeaders: defaultHeaders,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      defaultEditorToolsVisibility: "headers",
    })
  );
})();
