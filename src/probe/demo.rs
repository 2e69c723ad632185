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
        "sw.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/demo-shop/sw.js"),
    ),
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

/// Catalogue pages `/katalog/N.html` (N from 1 to [`CATALOGUE`]): a product page each, linking
/// to the next three, with the shop's pixels — a larger site for the probe's benchmark.
pub const CATALOGUE: usize = 60;
const PRODUCTS: &[&str] = &[
    "Alvedon 500 mg",
    "Graviditetstest digitalt",
    "Tandkräm Sensitive",
    "Solskydd SPF 50",
    "Ägglossningstest 20 st",
    "Nässpray Otrivin",
    "HIV-självtest",
    "Plåster sortiment",
    "Vitamin D 25 µg",
    "Kondomer 10 st",
    "Handkräm",
    "Allergitabletter",
];

fn catalogue(n: usize) -> Response {
    if !(1..=CATALOGUE).contains(&n) {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let product = PRODUCTS[n % PRODUCTS.len()];
    let links: String = (1..=3)
        .map(|k| {
            let m = (n + k - 1) % CATALOGUE + 1;
            format!(
                "<li><a href=\"/katalog/{m}.html\">{}</a></li>",
                PRODUCTS[m % PRODUCTS.len()]
            )
        })
        .collect();
    let html = format!(
        "<!doctype html><html lang=\"sv\"><head><meta charset=\"utf-8\"><title>{product} – Apoteket Exempel</title>\
<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/style.css\"></head>\
<body data-sida=\"produkt\" data-produkt=\"{product}\" data-pris=\"99\"><main><h1>{product}</h1>\
<p><label>Bevaka priset, e-post <input type=\"email\" name=\"bevaka_epost\"></label></p>\
<ul>{links}</ul><p><a href=\"/index.html\">Start</a></p></main>\
<script src=\"/site.js\"></script><script src=\"/pixels.js\"></script></body></html>"
    );
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
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
            "/katalog/{page}",
            get(|Path(page): Path<String>| async move {
                catalogue(page.trim_end_matches(".html").parse().unwrap_or(0))
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
