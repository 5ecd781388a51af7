//! The accept loop: one HTTP/1.1 connection per request (no keep-alive), so a fault can
//! cut exactly one request's connection — before or after the request was processed.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tower::ServiceExt;

use super::{Fault, Shared};

pub(crate) async fn serve(
    listener: TcpListener,
    router: axum::Router,
    shared: Shared,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stop.changed() => return,
        };
        let Ok((stream, _)) = accepted else { continue };
        let router = router.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let (abort_tx, abort_rx) = oneshot::channel::<()>();
            let abort = Arc::new(Mutex::new(Some(abort_tx)));
            let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                let router = router.clone();
                let shared = shared.clone();
                let abort = abort.clone();
                async move { Ok::<_, Infallible>(answer(req, router, shared, abort).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                // Dropping the connection closes the socket without a response.
                _ = abort_rx => {}
            }
        });
    }
}

async fn answer(
    req: Request<Incoming>,
    router: axum::Router,
    shared: Shared,
    abort: Arc<Mutex<Option<oneshot::Sender<()>>>>,
) -> Response<Body> {
    let fault = shared.take_fault(req.uri().path());
    let cut = |abort: &Arc<Mutex<Option<oneshot::Sender<()>>>>| {
        if let Some(tx) = abort.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = tx.send(());
        }
    };
    match fault {
        None => router
            .oneshot(req.map(Body::new))
            .await
            .unwrap_or_else(|e| match e {}),
        Some(Fault::DropBeforeProcessing) => {
            cut(&abort);
            std::future::pending().await
        }
        Some(Fault::DropAfterProcessing) => {
            let _ = router.oneshot(req.map(Body::new)).await;
            cut(&abort);
            std::future::pending().await
        }
        Some(Fault::CannedAfterProcessing(object)) => {
            let _ = router.oneshot(req.map(Body::new)).await;
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("request-id", fluxstore_sample_stripe::new_id("req_"))
                .body(Body::from(object.to_string()))
                .unwrap_or_default()
        }
        Some(Fault::Status {
            status,
            should_retry,
        }) => {
            let kind = if status == 429 {
                "invalid_request_error"
            } else {
                "api_error"
            };
            let (message, code) = if status == 429 {
                (
                    "Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.",
                    Some("rate_limit"),
                )
            } else {
                ("An unknown error occurred", None)
            };
            let mut body = serde_json::json!({"error": {"type": kind, "message": message}});
            if let Some(c) = code {
                body["error"]["code"] = serde_json::json!(c);
            }
            let mut resp = Response::builder()
                .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                .header("content-type", "application/json")
                .header("request-id", fluxstore_sample_stripe::new_id("req_"));
            if let Some(r) = should_retry {
                resp = resp.header("stripe-should-retry", if r { "true" } else { "false" });
            }
            resp.body(Body::from(body.to_string())).unwrap_or_default()
        }
    }
}
