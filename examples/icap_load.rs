//! ICAP load: CONNS persistent connections each send REQS REQMOD requests back to back, a mix
//! of pixel hits carrying identity (GET query, form POST, JSON conversion-API POST) and plain
//! non-pixel requests; prints requests per second and the latency each answer took.
//! `cargo run --release --example icap_load -- ADDR [CONNS] [REQS] [PIXEL_SHARE]`

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn reqmod(http_head: &str, body: &[u8]) -> Vec<u8> {
    let (enc, chunks) = if body.is_empty() {
        (
            format!("req-hdr=0, null-body={}", http_head.len()),
            Vec::new(),
        )
    } else {
        let mut c = format!("{:x}\r\n", body.len()).into_bytes();
        c.extend_from_slice(body);
        c.extend_from_slice(b"\r\n0\r\n\r\n");
        (format!("req-hdr=0, req-body={}", http_head.len()), c)
    };
    let mut out = format!("REQMOD icap://127.0.0.1/pixelwarden ICAP/1.0\r\nHost: 127.0.0.1\r\nAllow: 204\r\nX-Client-IP: 10.1.2.3\r\nEncapsulated: {enc}\r\n\r\n{http_head}").into_bytes();
    out.extend_from_slice(&chunks);
    out
}

fn messages() -> (Vec<Vec<u8>>, Vec<u8>) {
    let hash = "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6";
    let form = format!("id=123&ev=Lead&udff%5Bem%5D={hash}&udff%5Bph%5D=46701740605&es=automatic&dl=https%3A%2F%2Fapotek.example.se%2Fprodukt%2Fklamydiatest");
    let json = format!("{{\"data\":[{{\"event_name\":\"Purchase\",\"event_time\":1772434811,\"user_data\":{{\"em\":[\"{hash}\"],\"ph\":[\"{hash}\"],\"client_ip_address\":\"203.0.113.7\",\"client_user_agent\":\"Mozilla/5.0\"}},\"custom_data\":{{\"value\":149,\"currency\":\"SEK\",\"content_name\":\"Graviditetstest\"}}}}],\"access_token\":\"EAAGtoken\"}}");
    let pixels = vec![
        reqmod("GET http://www.facebook.com/tr/?id=123&ev=Purchase&ud%5Bem%5D=anna.svensson%40example.se&cd%5Bcontent_name%5D=Klamydiatest&dl=https%3A%2F%2Fapotek.example.se%2Fkassa HTTP/1.1\r\nHost: www.facebook.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n", b""),
        reqmod(&format!("POST http://www.facebook.com/tr/ HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n", form.len()), form.as_bytes()),
        reqmod(&format!("POST https://graph.facebook.com/v19.0/123/events HTTP/1.1\r\nHost: graph.facebook.com\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", json.len()), json.as_bytes()),
        reqmod("GET http://region1.google-analytics.com/g/collect?v=2&tid=G-1&en=purchase&dl=https%3A%2F%2Fapotek.example.se%2Fkassa&ep.telefon=0701740605&gcs=G111 HTTP/1.1\r\nHost: region1.google-analytics.com\r\n\r\n", b""),
    ];
    let plain = reqmod("GET http://cdn.example.com/static/app.3f2a.js HTTP/1.1\r\nHost: cdn.example.com\r\nUser-Agent: Mozilla/5.0\r\n\r\n", b"");
    (pixels, plain)
}

/// Read one ICAP answer whole.
async fn answer(s: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> std::io::Result<u16> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let status: u16 = head
                .split(' ')
                .nth(1)
                .and_then(|x| x.parse().ok())
                .unwrap_or(0);
            let enc = head
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("encapsulated:"))
                .unwrap_or("");
            let need_body = enc.contains("req-body") || enc.contains("res-body");
            let null_at: usize = enc
                .split("null-body=")
                .nth(1)
                .and_then(|x| x.trim().parse().ok())
                .unwrap_or(0);
            loop {
                let rest = &buf[end..];
                let done = if need_body {
                    rest.windows(5).any(|w| w == b"0\r\n\r\n")
                } else {
                    rest.len() >= null_at
                };
                if done {
                    let used = if need_body {
                        end + rest.windows(5).position(|w| w == b"0\r\n\r\n").unwrap() + 5
                    } else {
                        end + null_at
                    };
                    buf.drain(..used);
                    return Ok(status);
                }
                let mut tmp = [0u8; 16384];
                let n = s.read(&mut tmp).await?;
                if n == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                buf.extend_from_slice(&tmp[..n]);
            }
        }
        let mut tmp = [0u8; 16384];
        let n = s.read(&mut tmp).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let addr = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:1344".into());
    let conns: usize = args.get(2).and_then(|x| x.parse().ok()).unwrap_or(16);
    let reqs: usize = args.get(3).and_then(|x| x.parse().ok()).unwrap_or(2000);
    let share: f64 = args.get(4).and_then(|x| x.parse().ok()).unwrap_or(0.8);
    let (pixels, plain) = messages();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..conns {
        let (pixels, plain, addr) = (pixels.clone(), plain.clone(), addr.clone());
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(&addr).await?;
            s.set_nodelay(true)?;
            let mut buf = Vec::new();
            let mut lat = Vec::with_capacity(reqs);
            let mut statuses = std::collections::BTreeMap::new();
            for i in 0..reqs {
                let pick = ((i * 7919 + c * 104729) % 1000) as f64 / 1000.0;
                let msg = if pick < share {
                    &pixels[i % pixels.len()]
                } else {
                    &plain
                };
                let t = Instant::now();
                s.write_all(msg).await?;
                let st = answer(&mut s, &mut buf).await?;
                lat.push(t.elapsed());
                *statuses.entry(st).or_insert(0u64) += 1;
            }
            Ok::<_, anyhow::Error>((lat, statuses))
        }));
    }
    let mut all: Vec<Duration> = Vec::new();
    let mut statuses = std::collections::BTreeMap::new();
    for t in tasks {
        let (lat, st) = t.await??;
        all.extend(lat);
        for (k, v) in st {
            *statuses.entry(k).or_insert(0u64) += v;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort();
    let q =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "{} requests over {conns} connections in {secs:.2} s = {:.0} requests/s; latency p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms; answers {statuses:?}; pixel share {share}",
        all.len(),
        all.len() as f64 / secs,
        q(0.50),
        q(0.99),
        all.last().unwrap().as_secs_f64() * 1000.0
    );
    Ok(())
}
