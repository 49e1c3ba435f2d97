use std::time::Duration;

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::store;

/// How long the database may take to answer before the instance is reported
/// unhealthy; load balancers give up after a few seconds.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// 200 when the database answers within [`PING_TIMEOUT`], 503 otherwise: for
/// load balancers.
#[handler]
pub async fn healthz(Data(db): Data<&DatabaseConnection>) -> Response {
    let answered = tokio::time::timeout(PING_TIMEOUT, store::ping(db)).await;
    if answered == Ok(true) {
        Json(json!({ "status": "ok" })).into_response()
    } else {
        Json(json!({ "status": "unavailable" }))
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .into_response()
    }
}
