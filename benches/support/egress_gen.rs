//! Deterministic egress traffic, shared by `examples/gen_egress.rs` (which writes it to stdout)
//! and `benches/pipeline.rs` (which keeps it in memory).
//!
//! Every format renders the same sequence of requests: ordinary traffic (CDNs, APIs, updates,
//! SaaS) mixed with pixel hits (Meta with hashed or plaintext identity and health products, GA4
//! with items and consent). The random stream is consumed identically in every format, so the
//! same seed gives the same requests whatever the format; the fields only some formats have
//! (Zeek uid, source port, EVE flow id) are derived from the record index, not from the stream.
//! The Squid rendering is the generator's original output and must stay byte-identical.

#![allow(dead_code)]

use std::fmt::Write as _;

/// The formats the generator writes. Names match `pixelwarden scan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Squid native `access.log` with full URLs and quoted Referer / User-Agent.
    Squid,
    /// Combined log format with absolute-form targets, as a forward proxy writes them.
    Clf,
    /// nginx `escape=json`: origin-form `request_uri` plus `host` and `scheme`.
    NginxJson,
    /// Zeek `http.log` TSV with its `#` header.
    Zeek,
    /// Suricata EVE JSON, `event_type` `http`.
    Eve,
    /// Elastic Common Schema JSON lines.
    Ecs,
}

impl LogFormat {
    pub const ALL: [LogFormat; 6] = [
        LogFormat::Squid,
        LogFormat::Clf,
        LogFormat::NginxJson,
        LogFormat::Zeek,
        LogFormat::Eve,
        LogFormat::Ecs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Squid => "squid",
            LogFormat::Clf => "clf",
            LogFormat::NginxJson => "nginx-json",
            LogFormat::Zeek => "zeek",
            LogFormat::Eve => "eve",
            LogFormat::Ecs => "ecs",
        }
    }

    pub fn parse(name: &str) -> Option<LogFormat> {
        LogFormat::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

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

/// A fixed scramble of the record index, for fields that must look random but must not
/// disturb the request stream.
fn mix(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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

/// The hosts of the pixel endpoints the generator emits (for `rg -F -f` comparisons).
pub const PIXEL_HOSTS: &[&str] = &["www.facebook.com", "region1.google-analytics.com"];

const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64)";

const ZEEK_HEADER: &str = "#separator \\x09\n\
#set_separator\t,\n\
#empty_field\t(empty)\n\
#unset_field\t-\n\
#path\thttp\n\
#open\t2024-03-04-08-00-00\n\
#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\ttrans_depth\tmethod\thost\turi\tpost_body\treferrer\tversion\tuser_agent\torigin\trequest_body_len\tresponse_body_len\tstatus_code\tstatus_msg\ttags\tresp_mime_types\n\
#types\ttime\tstring\taddr\tport\taddr\tport\tcount\tstring\tstring\tstring\tstring\tstring\tstring\tstring\tstring\tcount\tcount\tcount\tstring\tset[enum]\tvector[string]\n";

/// One request of the stream, before rendering.
struct Record<'a> {
    ms: u64,
    elapsed: u64,
    client: &'a str,
    method: &'a str,
    url: &'a str,
    host: &'a str,
    /// Path and query.
    target: &'a str,
    size: u64,
    peer: u64,
    mime: &'a str,
    site: &'a str,
}

/// Writes the stream one record at a time.
pub struct Generator {
    rng: Rng,
    ms: u64,
    threshold: u64,
    pixel_only: bool,
    format: LogFormat,
    index: u64,
}

impl Generator {
    /// `share` is the fraction of pixel hits (ignored when `pixel_only`).
    pub fn new(format: LogFormat, seed: u64, share: f64, pixel_only: bool) -> Generator {
        Generator {
            rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
            ms: 1_709_539_200_000,
            threshold: (share * 1_000_000.0) as u64,
            pixel_only,
            format,
            index: 0,
        }
    }

