//! Squid native `access.log`:
//! `%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %>ru %[un %Sh/%<a %mt` plus optional quoted extras
//! (`"%{Referer}>h" "%{User-Agent}>h"`). Fields are separated by runs of spaces.

use super::{read_quoted, Parsed};
use crate::error::{Skip, SkipReason};
use crate::request::{parse_epoch, Request};

pub fn looks_like(line: &str) -> bool {
    let mut it = line.split_ascii_whitespace();
    let (Some(ts), Some(elapsed), Some(_client), Some(code)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return false;
    };
    ts.contains('.')
        && ts.parse::<f64>().is_ok()
        && elapsed.bytes().all(|b| b.is_ascii_digit() || b == b'-')
        && code.contains('/')
}

pub fn parse(line: &str) -> Result<Parsed, Skip> {
    // The first ten fields never contain spaces; quoted extras may.
    let mut fields = [""; 10];
    let mut n = 0;
    let mut rest = line.trim_start();
    while n < 10 && !rest.is_empty() && !rest.starts_with('"') {
        let end = memchr::memchr2(b' ', b'\t', rest.as_bytes()).unwrap_or(rest.len());
        fields[n] = &rest[..end];
        n += 1;
        rest = rest[end..].trim_start();
    }
    if n < 7 {
        return Err(Skip::new(
            SkipReason::BadFields,
            format!("squid: {n} fields, need at least 7"),
        ));
    }
    let ts = parse_epoch(fields[0]).ok_or_else(|| {
        Skip::new(
            SkipReason::BadTimestamp,
            "squid: first field is not an epoch time",
        )
    })?;
    let method = fields[5];
    if method.eq_ignore_ascii_case("CONNECT") {
        return Ok(Parsed::Ignored);
    }
    let mut req = Request {
        ts: Some(ts),
        method: method.to_ascii_uppercase(),
        ..Request::default()
    };
    if !req.set_url(fields[6]) || req.host.is_empty() {
        return Err(Skip::new(
            SkipReason::BadUrl,
            "squid: URL field is not an absolute URL",
        ));
    }
    // Optional quoted extras: the first one is the Referer in the recommended logformat.
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
    fn native_line_with_padding_and_extras() {
        let r = req(
            r#"1709539200.123     45 10.0.0.1 TCP_MISS/200 512 GET https://www.facebook.com/tr/?id=1&ev=PageView - HIER_DIRECT/157.240.1.35 image/gif "https://shop.example.se/" "Mozilla/5.0 (X11)""#,
        );
        assert_eq!(r.host, "www.facebook.com");
        assert_eq!(r.query(), Some("id=1&ev=PageView"));
        assert_eq!(r.referer.as_deref(), Some("https://shop.example.se/"));
        assert_eq!(r.ts.unwrap().timestamp(), 1709539200);
    }

    #[test]
    fn connect_is_ignored_and_garbage_is_counted() {
        assert!(matches!(
            parse("1564655684.277   3387 192.168.0.1 TCP_TUNNEL/200 19131 CONNECT example.org:443 - HIER_DIRECT/example.org -"),
            Ok(Parsed::Ignored)
        ));
        assert_eq!(parse("garbage").unwrap_err().reason, SkipReason::BadFields);
        assert_eq!(
            parse("notatime 1 2 3 4 GET http://a/ - x -")
                .unwrap_err()
                .reason,
            SkipReason::BadTimestamp
        );
        assert_eq!(
            parse("1.0 1 2 3 4 GET /relative - x -").unwrap_err().reason,
            SkipReason::BadUrl
        );
    }
}
