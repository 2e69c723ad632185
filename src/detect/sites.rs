//! Sites the user marks as an Art. 9 context: every pixel hit fired from a clinic, a church or a
//! party reveals the category by itself, whatever the payload says.
//!
//! File format, one site per line: `HOST TYPE` (`#` starts a comment). `HOST` matches itself
//! and its subdomains; `TYPE` is a sensitive type (`health`, `sex_life`, `religion`,
//! `political`, `trade_union`, `ethnic_origin`, `genetic`, `biometric`).

use crate::fasthash::HashMap;
use std::sync::Arc;

pub const TYPES: &[&str] = &[
    "health",
    "sex_life",
    "religion",
    "political",
    "trade_union",
    "ethnic_origin",
    "genetic",
    "biometric",
];

#[derive(Debug, Default, Clone)]
pub struct SiteContexts {
    by_host: HashMap<String, Arc<str>>,
}

impl SiteContexts {
    /// Parse a site list; errors name the line.
    pub fn parse(text: &str, source: &str) -> Result<SiteContexts, crate::error::Error> {
        let mut s = SiteContexts::default();
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (Some(host), Some(kind), None) = (parts.next(), parts.next(), parts.next()) else {
                return Err(crate::error::Error::config(format!(
                    "{source}:{}: expected `HOST TYPE`",
                    i + 1
                )));
            };
            if !TYPES.contains(&kind) {
                return Err(crate::error::Error::config(format!(
                    "{source}:{}: type `{kind}` is not one of {}",
                    i + 1,
                    TYPES.join(", ")
                )));
            }
            s.by_host.insert(
                host.trim_start_matches("*.").to_ascii_lowercase(),
                Arc::from(kind),
            );
        }
        Ok(s)
    }

    /// The marked host (the site itself or a parent domain) and its type.
    pub fn lookup(&self, site: &str) -> Option<(&str, &Arc<str>)> {
        if self.by_host.is_empty() {
            return None;
        }
        let mut host = site;
        loop {
            if let Some((k, v)) = self.by_host.get_key_value(host) {
                return Some((k.as_str(), v));
            }
            host = host.split_once('.')?.1;
        }
    }

    pub fn len(&self) -> usize {
        self.by_host.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_host.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_parents() {
        let s = SiteContexts::parse(
            "# list\nklinik.example.se health\nkyrkan.example religion # church\n",
            "sites.txt",
        )
        .unwrap();
        assert_eq!(
            s.lookup("www.klinik.example.se").map(|(_, k)| &**k),
            Some("health")
        );
        assert_eq!(
            s.lookup("kyrkan.example").map(|(h, _)| h),
            Some("kyrkan.example")
        );
        assert!(s.lookup("example.se").is_none());
        let e = SiteContexts::parse("a.example wellness\n", "sites.txt").unwrap_err();
        assert!(e.to_string().contains("sites.txt:1"), "{e}");
    }
}