    /// Text that precedes the first record (Zeek's header; empty otherwise).
    pub fn header(&self) -> &'static str {
        match self.format {
            LogFormat::Zeek => ZEEK_HEADER,
            _ => "",
        }
    }

    /// Append the next record, with its terminating newline, to `out`.
    pub fn next_record(&mut self, out: &mut String) {
        let rng = &mut self.rng;
        self.ms += rng.below(40);
        let ms = self.ms;
        let pixel = self.pixel_only || rng.below(1_000_000) < self.threshold;
        let site = rng.pick(SITES);
        let request = if pixel {
            pixel_hit(rng, site, ms)
        } else {
            rng.pick(ORDINARY).to_string()
        };
        let client = format!(
            "10.{}.{}.{}",
            rng.below(8),
            rng.below(256),
            rng.below(254) + 1
        );
        let elapsed = rng.below(900) + 10;
        let size = rng.below(90_000) + 200;
        let peer = rng.below(250) + 1;
        let mime = if pixel {
            "image/gif"
        } else {
            "application/octet-stream"
        };
        let (method, url) = request.split_once(' ').expect("method and URL");
        let rest = url.split_once("://").map_or(url, |(_, r)| r);
        let slash = rest.find('/').unwrap_or(rest.len());
        let (host, target) = rest.split_at(slash);
        let record = Record {
            ms,
            elapsed,
            client: &client,
            method,
            url,
            host,
            target: if target.is_empty() { "/" } else { target },
            size,
            peer,
            mime,
            site,
        };
        let index = self.index;
        self.index += 1;
        match self.format {
            LogFormat::Squid => squid(out, &record),
            LogFormat::Clf => clf(out, &record),
            LogFormat::NginxJson => nginx_json(out, &record),
            LogFormat::Zeek => zeek(out, &record, index),
            LogFormat::Eve => eve(out, &record, index),
            LogFormat::Ecs => ecs(out, &record),
        }
    }
}

/// A whole log of at least `bytes` bytes (header included), in memory.
pub fn generate(
    format: LogFormat,
    bytes: usize,
    share: f64,
    seed: u64,
    pixel_only: bool,
) -> Vec<u8> {
    let mut generator = Generator::new(format, seed, share, pixel_only);
    let mut out = String::with_capacity(bytes + 4096);
    out.push_str(generator.header());
    while out.len() < bytes {
        generator.next_record(&mut out);
    }
    out.into_bytes()
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

/// `2024-03-04T08:00:00` for an epoch time in milliseconds (UTC).
fn iso_seconds(out: &mut String, ms: u64, pattern: &str) {
    let time = chrono::DateTime::from_timestamp((ms / 1000) as i64, 0).expect("time in range");
    let _ = write!(out, "{}", time.format(pattern));
}

/// A JSON string literal.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn squid(out: &mut String, r: &Record) {
    let _ = writeln!(
        out,
        "{}.{:03} {:>6} {} TCP_MISS/200 {} {} {} - HIER_DIRECT/192.0.2.{} {} \"https://{}/\" \"{USER_AGENT}\"",
        r.ms / 1000,
        r.ms % 1000,
        r.elapsed,
        r.client,
        r.size,
        r.method,
        r.url,
        r.peer,
        r.mime,
        r.site,
    );
}

fn clf(out: &mut String, r: &Record) {
    let _ = write!(out, "{} - - [", r.client);
    iso_seconds(out, r.ms, "%d/%b/%Y:%H:%M:%S +0000");
    let _ = writeln!(
        out,
        "] \"{} {} HTTP/1.1\" 200 {} \"https://{}/\" \"{USER_AGENT}\"",
        r.method, r.url, r.size, r.site
    );
}

