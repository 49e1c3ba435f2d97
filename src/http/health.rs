use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::config::DatabaseSettings;
use crate::store::{self, Health};

/// How long the database may take to answer before the instance is reported
/// unhealthy; load balancers give up after a few seconds.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 `ok` when the database answers within [`PING_TIMEOUT`] and can take
/// writes; 503 `unavailable` or `read_only` otherwise: for load balancers.
#[handler]
pub async fn healthz(
    Data((db, settings)): Data<&(DatabaseConnection, DatabaseSettings)>,
) -> Response {
    let health = tokio::time::timeout(PING_TIMEOUT, store::health(db, settings))
        .await
        .unwrap_or(Health::Unreachable);
    let status = match health {
        Health::Ok => return Json(json!({ "status": "ok" })).into_response(),
        Health::Unreachable => "unavailable",
        Health::ReadOnly => "read_only",
    };
    Json(json!({ "status": status }))
        .with_status(StatusCode::SERVICE_UNAVAILABLE)
        .into_response()
}
