//! Serve the bundled test shop (assets/demo-shop/) on its own, to try `probe` against it with
//! journeys, budgets or a slow page: `cargo run --release --example demo_shop -- [ADDR]`
//! (default 127.0.0.1:8088), then `pixelwarden probe http://127.0.0.1:8088/`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8088".into());
    let addr = pixelwarden::probe::demo::serve(&listen).await?;
    eprintln!("demo shop at http://{addr}/ (Ctrl-C to stop)");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
