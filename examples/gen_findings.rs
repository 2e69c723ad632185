//! Synthetic findings for the report's benchmark: N JSON lines in the findings schema, spread
//! over 200 sites, 12 vendors, 2 000 pixels, 40 field families and a year of days, with
//! fingerprints of about N/20 people. Deterministic.
//! `cargo run --release --example gen_findings -- N > findings.jsonl`

use std::io::Write;

const VENDORS: [&str; 12] = [
    "meta",
    "google-analytics",
    "google-ads",
    "tiktok",
    "snap",
    "pinterest",
    "linkedin",
    "microsoft-uet",
    "x",
    "reddit",
    "criteo",
    "matomo",
];
const FIELDS: [(&str, &str, &str); 8] = [
    ("udff[em]", "hashed_pii", "email"),
    ("udff[ph]", "hashed_pii", "phone"),
    ("ud[fn]", "hashed_pii", "name"),
    ("ep.email", "pii", "email"),
    ("cd[content_name]", "sensitive", "health"),
    ("dl", "sensitive", "sex_life"),
    ("gcs", "consent", "denied_but_sent"),
    ("url", "transport", "plaintext_http"),
];

fn main() -> std::io::Result<()> {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let people = (n / 20).max(1);
    for i in 0..n {
        let r = next();
        let site = r % 200;
        let vendor = VENDORS[(r >> 8) as usize % VENDORS.len()];
        let pixel = (r >> 16) % 2000;
        let (field, class, kind) = FIELDS[(r >> 28) as usize % FIELDS.len()];
        let family = (r >> 32) % 5;
        let day = (i * 365 / n.max(1)) as i64;
        let date =
            chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days(day);
        let person = next() % people;
        let severity = match class {
            "pii" | "sensitive" => "critical",
            "transport" => "medium",
            _ => "high",
        };
        writeln!(
            out,
            r#"{{"schema":"pixelwarden.finding/v1","ts":"{date}T{:02}:{:02}:{:02}.000Z","source":{{"path":"egress-{site}.log","line":{i}}},"format":"squid","site":"shop{site}.example.se","vendor":"{vendor}","endpoint":"{vendor}-pixel","pixel_id":"{pixel}","event":"Purchase","class":"{class}","type":"{kind}","detector":"d","field":"{field}{}","decode":["query"],"evidence":"7ad5bc… (sha256, 64 chars)","fingerprint":"hm1:{:016x}","severity":"{severity}"}}"#,
            (r >> 40) % 24,
            (r >> 45) % 60,
            (r >> 51) % 60,
            if family == 0 {
                String::new()
            } else {
                format!("{family}")
            },
            person.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (kind.len() as u64)
        )?;
    }
    out.flush()
}
