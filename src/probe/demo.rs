//! The bundled test shop (`assets/demo-shop/`), served on loopback for `probe --demo` and the
//! probe's tests: a fictional Swedish pharmacy whose pixel scripts behave like real ones (see
//! its README for every leak it contains). `/never` is never answered, so `slow.html` never
//! finishes loading.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use std::net::SocketAddr;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/demo-shop/index.html"),
    ),
    (
        "produkt-klamydiatest.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/demo-shop/produkt-klamydiatest.html"),
    ),
    (
        "konto.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/demo-shop/konto.html"),
    ),
    (
        "kassa.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/demo-shop/kassa.html"),
    ),
    (
        "tack.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/demo-shop/tack.html"),
    ),
    (
        "iframe.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/demo-shop/iframe.html"),
    ),
    (
        "slow.html",
        "text/html; charset=utf-8",
        include_bytes!("../../assets/demo-shop/slow.html"),
    ),
    (
        "pixels.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/demo-shop/pixels.js"),
    ),
    (
        "site.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/demo-shop/site.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../assets/demo-shop/style.css"),
    ),
];

fn file(name: &str) -> Response {
    let name = if name.is_empty() { "index.html" } else { name };
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, mime, body)) => ([(header::CONTENT_TYPE, *mime)], *body).into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Serve the shop on `listen` (`127.0.0.1:0` for any free port); returns where it listens.
pub async fn serve(listen: &str) -> anyhow::Result<SocketAddr> {
    let app = Router::new()
        .route("/", get(|| async { file("index.html") }))
        // The forms post here; the answer is the thank-you page.
        .route("/konto/skapa", any(|| async { file("tack.html") }))
        .route("/kassa/slutfor", any(|| async { file("tack.html") }))
        .route(
            "/never",
            get(|| async {
                std::future::pending::<()>().await;
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/{name}",
            get(|Path(name): Path<String>| async move { file(&name) }),
        );
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}
