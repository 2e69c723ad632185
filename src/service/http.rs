//! `/metrics` (Prometheus text format), `/healthz` (the process is up) and `/readyz` (consuming).

use super::metrics::Metrics;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Clone)]
struct AppState {
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
}

/// Bind and serve in the background; returns the bound address.
pub async fn serve(
    listen: &str,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
) -> anyhow::Result<std::net::SocketAddr> {
    let app = Router::new()
        .route(
            "/metrics",
            get(|State(s): State<AppState>| async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    s.metrics.render(),
                )
            }),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(s): State<AppState>| async move {
                if s.ready.load(Ordering::Relaxed) {
                    (StatusCode::OK, "ready\n")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                }
            }),
        )
        .with_state(AppState { metrics, ready });
    let addr: std::net::SocketAddr = tokio::net::lookup_host(listen)
        .await
        .map_err(|e| anyhow::anyhow!("metrics listen {listen}: {e}"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("metrics listen {listen}: no address"))?;
    // SO_REUSEADDR: a restarted instance must get its port back while old scrape connections
    // are still in TIME_WAIT.
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket
        .bind(addr)
        .map_err(|e| anyhow::anyhow!("metrics listen {listen}: {e}"))?;
    let listener = socket.listen(1024)?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::warn!(target: "pixelwarden::service", "metrics server stopped: {e}");
        }
    });
    Ok(addr)
}
