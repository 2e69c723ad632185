//! Consent signals carried on the wire. In browser hits only Google sends any (`gcs`, `gcd`);
//! Meta, TikTok, LinkedIn and Snap carry no EU consent state (Meta's `dpo=LDU` is a US-state
//! option). Conversion APIs may carry it in the payload (GA4 Measurement Protocol `consent`,
//! Google Ads API `consent.adUserData`): those fields are named per endpoint in the packs
//! (`consent_fields`) and read by [`Consent::read_field`].
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
    /// Payload consent fields read, as `path=VALUE` (the values are enumerations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Events whose own consent field (inside an events array) says denied, with that field.
    #[serde(skip)]
    pub denied_events: Vec<(u16, String)>,
    /// The request-level payload field that said denied, if one did.
    #[serde(skip)]
    pub denied_by: Option<String>,
}

/// Which signal a payload field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalKind {
    AdStorage,
    AnalyticsStorage,
    AdUserData,
    AdPersonalization,
}

impl std::str::FromStr for SignalKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "ad_storage" => SignalKind::AdStorage,
            "analytics_storage" => SignalKind::AnalyticsStorage,
            "ad_user_data" => SignalKind::AdUserData,
            "ad_personalization" => SignalKind::AdPersonalization,
            other => {
                return Err(format!(
                    "consent signal `{other}` is not ad_storage, analytics_storage, ad_user_data or ad_personalization"
                ))
            }
        })
    }
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

    /// Record one payload consent field. `in_event`: the field lies inside an events array
    /// and speaks for that event only; otherwise for the whole request. Values that are
    /// neither denied nor granted (`UNSPECIFIED`) change nothing.
    pub fn read_field(
        &mut self,
        path: &str,
        value: &str,
        kind: SignalKind,
        signal: Signal,
        in_event: Option<u16>,
    ) {
        if signal == Signal::NotSet {
            return;
        }
        let shown = format!("{path}={}", value.trim());
        if !self.fields.contains(&shown) {
            self.fields.push(shown.clone());
        }
        match in_event {
            Some(e) => {
                if signal == Signal::Denied && kind != SignalKind::AdPersonalization {
                    self.denied_events.push((e, shown));
                }
            }
            None => {
                let slot = match kind {
                    SignalKind::AdStorage => &mut self.ad_storage,
                    SignalKind::AnalyticsStorage => &mut self.analytics_storage,
                    SignalKind::AdUserData => &mut self.ad_user_data,
                    SignalKind::AdPersonalization => &mut self.ad_personalization,
                };
                // Denied wins over granted when a request says both.
                if *slot != Signal::Denied {
                    *slot = signal;
                }
                if signal == Signal::Denied
                    && kind != SignalKind::AdPersonalization
                    && self.denied_by.is_none()
                {
                    self.denied_by = Some(path.to_string());
                }
            }
        }
    }

    /// Whether the visitor refused storage or the use of their data for ads, for the whole
    /// request.
    pub fn denied(&self) -> bool {
        [self.ad_storage, self.analytics_storage, self.ad_user_data].contains(&Signal::Denied)
    }

    /// Whether identity in `event` was sent against a refusal: the request's or the event's own.
    pub fn denied_for(&self, event: u16) -> bool {
        self.denied() || self.denied_events.iter().any(|(e, _)| *e == event)
    }

    /// The field that says so and a short value-free description, for `event`: `gcs` and
    /// `gcs=G100`, or `consent.ad_user_data` and `consent.ad_user_data=DENIED`.
    pub fn denial(&self, event: u16) -> (String, String) {
        if let Some((_, shown)) = self.denied_events.iter().find(|(e, _)| *e == event) {
            if !self.denied() {
                let path = shown.split('=').next().unwrap_or("consent").to_string();
                return (path, shown.clone());
            }
        }
        let field = match (&self.denied_by, &self.gcs, &self.gcd) {
            (Some(path), _, _) => path.clone(),
            (None, Some(_), _) => "gcs".to_string(),
            (None, None, Some(_)) => "gcd".to_string(),
            (None, None, None) => "consent".to_string(),
        };
        (field, self.evidence())
    }

    /// A short value-free description for evidence: `gcs=G100`, or the payload fields read.
    pub fn evidence(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = &self.gcs {
            parts.push(format!("gcs={s}"));
        }
        if let Some(d) = &self.gcd {
            parts.push(format!("gcd={d}"));
        }
        parts.extend(self.fields.iter().cloned());
        parts.join(" ")
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

    #[test]
    fn payload_fields_per_request_and_per_event() {
        let mut c = Consent::default();
        c.read_field(
            "consent.ad_user_data",
            "DENIED",
            SignalKind::AdUserData,
            Signal::Denied,
            None,
        );
        assert!(c.denied() && c.denied_for(3));
        assert_eq!(
            c.denial(0),
            (
                "consent.ad_user_data".into(),
                "consent.ad_user_data=DENIED".into()
            )
        );

        let mut c = Consent::default();
        c.read_field(
            "conversions[1].consent.adUserData",
            "DENIED",
            SignalKind::AdUserData,
            Signal::Denied,
            Some(1),
        );
        c.read_field(
            "conversions[0].consent.adUserData",
            "GRANTED",
            SignalKind::AdUserData,
            Signal::Granted,
            Some(0),
        );
        assert!(!c.denied());
        assert!(c.denied_for(1) && !c.denied_for(0));
        assert_eq!(c.denial(1).0, "conversions[1].consent.adUserData");
        // Personalisation refused alone is not a refusal to share the data.
        let mut c = Consent::default();
        c.read_field(
            "consent.ad_personalization",
            "DENIED",
            SignalKind::AdPersonalization,
            Signal::Denied,
            None,
        );
        assert!(!c.denied());
    }
}
