use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use sea_orm::DatabaseConnection;
use serde_json::json;

use crate::store;

/// 200 when the database answers, 503 otherwise: for load balancers.
#[handler]
pub async fn healthz(Data(db): Data<&DatabaseConnection>) -> Response {
    if store::ping(db).await {
        Json(json!({ "status": "ok" })).into_response()
    } else {
        Json(json!({ "status": "unavailable" }))
            .with_status(StatusCode::SERVICE_UNAVAILABLE)
            .into_response()
    }
}
