//! GraphiQL, self-contained: the page, GraphiQL and React (pinned production
//! builds from npm, see `scripts/update-graphiql.sh`) are embedded in the
//! binary and served from this origin under a Content-Security-Policy that
//! allows nothing else. Development only.

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Response, handler};

/// What the page may load and where it may connect: this origin only.
/// Styles may be inline (GraphiQL's editor sets them); scripts may not.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The embedded files: name, content type, bytes.
const ASSETS: [(&str, &str, &[u8]); 6] = [
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.js"),
    ),
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    (
        "authql-graphiql.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/authql-graphiql.js"),
    ),
    (
        "authql-graphiql.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/graphiql/authql-graphiql.css"),
    ),
];

const PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// Headers every GraphiQL response carries (`nosniff` is added to every
/// response by `http::headers`).
fn hardened(response: poem::ResponseBuilder) -> poem::ResponseBuilder {
    response
        .header("content-security-policy", CONTENT_SECURITY_POLICY)
        .header("referrer-policy", "no-referrer")
}

/// The page, for a browser's `GET /graphql`.
pub fn page() -> Response {
    hardened(Response::builder())
        .content_type("text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(PAGE)
}

/// `GET /graphiql/{file}`: one of the embedded files, or 404.
#[handler]
pub fn asset(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, content_type, bytes)) => hardened(Response::builder())
            .content_type(*content_type)
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .body(*bytes),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("no such file"),
    }
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::ASSETS;

    /// The files from npm are the ones `scripts/update-graphiql.sh` recorded.
    #[test]
    fn the_embedded_npm_files_match_their_recorded_hashes() {
        let sums = include_str!("../../assets/graphiql/SHA256SUMS");
        let mut checked = 0;
        for line in sums.lines() {
            let (hash, name) = line.split_once("  ").expect("`HASH  NAME` lines");
            let (_, _, bytes) = ASSETS
                .iter()
                .find(|(n, _, _)| *n == name)
                .unwrap_or_else(|| panic!("{name} is embedded"));
            let actual: String = Sha256::digest(bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(actual, hash, "{name}");
            checked += 1;
        }
        assert_eq!(checked, 4);
    }
}
