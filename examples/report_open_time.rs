//! How long Debian's Chromium takes to load and lay out a report: navigation to the load
//! event plus one forced layout, measured inside a running browser (its start-up excluded).
//! `cargo run --release --example report_open_time -- report.html [RUNS]`

use chromiumoxide::browser::{Browser, BrowserConfig};
use futures::StreamExt;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let path = std::fs::canonicalize(
        std::env::args()
            .nth(1)
            .expect("usage: report_open_time FILE [RUNS]"),
    )?;
    let runs: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let profile = std::env::temp_dir().join(format!("pw-open-{}", std::process::id()));
    let (mut browser, mut handler) = Browser::launch(
        BrowserConfig::builder()
            .chrome_executable("/usr/bin/chromium")
            .new_headless_mode()
            .no_sandbox()
            .user_data_dir(&profile)
            .args([
                "disable-gpu",
                "no-first-run",
                "disable-component-update",
                "disable-sync",
            ])
            .build()
            .map_err(anyhow::Error::msg)?,
    )
    .await?;
    let h = tokio::spawn(async move { while handler.next().await.is_some() {} });
    let page = browser.new_page("about:blank").await?;
    for run in 1..=runs {
        let started = std::time::Instant::now();
        page.goto(format!("file://{}", path.display())).await?;
        let height: f64 = page
            .evaluate("document.body.getBoundingClientRect().height")
            .await?
            .into_value()?;
        println!(
            "run {run}: loaded and laid out in {} ms (page height {height:.0} px)",
            started.elapsed().as_millis()
        );
        page.goto("about:blank").await?;
    }
    let _ = browser.close().await;
    let _ = browser.wait().await;
    h.abort();
    let _ = std::fs::remove_dir_all(profile);
    Ok(())
}
