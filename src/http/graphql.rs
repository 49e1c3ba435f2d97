//! `/graphql`, following the GraphQL over HTTP specification.
//!
//! POST takes `application/json` only (anything else is 415, which also shuts
//! out cross-site form posts); GET runs queries only (a mutation is 405 with
//! `Allow: POST`); `Accept` picks `application/graphql-response+json` (the
//! default) or `application/json` (406 when neither is acceptable); batches
//! are refused; bodies over 64 KiB are 413. Browsers asking for HTML get
//! GraphiQL in development.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{ServerError, Value};
use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};
use serde_json::json;
use tracing::Instrument;
use uuid::Uuid;

use std::sync::Arc;
use std::time::Duration;

use ipnet::IpNet;

use super::client::client_info;
use super::cors::Admission;
use crate::auth::{Bearer, RequestCredentials};
use crate::graphql::AuthqlSchema;
use crate::graphql::errors::{self, code};
use crate::graphql::limits::{self, DocumentLimits, LimitError};
use crate::graphql::refresh_cookie::RefreshCookie;

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// What the `/graphql` handler needs.
#[derive(Clone)]
pub struct GraphqlEndpoint {
    pub schema: AuthqlSchema,
    pub graphiql: bool,
    pub trusted_proxies: Arc<[IpNet]>,
    pub limits: DocumentLimits,
    /// The longest a request may run once its body is read.
    pub request_timeout: Duration,
    /// The longest a client may take to send its body.
    pub body_read_timeout: Duration,
    /// How the refresh cookie is named and read.
    pub refresh_cookie: RefreshCookie,
}

/// The response media type the client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFormat {
    GraphqlResponseJson,
    Json,
}

impl ResponseFormat {
    /// Chooses by the `Accept` header: the highest quality wins; at equal
    /// quality `application/graphql-response+json` beats `application/json`,
    /// which beats a wildcard. A missing header or a wildcard alone gets
    /// `application/json` (the GraphQL-over-HTTP spec's advice for clients
    /// that do not know the new type: axios, bare `fetch`, curl). `None`
    /// when neither type is acceptable.
    pub fn negotiate(accept: Option<&str>) -> Option<Self> {
        let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
            return Some(Self::Json);
        };
        let mut best: Option<(f32, u8, Self)> = None;
        for range in accept.split(',') {
            let mut params = range.split(';');
            let media = params
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            let quality = params
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let (precedence, format) = match media.as_str() {
                GRAPHQL_RESPONSE_JSON => (2, Self::GraphqlResponseJson),
                JSON => (1, Self::Json),
                "application/*" | "*/*" => (0, Self::Json),
                _ => continue,
            };
            if quality <= 0.0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((q, p, _)) => quality > q || (quality == q && precedence > p),
            };
            if better {
                best = Some((quality, precedence, format));
            }
        }
        best.map(|(_, _, format)| format)
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponseJson => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        }
    }
}

#[handler]
pub async fn graphql(
    req: &Request,
    body: Body,
    Data(endpoint): Data<&GraphqlEndpoint>,
) -> Response {
    let request_id = Uuid::new_v4();
    let span = tracing::info_span!("request", %request_id, method = %req.method());
    let mut response = serve(req, body, endpoint, request_id)
        .instrument(span)
        .await;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept"));
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        headers.insert("x-request-id", value);
    }
    response
}

async fn serve(
    req: &Request,
    body: Body,
    endpoint: &GraphqlEndpoint,
    request_id: Uuid,
) -> Response {
    let method = req.method().clone();
    if method != Method::GET && method != Method::POST {
        return transport_error(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            "Use GET or POST",
        )
        .with_header(header::ALLOW, "GET, POST")
        .into_response();
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if method == Method::GET && endpoint.graphiql && accept.is_some_and(|a| a.contains("text/html"))
    {
        return super::graphiql::page();
    }
    let Some(format) = ResponseFormat::negotiate(accept) else {
        return transport_error(
            StatusCode::NOT_ACCEPTABLE,
            code::NOT_ACCEPTABLE,
            "Accept application/graphql-response+json or application/json",
        );
    };

    let mut request = match read_request(req, body, &method, endpoint).await {
        Ok(request) => request,
        Err(response) => return response,
    };

    let operation_type = match vet(&mut request, &endpoint.limits) {
        Ok(operation_type) => operation_type,
        Err(refusal) => return render_request_error(refusal, format, request_id),
    };
    if method == Method::GET && operation_type == Some(OperationType::Mutation) {
        return transport_error(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            "Mutations must use POST",
        )
        .with_header(header::ALLOW, "POST")
        .into_response();
    }

    // The cookie authenticates only requests from an origin trusted with
    // credentials; POST bodies are JSON (checked above), which no cross-site
    // form can send.
    let origin_trusted = req
        .extensions()
        .get::<Admission>()
        .is_some_and(|admission| admission.trusts_credentials());
    let request = request
        .data(RequestCredentials::new(Bearer::from_header(
            req.headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok()),
        )))
        .data(endpoint.refresh_cookie.read(req.headers(), origin_trusted))
        .data(client_info(req, &endpoint.trusted_proxies));
    match tokio::time::timeout(endpoint.request_timeout, endpoint.schema.execute(request)).await {
        Ok(response) => {
            let retry_after = retry_after(&response);
            let mut rendered = render(response, format, request_id, false);
            if let Some(seconds) = retry_after
                && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
            {
                rendered.headers_mut().insert(header::RETRY_AFTER, value);
            }
            rendered
        }
        Err(_) => {
            tracing::warn!(timeout = ?endpoint.request_timeout, "request deadline exceeded");
            transport_error(
                StatusCode::SERVICE_UNAVAILABLE,
                code::REQUEST_TIMEOUT,
                "The request did not finish in time; try again",
            )
            .with_header(header::RETRY_AFTER, "1")
            .into_response()
        }
    }
}

