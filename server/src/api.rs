//! The producer REST API (spec §6): publish, read, complete and cancel items with a bearer
//! API key. Every error is `{"error": {"code", "message", "field"}}`; the OpenAPI document
//! is generated from these handlers and types.

use app::api_keys::ApiKey;
use app::db::DbError;
use app::db::now_ms;
use app::items::payload::{self, ApiItem, Audience, ItemPayload, ItemUpdate};
use app::items::{self, DeliveryReport, ItemError, Status};
use app::limits::RetryAfter;
use app::state::AppState;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

/// Largest request body the API reads.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "Action Center producer API", version = "1", description = "Publish actions and notifications to partner organisations."),
    paths(create_item, get_item, update_item, item_report, complete_item, cancel_item),
    components(schemas(ItemPayload, ItemUpdate, ApiItem, Audience, DeliveryReport, ErrorBody, ErrorDetail)),
    modifiers(&BearerKey, &ServerErrors),
    security(("api_key" = []))
)]
pub struct ApiDoc;

struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The answers any operation may give when the server, not the request, is at fault: storage
/// failing (500) and an answer that took longer than the instance allows (503, see
/// `LimitConfig::response_timeout`). Both carry the usual error body.
struct ServerErrors;

impl Modify for ServerErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let answer = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                let responses = &mut operation.responses.responses;
                responses.insert(
                    "500".into(),
                    answer("Something went wrong on the server's side (code `internal`)").into(),
                );
                responses.insert(
                    "503".into(),
                    answer("The server took too long to answer; try again (code `unavailable`)").into(),
                );
            }
        }
    }
}

/// The API's routes, to be nested under `/api/v1`.
pub fn router() -> Router<AppState> {
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            )
        })
}

/// The API's routes by path (relative to `/api/v1`), listed once for the router and the
/// authorization tests.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/items", post(create_item)),
        ("/items/{id}", get(get_item).patch(update_item)),
        ("/items/{id}/report", get(item_report)),
        ("/items/{id}/complete", post(complete_item)),
        ("/items/{id}/cancel", post(cancel_item)),
        ("/openapi.json", get(openapi)),
    ]
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `not_an_action`, `payload_too_large`, `invalid`, `rate_limited`, `internal`, `unavailable`.
    pub code: String,
    pub message: String,
    /// The JSON path of the offending field, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An API failure, rendered as the error JSON of the contract.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    detail: ErrorDetail,
}

impl ApiError {
    fn new(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            detail: ErrorDetail {
                code: code.into(),
                message: message.into(),
                field: None,
            },
        }
    }

    fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let mut e = ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message);
        e.detail.field = Some(field.into());
        e
    }

    fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such item")
    }

    /// Too many requests with one credential (see `LimitConfig::api_per_key`).
    pub(crate) fn rate_limited(wait: RetryAfter) -> Response {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many requests with this key; retry after {} s",
                wait.seconds()
            ),
        )
        .into_response();
        let (name, value) = crate::security::retry_after_header(wait);
        response.headers_mut().insert(name, value);
        response
    }

    /// The request took longer than the instance allows (see `LimitConfig::response_timeout`).
    pub(crate) fn timed_out() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "the server took too long to answer; try again",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let mut response = (self.status, Json(ErrorBody { error: self.detail })).into_response();
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(err: DbError) -> Self {
        tracing::error!(error = %err, "storage failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side",
        )
    }
}

impl From<ItemError> for ApiError {
    fn from(err: ItemError) -> Self {
        match err {
            ItemError::Invalid(e) => ApiError::invalid(e.field, e.message),
            ItemError::IdempotencyConflict => {
                ApiError::new(StatusCode::CONFLICT, "conflict", err.to_string())
            }
            ItemError::NotFound => ApiError::not_found(),
            ItemError::NotAnAction => ApiError::new(StatusCode::CONFLICT, "not_an_action", err.to_string()),
            ItemError::AlreadyClosed(_) => ApiError::new(StatusCode::CONFLICT, "conflict", err.to_string()),
            ItemError::MandatoryCannotBeArchived | ItemError::MandatoryCannotBeSnoozed => {
                ApiError::new(StatusCode::CONFLICT, "conflict", err.to_string())
            }
            ItemError::Db(e) => e.into(),
        }
    }
}

/// The API key of the request (`Authorization: Bearer <key>`).
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<ApiKey, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid API key is required (Authorization: Bearer <key>)",
        )
    };
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 200)
        .ok_or_else(unauthorized)?;
    state
        .api_keys
        .authenticate(&state.db, secret, state.demo_mode)
        .await?
        .ok_or_else(unauthorized)
}

fn require_scope(key: &ApiKey, org_id: &str) -> Result<(), ApiError> {
    if key.may_act_on(org_id) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key is not scoped to organisation {org_id:?}"),
        ))
    }
}

