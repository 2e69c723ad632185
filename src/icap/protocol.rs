//! ICAP/1.0 (RFC 3507) messages: the parts pixelwarden reads (OPTIONS and REQMOD requests with
//! their encapsulated HTTP request and chunked body, previews and `ieof`) and the answers it
//! writes. Pure and incremental: a parser takes the bytes received so far and says what it
//! needs next, so the server stays a thin loop and the fuzz target drives the same code.

use crate::request::Request;

/// Largest ICAP head plus encapsulated HTTP head accepted.
pub const MAX_HEAD_BYTES: usize = 64 << 10;

/// An ICAP request head.
#[derive(Debug, Clone, PartialEq)]
pub struct IcapHead {
    pub method: Method,
    /// The service path of the ICAP URI (`/pixelwarden`).
    pub service: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    /// `Encapsulated` sections in order, with their offsets.
    pub encapsulated: Vec<(Section, usize)>,
    /// `Preview: n`, when the client sends a preview.
    pub preview: Option<usize>,
    /// `Allow: 204`: the client accepts "no modification" outside a preview.
    pub allow_204: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Options,
    Reqmod,
    Respmod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    ReqHdr,
    ReqBody,
    ResHdr,
    ResBody,
    NullBody,
    OptBody,
}

/// Why a message is refused (answered with an ICAP error, then the connection is closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    /// ICAP status to answer with (400, 405, 413, 501, 505).
    pub status: u16,
    pub reason: &'static str,
}

fn bad(reason: &'static str) -> ProtocolError {
    ProtocolError {
        status: 400,
        reason,
    }
}

/// Where the end of a head (`\r\n\r\n`) is, if it has arrived.
pub fn head_end(buf: &[u8]) -> Option<usize> {
    memchr::memmem::find(buf, b"\r\n\r\n").map(|i| i + 4)
}

/// Parse an ICAP head (through its empty line).
pub fn parse_head(head: &[u8]) -> Result<IcapHead, ProtocolError> {
    let text = std::str::from_utf8(head).map_err(|_| bad("ICAP head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let (m, uri, version) = (parts.next(), parts.next(), parts.next());
    if parts.next().is_some() {
        return Err(bad("malformed ICAP request line"));
    }
    let (Some(m), Some(uri), Some(version)) = (m, uri, version) else {
        return Err(bad("malformed ICAP request line"));
    };
    if version != "ICAP/1.0" {
        return Err(ProtocolError {
            status: 505,
            reason: "ICAP version not supported",
        });
    }
    let method = match m {
        "OPTIONS" => Method::Options,
        "REQMOD" => Method::Reqmod,
        "RESPMOD" => Method::Respmod,
        _ => {
            return Err(ProtocolError {
                status: 501,
                reason: "method not implemented",
            })
        }
    };
    let service = uri
        .strip_prefix("icap://")
        .and_then(|r| r.find('/').map(|i| &r[i..]))
        .ok_or(bad("ICAP URI is not icap://host/service"))?;
    let service = service.split('?').next().unwrap_or(service).to_string();
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once(':').ok_or(bad("malformed ICAP header"))?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        if headers.len() > 100 {
            return Err(bad("too many ICAP headers"));
        }
    }
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut encapsulated = Vec::new();
    if let Some(e) = get("encapsulated") {
        for part in e.split(',') {
            let (k, v) = part
                .trim()
                .split_once('=')
                .ok_or(bad("malformed Encapsulated"))?;
            let section = match k.trim() {
                "req-hdr" => Section::ReqHdr,
                "req-body" => Section::ReqBody,
                "res-hdr" => Section::ResHdr,
                "res-body" => Section::ResBody,
                "null-body" => Section::NullBody,
                "opt-body" => Section::OptBody,
                _ => return Err(bad("unknown Encapsulated section")),
            };
            let offset: usize = v
                .trim()
                .parse()
                .map_err(|_| bad("Encapsulated offset is not a number"))?;
            if encapsulated.last().is_some_and(|(_, o)| *o > offset) {
                return Err(bad("Encapsulated offsets out of order"));
            }
            encapsulated.push((section, offset));
        }
    } else if method != Method::Options {
        return Err(bad("REQMOD without Encapsulated"));
    }
    let preview = match get("preview") {
        Some(p) => Some(p.parse().map_err(|_| bad("Preview is not a number"))?),
        None => None,
    };
    let allow_204 = get("allow").is_some_and(|a| a.split(',').any(|x| x.trim() == "204"));
    Ok(IcapHead {
        method,
        service,
        headers,
        encapsulated,
        preview,
        allow_204,
    })
}

impl IcapHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Length of the encapsulated HTTP head (before the body or null-body offset).
    pub fn http_head_len(&self) -> Result<usize, ProtocolError> {
        match self.encapsulated.as_slice() {
            [(Section::ReqHdr, 0), (_, end)] => Ok(*end),
            [(Section::NullBody, 0)] | [(Section::ReqBody, 0)] => Ok(0),
            [(Section::ReqHdr, _), ..] => Err(bad("req-hdr must start at offset 0")),
            _ => Err(bad("REQMOD needs req-hdr then req-body or null-body")),
        }
    }

    /// Whether a body follows the HTTP head.
    pub fn has_body(&self) -> bool {
        self.encapsulated
            .iter()
            .any(|(s, _)| matches!(s, Section::ReqBody))
    }
}

