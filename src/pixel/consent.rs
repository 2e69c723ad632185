//! Consent signals carried on the wire. Only Google sends any (`gcs`, `gcd`); Meta, TikTok,
//! LinkedIn and Snap carry no EU consent state (Meta's `dpo=LDU` is a US-state option).
//!
//! `gcs=G1xy`: x = ad_storage, y = analytics_storage, 1 granted / 0 denied.
//! `gcd=13l3l3l3l1l1`: after a two-character prefix, one letter per signal in the order
//! ad_storage, analytics_storage, ad_user_data, ad_personalization (community
//! reverse-engineering; Google does not document it): `l` not set; `p q m u` denied;
//! `t r n v` granted.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    Granted,
    Denied,
    #[default]
    NotSet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Consent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gcd: Option<String>,
    pub ad_storage: Signal,
    pub analytics_storage: Signal,
    pub ad_user_data: Signal,
    pub ad_personalization: Signal,
}

impl Consent {
    /// Read Google's signals; `None` when the hit carries neither.
    pub fn google(gcs: Option<&str>, gcd: Option<&str>) -> Option<Consent> {
        if gcs.is_none() && gcd.is_none() {
            return None;
        }
        let mut c = Consent {
            gcs: gcs.map(str::to_string),
            gcd: gcd.map(str::to_string),
            ..Consent::default()
        };
        if let Some(gcd) = gcd {
            let letters: Vec<Signal> = gcd
                .chars()
                .skip(2)
                .filter(char::is_ascii_alphabetic)
                .map(letter)
                .collect();
            let at = |i: usize| letters.get(i).copied().unwrap_or_default();
            c.ad_storage = at(0);
            c.analytics_storage = at(1);
            c.ad_user_data = at(2);
            c.ad_personalization = at(3);
        }
        if let Some(gcs) = gcs {
            let b = gcs.as_bytes();
            if b.len() == 4 && b[0] == b'G' {
                c.ad_storage = digit(b[2]).unwrap_or(c.ad_storage);
                c.analytics_storage = digit(b[3]).unwrap_or(c.analytics_storage);
            }
        }
        Some(c)
    }

    /// Whether the visitor refused storage or the use of their data for ads.
    pub fn denied(&self) -> bool {
        [self.ad_storage, self.analytics_storage, self.ad_user_data].contains(&Signal::Denied)
    }

    /// A short value-free description for evidence: `gcs=G100`.
    pub fn evidence(&self) -> String {
        match (&self.gcs, &self.gcd) {
            (Some(s), Some(d)) => format!("gcs={s} gcd={d}"),
            (Some(s), None) => format!("gcs={s}"),
            (None, Some(d)) => format!("gcd={d}"),
            (None, None) => String::new(),
        }
    }
}

fn letter(c: char) -> Signal {
    match c {
        'p' | 'q' | 'm' | 'u' => Signal::Denied,
        't' | 'r' | 'n' | 'v' => Signal::Granted,
        _ => Signal::NotSet,
    }
}

fn digit(b: u8) -> Option<Signal> {
    match b {
        b'1' => Some(Signal::Granted),
        b'0' => Some(Signal::Denied),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcs_and_gcd() {
        let c = Consent::google(Some("G100"), None).unwrap();
        assert_eq!(
            (c.ad_storage, c.analytics_storage),
            (Signal::Denied, Signal::Denied)
        );
        assert!(c.denied());
        assert!(!Consent::google(Some("G111"), None).unwrap().denied());
        let c = Consent::google(None, Some("13l3l3l3l1l1")).unwrap();
        assert_eq!(c.ad_user_data, Signal::NotSet);
        assert!(!c.denied());
        let c = Consent::google(Some("G111"), Some("13t3t3p3p1l1")).unwrap();
        assert_eq!(c.ad_user_data, Signal::Denied);
        assert!(c.denied());
        assert!(Consent::google(None, None).is_none());
    }
}