/// Everything checked of a document before it runs: its text's nesting and
/// tokens before any parser recurses over it, then, parsed once (and kept for
/// execution), its measure and its string arguments. Returns the type of the
/// operation that will run, when it can be told.
fn vet(
    request: &mut async_graphql::Request,
    limits: &DocumentLimits,
) -> Result<Option<OperationType>, ServerError> {
    limits::lexical::check_document(&request.query, limits.max_nesting, limits.max_tokens)
        .map_err(|error| limit_error(&error, code::GRAPHQL_PARSE_FAILED))?;
    let document = async_graphql::parser::parse_query(&request.query).map_err(ServerError::from)?;
    limits::operation::check(&document, limits)
        .map_err(|error| limit_error(&error, code::GRAPHQL_VALIDATION_FAILED))?;
    if let Some(field) = limits::input::find_control_character(&document, &request.variables) {
        return Err(control_character_error(&field));
    }
    let operation_type =
        selected_operation_type(&document.operations, request.operation_name.as_deref());
    request.set_parsed_query(document);
    Ok(operation_type)
}

/// The largest `retryAfter` among the errors that carry one (throttled or
/// busy), for the HTTP `Retry-After` header.
fn retry_after(response: &async_graphql::Response) -> Option<u64> {
    response
        .errors
        .iter()
        .filter_map(
            |error| match error.extensions.as_ref()?.get("retryAfter")? {
                Value::Number(n) => n.as_u64(),
                _ => None,
            },
        )
        .max()
}

/// A refused document as a coded request error naming the limit.
fn limit_error(error: &LimitError, code: &'static str) -> ServerError {
    let mut server_error = ServerError::new(error.to_string(), None);
    let extensions = server_error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code);
    extensions.set("limit", error.limit_name());
    server_error
}

fn control_character_error(field: &str) -> ServerError {
    let mut server_error = ServerError::new("Invalid input", None);
    let extensions = server_error.extensions.get_or_insert_with(Default::default);
    extensions.set("code", code::BAD_USER_INPUT);
    let fields = [(
        async_graphql::Name::new(field),
        Value::from("must not contain control characters"),
    )];
    extensions.set("fields", Value::Object(fields.into_iter().collect()));
    server_error
}

fn render_request_error(error: ServerError, format: ResponseFormat, request_id: Uuid) -> Response {
    render(
        async_graphql::Response::from_errors(vec![error]),
        format,
        request_id,
        true,
    )
}

/// The GraphQL request of a GET (query string) or POST (JSON body).
async fn read_request(
    req: &Request,
    body: Body,
    method: &Method,
    endpoint: &GraphqlEndpoint,
) -> Result<async_graphql::Request, Response> {
    let max_nesting = endpoint.limits.max_nesting;
    if *method == Method::GET {
        return parse_get_parameters(req.uri().query().unwrap_or_default(), max_nesting).map_err(
            |message| transport_error(StatusCode::BAD_REQUEST, code::BAD_REQUEST, &message),
        );
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    if content_type.as_deref() != Some(JSON) {
        return Err(transport_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code::UNSUPPORTED_MEDIA_TYPE,
            "POST bodies must be application/json",
        ));
    }
    let bytes = tokio::time::timeout(
        endpoint.body_read_timeout,
        body.into_bytes_limit(MAX_BODY_BYTES),
    )
    .await
    .map_err(|_| {
        transport_error(
            StatusCode::REQUEST_TIMEOUT,
            code::REQUEST_TIMEOUT,
            "The request body was not received in time",
        )
    })?
    .map_err(|e| match e {
        poem::error::ReadBodyError::PayloadTooLarge => transport_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::PAYLOAD_TOO_LARGE,
            "Request bodies are limited to 64 KiB",
        ),
        _ => transport_error(
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "Cannot read the request body",
        ),
    })?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(transport_error(
            StatusCode::BAD_REQUEST,
            code::BATCHING_NOT_SUPPORTED,
            "Batched requests are not supported: send one operation per request",
        ));
    }
    // The body's own object is one level: its values get the document's bound.
    if let Err(error) = limits::lexical::check_json(&bytes, max_nesting + 1) {
        return Err(transport_error(
            StatusCode::BAD_REQUEST,
            code::GRAPHQL_PARSE_FAILED,
            &error.to_string(),
        ));
    }
    let not_a_request = || {
        transport_error(
            StatusCode::BAD_REQUEST,
            code::BAD_REQUEST,
            "The body must be a JSON object with a string `query`",
        )
    };
    let request: async_graphql::Request =
        serde_json::from_slice(&bytes).map_err(|_| not_a_request())?;
    // Without a document it is not a GraphQL request, whatever `Accept` says.
    if request.query.trim().is_empty() {
        return Err(not_a_request());
    }
    Ok(request)
}

