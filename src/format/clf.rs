//! Common and combined log formats (Apache, nginx, Squid `common`/`combined`), optionally with a
//! leading virtual host (`vhost client ident user [time] "request" ...`).
//!
//! Forward proxies log absolute-form targets (`GET https://host/path?q HTTP/1.1`); servers log
//! origin-form targets, whose host comes from the vhost prefix when present.

use super::{read_quoted, Parsed};
use crate::error::{Skip, SkipReason};
use crate::request::{parse_clf_time, Request};

pub fn looks_like(line: &str) -> bool {
    let Some(open) = line.find(" [") else {
        return false;
    };
    let prefix_tokens = line[..open].split_ascii_whitespace().count();
    (3..=4).contains(&prefix_tokens)
        && line[open..]
            .find("] \"")
            .is_some_and(|close| parse_clf_time(&line[open + 2..open + close]).is_some())
}

pub fn parse(line: &str) -> Result<Parsed, Skip> {
    let open = line
        .find(" [")
        .ok_or_else(|| Skip::new(SkipReason::BadFields, "clf: no [time] field"))?;
    let prefix: Vec<&str> = line[..open].split_ascii_whitespace().collect();
    let vhost = match prefix.len() {
        3 => None,
        4 => Some(prefix[0]),
        n => {
            return Err(Skip::new(
                SkipReason::BadFields,
                format!("clf: {n} fields before [time], need 3 or 4"),
            ))
        }
    };
    let after_open = &line[open + 2..];
    let close = after_open
        .find(']')
        .ok_or_else(|| Skip::new(SkipReason::BadFields, "clf: unterminated [time]"))?;
    let ts = parse_clf_time(&after_open[..close]).ok_or_else(|| {
        Skip::new(
            SkipReason::BadTimestamp,
            "clf: [time] is not dd/Mon/yyyy:HH:MM:SS +zzzz",
        )
    })?;
    let rest = after_open[close + 1..].trim_start();
    let (request_line, rest) = read_quoted(rest)
        .ok_or_else(|| Skip::new(SkipReason::BadFields, "clf: request line is not quoted"))?;
    let mut parts = request_line.split(' ').filter(|p| !p.is_empty());
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Err(Skip::new(
            SkipReason::BadFields,
            "clf: request line has no method and target",
        ));
    };
    if method.eq_ignore_ascii_case("CONNECT") {
        return Ok(Parsed::Ignored);
    }
    if !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Skip::new(
            SkipReason::BadFields,
            "clf: request line does not start with a method",
        ));
    }
    let mut req = Request {
        ts: Some(ts),
        method: method.to_ascii_uppercase(),
        ..Request::default()
    };
    if !req.set_url(target) {
        return Err(Skip::new(
            SkipReason::BadUrl,
            "clf: target is neither absolute nor origin-form",
        ));
    }
    if let Some(vhost) = vhost {
        req.set_host_if_empty(vhost);
    }
    // status and size, then the optional combined fields.
    let mut rest = rest.trim_start();
    for _ in 0..2 {
        let end = rest.find(' ').unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    if let Some((referer, _)) = read_quoted(rest) {
        if referer != "-" && !referer.is_empty() {
            req.referer = Some(referer);
        }
    }
    Ok(Parsed::Request(Box::new(req)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(line: &str) -> Request {
        match parse(line).unwrap() {
            Parsed::Request(r) => *r,
            Parsed::Ignored => panic!("ignored"),
        }
    }

    #[test]
    fn forward_proxy_absolute_form() {
        let r = req(
            r#"10.0.0.7 - alice [04/Mar/2024:09:00:00 +0100] "GET https://www.facebook.com/tr/?id=1&ev=Lead HTTP/1.1" 200 44 "https://apotek.example.se/klamydiatest" "Mozilla/5.0""#,
        );
        assert_eq!(r.host, "www.facebook.com");
        assert_eq!(
            r.referer.as_deref(),
            Some("https://apotek.example.se/klamydiatest")
        );
        assert_eq!(r.ts.unwrap().to_rfc3339(), "2024-03-04T08:00:00+00:00");
    }

    #[test]
    fn vhost_origin_form() {
        let r = req(
            r#"sgtm.example.se 10.0.0.5 - - [04/Mar/2024:09:00:00 +0100] "GET /g/collect?v=2&tid=G-1 HTTP/1.1" 204 0 "-" "ua""#,
        );
        assert_eq!(r.host, "sgtm.example.se");
        assert_eq!(r.path(), "/g/collect");
        assert!(r.scheme.is_none());
        assert!(r.referer.is_none());
    }

    #[test]
    fn common_format_without_combined_fields() {
        let r = req(
            r#"10.0.0.1 - - [04/Mar/2024:09:00:00 +0000] "POST http://example.com/x HTTP/1.0" 200 5 TCP_MISS:HIER_DIRECT"#,
        );
        assert_eq!(r.method, "POST");
        assert!(r.referer.is_none());
    }

    #[test]
    fn malformed_lines_are_counted() {
        assert_eq!(
            parse("no brackets here").unwrap_err().reason,
            SkipReason::BadFields
        );
        assert_eq!(
            parse(r#"1 - - [yesterday] "GET / HTTP/1.1" 200 1"#)
                .unwrap_err()
                .reason,
            SkipReason::BadTimestamp
        );
        assert_eq!(
            parse(r#"1 - - [04/Mar/2024:09:00:00 +0000] "\x16\x03\x01" 400 0"#)
                .unwrap_err()
                .reason,
            SkipReason::BadFields
        );
    }
}
