//! A path the API does not serve gets the gateway's 404 `APIGW.0101` before its body is
//! read or its signature checked.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Extension;

use super::RequestContext;
use crate::sim::answer;
use crate::sim::routes::{not_found, Route};

pub async fn known_routes(
    Extension(cx): Extension<RequestContext>,
    req: Request,
    next: Next,
) -> Response {
    if cx.route != Route::Unknown {
        return next.run(req).await;
    }
    answer::failure(&not_found(req.method(), req.uri().path()), &cx.request_id)
}