/// The parameters of a GET request, named as the GraphQL over HTTP spec names
/// them (async-graphql's own parser expects `operation_name`).
#[derive(serde::Deserialize)]
struct GetParameters {
    query: Option<String>,
    #[serde(rename = "operationName")]
    operation_name: Option<String>,
    variables: Option<String>,
    extensions: Option<String>,
}

fn parse_get_parameters(
    query_string: &str,
    max_nesting: usize,
) -> Result<async_graphql::Request, String> {
    let params: GetParameters = serde_urlencoded::from_str(query_string)
        .map_err(|e| format!("Invalid query string: {e}"))?;
    let query = params
        .query
        .filter(|q| !q.trim().is_empty())
        .ok_or("The `query` parameter is required")?;
    let mut request = async_graphql::Request::new(query);
    request.operation_name = params.operation_name.filter(|name| !name.is_empty());
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        limits::lexical::check_json(variables.as_bytes(), max_nesting)
            .map_err(|error| error.to_string())?;
        request.variables =
            serde_json::from_str(&variables).map_err(|_| "`variables` must be a JSON object")?;
    }
    if let Some(extensions) = params.extensions.filter(|e| !e.is_empty()) {
        limits::lexical::check_json(extensions.as_bytes(), max_nesting)
            .map_err(|error| error.to_string())?;
        request.extensions =
            serde_json::from_str(&extensions).map_err(|_| "`extensions` must be a JSON object")?;
    }
    Ok(request)
}

/// The type of the operation that will run, when it can be told.
fn selected_operation_type(
    operations: &DocumentOperations,
    name: Option<&str>,
) -> Option<OperationType> {
    match (operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| op.node.ty)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// Serialises a GraphQL response. Every error gets a code; an error without
/// one is a request error (parse, validation, limits) when nothing ran, and
/// otherwise something unexpected whose text is replaced. Request errors have
/// no `data` and, as `application/graphql-response+json`, status 400.
fn render(
    mut response: async_graphql::Response,
    format: ResponseFormat,
    request_id: Uuid,
    parse_failed: bool,
) -> Response {
    let request_error = parse_failed
        || (response.data == Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty()));
    for error in &mut response.errors {
        errors::classify(error, request_error, parse_failed, request_id);
    }

    let mut body = serde_json::Map::new();
    if !request_error {
        body.insert("data".into(), json!(response.data));
    }
    if !response.errors.is_empty() {
        body.insert("errors".into(), json!(response.errors));
    }
    if !response.extensions.is_empty() {
        body.insert("extensions".into(), json!(response.extensions));
    }
    let status = if request_error && format == ResponseFormat::GraphqlResponseJson {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut rendered = Response::builder()
        .status(status)
        .content_type(format.content_type())
        .body(serde_json::Value::Object(body).to_string());
    // Headers resolvers set: the refresh cookie.
    for (name, value) in &response.http_headers {
        rendered.headers_mut().append(name, value.clone());
    }
    rendered
}

/// An error of the HTTP exchange itself, before any GraphQL ran.
fn transport_error(status: StatusCode, code: &'static str, message: &str) -> Response {
    let body = json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    Response::builder()
        .status(status)
        .content_type("application/json; charset=utf-8")
        .body(body.to_string())
}

#[cfg(test)]
mod tests {
    use super::ResponseFormat::{self, GraphqlResponseJson, Json};

    #[test]
    fn a_missing_or_wildcard_accept_gets_json() {
        assert_eq!(ResponseFormat::negotiate(None), Some(Json));
        assert_eq!(ResponseFormat::negotiate(Some("*/*")), Some(Json));
        assert_eq!(ResponseFormat::negotiate(Some("application/*")), Some(Json));
        assert_eq!(
            ResponseFormat::negotiate(Some("application/graphql-response+json, */*;q=0.8")),
            Some(GraphqlResponseJson)
        );
        assert_eq!(
            ResponseFormat::negotiate(Some("*/*, application/graphql-response+json")),
            Some(GraphqlResponseJson)
        );
    }

    #[test]
    fn quality_values_decide() {
        assert_eq!(
            ResponseFormat::negotiate(Some("application/json")),
            Some(Json)
        );
        assert_eq!(
            ResponseFormat::negotiate(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Json)
        );
        assert_eq!(
            ResponseFormat::negotiate(Some("application/json, application/graphql-response+json")),
            Some(GraphqlResponseJson)
        );
    }

    #[test]
    fn nothing_acceptable_is_none() {
        assert_eq!(ResponseFormat::negotiate(Some("text/plain")), None);
        assert_eq!(
            ResponseFormat::negotiate(Some("application/json;q=0")),
            None
        );
    }
}