/// The encapsulated HTTP request head as a [`Request`] (absolute-form or origin-form with
/// Host), its raw lines kept for rebuilding a modified request.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpHead {
    pub method: String,
    /// The request target as sent (absolute-form from a proxy, or origin-form).
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
}

pub fn parse_http_head(head: &[u8]) -> Result<HttpHead, ProtocolError> {
    let text = std::str::from_utf8(head).map_err(|_| bad("HTTP head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed HTTP request line"));
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-') {
        return Err(bad("malformed HTTP method"));
    }
    if !version.starts_with("HTTP/") {
        return Err(bad("malformed HTTP version"));
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once(':').ok_or(bad("malformed HTTP header"))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
        if headers.len() > 200 {
            return Err(bad("too many HTTP headers"));
        }
    }
    Ok(HttpHead {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
    })
}

impl HttpHead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The request as the engine sees it.
    pub fn to_request(&self, body: Option<&[u8]>) -> Request {
        let mut req = Request {
            method: self.method.clone(),
            ..Request::default()
        };
        let absolute = self.target.starts_with("http://") || self.target.starts_with("https://");
        if absolute {
            req.set_url(&self.target);
        } else if let Some(host) = self.header("host") {
            // Origin-form behind a TLS-decrypting proxy: the Host names the server, HTTPS.
            let scheme = if self.target.starts_with('/') {
                "https"
            } else {
                "http"
            };
            req.set_url(&format!("{scheme}://{host}{}", self.target));
        }
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("referer") {
                req.referer = Some(v.clone());
            } else if k.eq_ignore_ascii_case("content-type") {
                req.content_type = Some(v.clone());
            } else {
                req.add_header(k, v);
            }
        }
        req.body = body.filter(|b| !b.is_empty()).map(<[u8]>::to_vec);
        req
    }

    /// The head written back, with a new target and a fixed Content-Length.
    pub fn render(&self, target: &str, body_len: Option<usize>) -> Vec<u8> {
        let mut out = format!("{} {} {}\r\n", self.method, target, self.version).into_bytes();
        for (k, v) in &self.headers {
            if k.eq_ignore_ascii_case("content-length")
                || k.eq_ignore_ascii_case("transfer-encoding")
            {
                continue;
            }
            out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
        }
        if let Some(n) = body_len {
            out.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// One step of reading a chunked body.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk {
    /// Not enough bytes yet.
    Incomplete,
    /// `len` data bytes at `data` in the buffer; `used` bytes consumed in all.
    Data {
        data: std::ops::Range<usize>,
        used: usize,
    },
    /// The last chunk (`0`), with `ieof` when the preview was the whole body.
    End { used: usize, ieof: bool },
}

/// Read one chunk from the start of `buf`.
pub fn next_chunk(buf: &[u8]) -> Result<Chunk, ProtocolError> {
    let Some(eol) = memchr::memmem::find(buf, b"\r\n") else {
        if buf.len() > 1024 {
            return Err(bad("chunk size line too long"));
        }
        return Ok(Chunk::Incomplete);
    };
    let line = std::str::from_utf8(&buf[..eol]).map_err(|_| bad("chunk size is not text"))?;
    let (size, ext) = match line.split_once(';') {
        Some((s, e)) => (s.trim(), e.trim()),
        None => (line.trim(), ""),
    };
    if size.is_empty() || size.len() > 15 {
        return Err(bad("malformed chunk size"));
    }
    let len = usize::from_str_radix(size, 16).map_err(|_| bad("malformed chunk size"))?;
    if len == 0 {
        // The last chunk: `0[; ieof]\r\n` then the (empty) trailer's `\r\n`.
        let rest = &buf[eol + 2..];
        let Some(end) = memchr::memmem::find(rest, b"\r\n") else {
            return Ok(Chunk::Incomplete);
        };
        return Ok(Chunk::End {
            used: eol + 2 + end + 2,
            ieof: ext.split(';').any(|e| e.trim() == "ieof"),
        });
    }
    let start = eol + 2;
    let end = start.checked_add(len).ok_or(bad("chunk too large"))?;
    if buf.len() < end + 2 {
        return Ok(Chunk::Incomplete);
    }
    if &buf[end..end + 2] != b"\r\n" {
        return Err(bad("chunk data not followed by CRLF"));
    }
    Ok(Chunk::Data {
        data: start..end,
        used: end + 2,
    })
}

/// Data as one chunk plus the last chunk.
pub fn chunked(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    if !data.is_empty() {
        out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// The OPTIONS answer.
pub fn options_response(istag: &str, max_connections: usize, preview: usize) -> Vec<u8> {
    format!(
        "ICAP/1.0 200 OK\r\nMethods: REQMOD\r\nService: pixelwarden {}\r\nISTag: \"{istag}\"\r\nMax-Connections: {max_connections}\r\nOptions-TTL: 3600\r\nAllow: 204\r\nPreview: {preview}\r\nTransfer-Preview: *\r\nEncapsulated: null-body=0\r\n\r\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

pub fn no_content(istag: &str) -> Vec<u8> {
    format!("ICAP/1.0 204 No Content\r\nISTag: \"{istag}\"\r\nEncapsulated: null-body=0\r\n\r\n")
        .into_bytes()
}

pub fn continue_100() -> &'static [u8] {
    b"ICAP/1.0 100 Continue\r\n\r\n"
}

pub fn error_response(e: &ProtocolError, istag: &str) -> Vec<u8> {
    let text = match e.status {
        400 => "Bad Request",
        404 => "ICAP Service Not Found",
        405 => "Method Not Allowed",
        413 => "Request Entity Too Large",
        501 => "Method Not Implemented",
        503 => "Service Overloaded",
        505 => "ICAP Version Not Supported",
        _ => "Server Error",
    };
    format!(
        "ICAP/1.0 {} {text}\r\nISTag: \"{istag}\"\r\nEncapsulated: null-body=0\r\nConnection: close\r\nX-Pixelwarden-Reason: {}\r\n\r\n",
        e.status, e.reason
    )
    .into_bytes()
}

/// A modified request: the rebuilt HTTP head and body.
pub fn modified_request(istag: &str, http_head: &[u8], body: Option<&[u8]>) -> Vec<u8> {
    let mut out = match body {
        Some(_) => format!(
            "ICAP/1.0 200 OK\r\nISTag: \"{istag}\"\r\nEncapsulated: req-hdr=0, req-body={}\r\n\r\n",
            http_head.len()
        ),
        None => format!(
            "ICAP/1.0 200 OK\r\nISTag: \"{istag}\"\r\nEncapsulated: req-hdr=0, null-body={}\r\n\r\n",
            http_head.len()
        ),
    }
    .into_bytes();
    out.extend_from_slice(http_head);
    if let Some(b) = body {
        out.extend_from_slice(&chunked(b));
    }
    out
}

/// The request answered with a short 403 page naming pixelwarden.
pub fn blocked_response(istag: &str, why: &str) -> Vec<u8> {
    let body = format!(
        "<!doctype html><title>Blocked by pixelwarden</title><h1>Blocked by pixelwarden</h1><p>This request to a tracking service carried personal data ({}) and was not sent.</p>\n",
        why.replace(['<', '>', '&'], "")
    );
    let head = format!(
        "HTTP/1.1 403 Forbidden\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Pixelwarden: blocked\r\n\r\n",
        body.len()
    );
    let mut out = format!(
        "ICAP/1.0 200 OK\r\nISTag: \"{istag}\"\r\nEncapsulated: res-hdr=0, res-body={}\r\n\r\n",
        head.len()
    )
    .into_bytes();
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&chunked(body.as_bytes()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const REQ: &str = "REQMOD icap://127.0.0.1:1344/pixelwarden ICAP/1.0\r\nHost: 127.0.0.1\r\nX-Client-IP: 10.0.0.5\r\nAllow: 204\r\nPreview: 0\r\nEncapsulated: req-hdr=0, req-body=137\r\n\r\n";

    #[test]
    fn reqmod_head_and_encapsulated_http() {
        let h = parse_head(REQ.as_bytes()).unwrap();
        assert_eq!(h.method, Method::Reqmod);
        assert_eq!(h.service, "/pixelwarden");
        assert_eq!(h.preview, Some(0));
        assert!(h.allow_204 && h.has_body());
        assert_eq!(h.http_head_len().unwrap(), 137);
        assert_eq!(h.header("x-client-ip"), Some("10.0.0.5"));
        let http = parse_http_head(b"POST http://www.facebook.com/tr/ HTTP/1.1\r\nHost: www.facebook.com\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\n").unwrap();
        let req = http.to_request(Some(b"id=1&ev=Le"));
        assert_eq!(
            (req.host.as_str(), req.path()),
            ("www.facebook.com", "/tr/")
        );
        assert_eq!(
            req.content_type.as_deref(),
            Some("application/x-www-form-urlencoded")
        );
        let origin =
            parse_http_head(b"GET /tr/?id=1 HTTP/1.1\r\nHost: www.facebook.com\r\n\r\n").unwrap();
        assert_eq!(origin.to_request(None).target, "/tr/?id=1");
        let rebuilt = http.render("http://www.facebook.com/tr/", Some(3));
        assert!(String::from_utf8(rebuilt)
            .unwrap()
            .contains("Content-Length: 3\r\n"));
    }

    #[test]
    fn chunks_previews_and_ieof() {
        assert_eq!(next_chunk(b"5\r\nhel").unwrap(), Chunk::Incomplete);
        assert_eq!(
            next_chunk(b"5\r\nhello\r\n0\r\n\r\n").unwrap(),
            Chunk::Data {
                data: 3..8,
                used: 10
            }
        );
        assert_eq!(
            next_chunk(b"0\r\n\r\n").unwrap(),
            Chunk::End {
                used: 5,
                ieof: false
            }
        );
        assert_eq!(
            next_chunk(b"0; ieof\r\n\r\n").unwrap(),
            Chunk::End {
                used: 11,
                ieof: true
            }
        );
        assert!(next_chunk(b"zz\r\n").is_err());
        assert!(next_chunk(b"5\r\nhelloXX").is_err());
        assert!(next_chunk(b"fffffffffffffffff\r\n").is_err());
        assert_eq!(chunked(b"abc"), b"3\r\nabc\r\n0\r\n\r\n");
    }

    #[test]
    fn malformed_heads_are_refused_with_a_status() {
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\n\r\n").unwrap_err().status,
            505
        );
        assert_eq!(
            parse_head(b"FOO icap://a/s ICAP/1.0\r\n\r\n")
                .unwrap_err()
                .status,
            501
        );
        assert_eq!(
            parse_head(b"REQMOD icap://a/s ICAP/1.0\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            parse_head(
                b"REQMOD icap://a/s ICAP/1.0\r\nEncapsulated: req-hdr=10, req-body=5\r\n\r\n"
            )
            .unwrap_err()
            .status,
            400
        );
        let h = parse_head(
            b"REQMOD icap://a/s ICAP/1.0\r\nEncapsulated: req-hdr=5, req-body=9\r\n\r\n",
        )
        .unwrap();
        assert!(h.http_head_len().is_err());
    }
}
