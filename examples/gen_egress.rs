//! Deterministic egress-log generator for memory and throughput measurements.
//!
//! `cargo run --release --example gen_egress -- [--bytes N] [--pixel-share 0.02] [--seed S] [--pixel-only]`
//! writes a Squid native access.log to stdout: ordinary traffic (CDNs, APIs, updates, SaaS) mixed
//! with pixel hits (Meta with hashed or plaintext identity and health products, GA4 with items
//! and consent). The same arguments always give the same bytes.

use std::io::{self, BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| b"0123456789abcdef"[self.below(16) as usize] as char)
            .collect()
    }
}

const ORDINARY: &[&str] = &[
    "GET https://cdn.jsdelivr.net/npm/vue@3.4.21/dist/vue.global.prod.js",
    "GET https://fonts.gstatic.com/s/inter/v13/UcC73FwrK3iLTeHuS_fvQtMwCp50KnMa1ZL7.woff2",
    "POST https://api.github.com/repos/acme/webshop/issues",
    "GET https://update.googleapis.com/service/update2/json?cup2key=13:2819173618",
    "GET https://outlook.office365.com/owa/service.svc?action=GetAccessTokenforResource",
    "GET https://acme.atlassian.net/rest/api/3/search?jql=project%3DWEB",
    "GET https://slack.com/api/conversations.history?channel=C024BE91L&limit=200",
    "GET https://registry.npmjs.org/left-pad",
    "GET https://static.zdassets.com/ekr/snippet.js?key=2f4e",
    "GET https://www.apotek-exempel.se/produkt/tandkram-sensitive-75ml",
    "GET https://images.ctfassets.net/abc123/4Xy/photo.jpg?w=800&fm=webp",
    "POST https://o123456.ingest.sentry.io/api/42/envelope/",
    "GET https://connect.facebook.net/en_US/fbevents.js",
    "GET https://www.googletagmanager.com/gtag/js?id=G-ABC123",
];

const PRODUCTS: &[&str] = &[
    "Klamydiatest",
    "Graviditetstest%202-pack",
    "Alvedon%20500%20mg",
    "Canesten%20kombi",
    "Tandkr%C3%A4m%20sensitive",
    "Solkr%C3%A4m%20SPF30",
    "Hudkr%C3%A4m",
];
const SITES: &[&str] = &[
    "www.apotek-exempel.se",
    "www.halsoshop.example",
    "www.example.com",
    "shop.example.se",
];

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let bytes: u64 = arg("--bytes")
        .and_then(|s| s.parse().ok())
        .unwrap_or(200 << 20);
    let share: f64 = arg("--pixel-share")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0.02);
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let pixel_only = args.iter().any(|a| a == "--pixel-only");
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let mut written = 0u64;
    let mut ms: u64 = 1_709_539_200_000;
    let threshold = (share * 1_000_000.0) as u64;
    while written < bytes {
        ms += rng.below(40);
        let pixel = pixel_only || rng.below(1_000_000) < threshold;
        let site = rng.pick(SITES);
        let request = if pixel {
            pixel_hit(&mut rng, site, ms)
        } else {
            rng.pick(ORDINARY).to_string()
        };
        let client = format!(
            "10.{}.{}.{}",
            rng.below(8),
            rng.below(256),
            rng.below(254) + 1
        );
        let line = format!(
            "{}.{:03} {:>6} {client} TCP_MISS/200 {} {request} - HIER_DIRECT/192.0.2.{} {} \"https://{site}/\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
            ms / 1000,
            ms % 1000,
            rng.below(900) + 10,
            rng.below(90_000) + 200,
            rng.below(250) + 1,
            if pixel { "image/gif" } else { "application/octet-stream" },
        );
        written += line.len() as u64;
        out.write_all(line.as_bytes())?;
    }
    out.flush()
}

fn pixel_hit(rng: &mut Rng, site: &str, ms: u64) -> String {
    let product = rng.pick(PRODUCTS);
    match rng.below(4) {
        0 => format!(
            "GET https://www.facebook.com/tr/?id=1234567890{}&ev=Purchase&dl=https%3A%2F%2F{site}%2Fprodukt%2F{}&ts={ms}&cd[content_name]={product}&cd[value]=99&cd[currency]=SEK&es=automatic&udff[em]={}&udff[ph]={}&fbp=fb.1.{ms}.{}&v=2.9.149&r=stable&rqm=GET",
            rng.below(3),
            rng.below(10_000),
            rng.hex(64),
            rng.hex(64),
            rng.below(1 << 30)
        ),
        1 => format!(
            "GET https://www.facebook.com/tr/?id=1234567890{}&ev=PageView&dl=https%3A%2F%2F{site}%2F&ts={ms}&fbp=fb.1.{ms}.{}&v=2.9.149&r=stable&rqm=GET",
            rng.below(3),
            rng.below(1 << 30)
        ),
        2 => format!(
            "GET https://region1.google-analytics.com/g/collect?v=2&tid=G-ABC123&gtm=45je43&_p={}&cid={}.{}&ul=sv-se&sr=1920x1080&en=add_to_cart&dl=https%3A%2F%2F{site}%2Fkassa&dt=Kassa&pr1=id{}~nm{product}~pr99~qt1&gcs=G1{}{}&_et=12",
            rng.below(1 << 31),
            rng.below(1 << 31),
            ms / 1000,
            rng.below(100_000),
            rng.below(2),
            rng.below(2)
        ),
        _ => format!(
            "GET https://www.facebook.com/tr/?id=1234567890{}&ev=Lead&dl=https%3A%2F%2F{site}%2Fkontakt&ts={ms}&ud[em]=kund{}%40example.se&ud[fn]=anna&v=2.9.149&rqm=GET",
            rng.below(3),
            rng.below(1_000_000)
        ),
    }
}