fn nginx_json(out: &mut String, r: &Record) {
    out.push_str("{\"time_iso8601\":\"");
    iso_seconds(out, r.ms, "%Y-%m-%dT%H:%M:%S+00:00");
    let _ = write!(
        out,
        "\",\"msec\":\"{}.{:03}\",\"remote_addr\":\"{}\",\"request_method\":\"{}\",\"scheme\":\"https\",\"host\":",
        r.ms / 1000,
        r.ms % 1000,
        r.client,
        r.method
    );
    json_str(out, r.host);
    out.push_str(",\"request_uri\":");
    json_str(out, r.target);
    let _ = write!(
        out,
        ",\"status\":\"200\",\"body_bytes_sent\":\"{}\",\"request_time\":\"{}.{:03}\",\"http_referer\":\"https://{}/\",\"http_user_agent\":",
        r.size,
        r.elapsed / 1000,
        r.elapsed % 1000,
        r.site
    );
    json_str(out, USER_AGENT);
    out.push_str("}\n");
}

fn zeek(out: &mut String, r: &Record, index: u64) {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut h = (u128::from(mix(index)) << 64) | u128::from(mix(!index));
    let mut uid = String::with_capacity(18);
    uid.push('C');
    for _ in 0..17 {
        uid.push(BASE62[(h % 62) as usize] as char);
        h /= 62;
    }
    let _ = writeln!(
        out,
        "{}.{:03}000\t{uid}\t{}\t{}\t192.0.2.{}\t443\t1\t{}\t{}\t{}\t-\thttps://{}/\t1.1\t{USER_AGENT}\t-\t0\t{}\t200\tOK\t(empty)\t{}",
        r.ms / 1000,
        r.ms % 1000,
        r.client,
        32_768 + mix(index ^ 0x5A5A) % 28_000,
        r.peer,
        r.method,
        r.host,
        r.target,
        r.site,
        r.size,
        r.mime,
    );
}

fn eve(out: &mut String, r: &Record, index: u64) {
    out.push_str("{\"timestamp\":\"");
    iso_seconds(out, r.ms, "%Y-%m-%dT%H:%M:%S");
    let _ = write!(
        out,
        ".{:03}000+0000\",\"flow_id\":{},\"in_iface\":\"ens3\",\"event_type\":\"http\",\"src_ip\":\"{}\",\"src_port\":{},\"dest_ip\":\"192.0.2.{}\",\"dest_port\":443,\"proto\":\"TCP\",\"tx_id\":0,\"http\":{{\"hostname\":",
        r.ms % 1000,
        mix(index) >> 13,
        r.client,
        32_768 + mix(index ^ 0x5A5A) % 28_000,
        r.peer
    );
    json_str(out, r.host);
    out.push_str(",\"url\":");
    json_str(out, r.target);
    out.push_str(",\"http_user_agent\":");
    json_str(out, USER_AGENT);
    let _ = writeln!(
        out,
        ",\"http_content_type\":\"{}\",\"http_refer\":\"https://{}/\",\"http_method\":\"{}\",\"protocol\":\"HTTP/1.1\",\"status\":200,\"length\":{}}}}}",
        r.mime, r.site, r.method, r.size
    );
}

fn ecs(out: &mut String, r: &Record) {
    out.push_str("{\"@timestamp\":\"");
    iso_seconds(out, r.ms, "%Y-%m-%dT%H:%M:%S");
    let _ = write!(
        out,
        ".{:03}Z\",\"event\":{{\"kind\":\"event\",\"category\":[\"network\",\"web\"],\"dataset\":\"proxy.http\",\"duration\":{}}},\"source\":{{\"ip\":\"{}\"}},\"url\":{{\"full\":",
        r.ms % 1000,
        r.elapsed * 1_000_000,
        r.client
    );
    json_str(out, r.url);
    out.push_str("},\"destination\":{\"domain\":");
    json_str(out, r.host);
    let _ = write!(
        out,
        ",\"port\":443,\"ip\":\"192.0.2.{}\"}},\"http\":{{\"request\":{{\"method\":\"{}\",\"referrer\":\"https://{}/\"}},\"response\":{{\"status_code\":200,\"mime_type\":\"{}\",\"body\":{{\"bytes\":{}}}}},\"version\":\"1.1\"}},\"user_agent\":{{\"original\":",
        r.peer, r.method, r.site, r.mime, r.size
    );
    json_str(out, USER_AGENT);
    out.push_str("}}\n");
}