/// Reads a JSON body of at most `MAX_BODY_BYTES`, naming the field at fault when it does not fit.
async fn read_json<T: serde::de::DeserializeOwned>(body: Body) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
    })?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // Broken JSON has no field to blame: the body as a whole is at fault.
        let whole_body = inner.is_syntax() || inner.is_eof() || path == "." || path == "?";
        ApiError::invalid(
            if whole_body { "body".to_string() } else { path },
            inner.to_string(),
        )
    })
}

fn actor(key: &ApiKey) -> String {
    format!("api key {} ({})", key.name, key.id)
}

/// Publish an action or notification.
#[utoipa::path(
    post, path = "/api/v1/items", request_body = ItemPayload,
    responses(
        (status = 201, description = "Created", body = ApiItem),
        (status = 200, description = "Repeated idempotency key with the same payload: the existing item", body = ApiItem),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    )
)]
async fn create_item(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let key = authenticate(&state, &headers).await?;
    let payload: ItemPayload = read_json(body).await?;
    require_scope(&key, &payload.org_id)?;
    let catalog = state.publisher.catalog().await?;
    let valid = payload::validate(payload, &catalog).map_err(ItemError::from)?;
    valid.check_expiry(now_ms()).map_err(ItemError::from)?;
    let publication = items::Publication {
        item: valid,
        api_key_id: Some(key.id.clone()),
        actor: actor(&key),
    };
    let (item, created) = state.publisher.publish(publication).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(item)).into_response())
}

/// An item with its audience and status.
#[utoipa::path(
    get, path = "/api/v1/items/{id}", params(("id" = String, Path, description = "Item id")),
    responses((status = 200, body = ApiItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody))
)]
async fn get_item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ApiItem>, ApiError> {
    Ok(Json(scoped_item(&state, &headers, &id).await?.1))
}

/// Change an open item's text, due date (actions) or expiry, for every recipient. Open lists
/// and bells show the change at once; reminders not yet sent follow a new due date, and email
/// not yet on its way is sent with the new text.
#[utoipa::path(
    patch, path = "/api/v1/items/{id}", params(("id" = String, Path, description = "Item id")), request_body = ItemUpdate,
    responses(
        (status = 200, body = ApiItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "The item is closed or expired", body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody),
    )
)]
async fn update_item(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<ApiItem>, ApiError> {
    let (key, _) = scoped_item(&state, &headers, &id).await?;
    let update: ItemUpdate = read_json(body).await?;
    let valid = payload::validate_update(update).map_err(ItemError::from)?;
    Ok(Json(items::update(&state.db, &id, &valid, &actor(&key)).await?))
}

/// The item `id` and the key that asked for it, when the key may see it (its organisation's
/// key, or the platform key).
async fn scoped_item(state: &AppState, headers: &HeaderMap, id: &str) -> Result<(ApiKey, ApiItem), ApiError> {
    let key = authenticate(state, headers).await?;
    let item = items::get(&state.db, id).await?.ok_or_else(ApiError::not_found)?;
    require_scope(&key, &item.org_id)?;
    Ok((key, item))
}

/// What became of an item: how many users it reaches now, how many of them were emailed about
/// it (and how many could not be), and how many read or archived it.
#[utoipa::path(
    get, path = "/api/v1/items/{id}/report", params(("id" = String, Path, description = "Item id")),
    responses((status = 200, body = DeliveryReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody))
)]
async fn item_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<DeliveryReport>, ApiError> {
    scoped_item(&state, &headers, &id).await?;
    Ok(Json(items::delivery_report(&state.db, &id).await?))
}

/// Complete an open action, for every recipient.
#[utoipa::path(
    post, path = "/api/v1/items/{id}/complete", params(("id" = String, Path, description = "Item id")),
    responses((status = 200, body = ApiItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody))
)]
async fn complete_item(
    state: State<AppState>,
    headers: HeaderMap,
    id: Path<String>,
) -> Result<Json<ApiItem>, ApiError> {
    close_action(state, headers, id, Status::Completed).await
}

/// Cancel an open action, for every recipient.
#[utoipa::path(
    post, path = "/api/v1/items/{id}/cancel", params(("id" = String, Path, description = "Item id")),
    responses((status = 200, body = ApiItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody))
)]
async fn cancel_item(
    state: State<AppState>,
    headers: HeaderMap,
    id: Path<String>,
) -> Result<Json<ApiItem>, ApiError> {
    close_action(state, headers, id, Status::Cancelled).await
}

async fn close_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    to: Status,
) -> Result<Json<ApiItem>, ApiError> {
    let (key, _) = scoped_item(&state, &headers, &id).await?;
    Ok(Json(items::set_status(&state.db, &id, to, &actor(&key)).await?))
}
