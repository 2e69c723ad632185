//! Consent banners: which button of a cookie banner accepts and which rejects, from the
//! consent packs (`detectors/consent/`): per platform, CSS selectors (used inside the page by
//! the probe's banner script); for unknown platforms, button texts per language. Pure: the
//! text classifier here is also what `rules test` runs over the packs' examples.

use crate::error::Error;
use crate::fasthash::HashSet;
use crate::rules::{ConsentPlatformSpec, PackSpec};
use serde::Serialize;

/// What a button does to consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    Accept,
    Reject,
}

impl Choice {
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Accept => "accept",
            Choice::Reject => "reject",
        }
    }
}

/// The compiled consent packs.
#[derive(Debug, Clone, Default)]
pub struct Banners {
    pub platforms: Vec<ConsentPlatformSpec>,
    accept: HashSet<String>,
    reject: HashSet<String>,
    /// Generic texts ("OK", "Neka") trusted only inside something that looks like a banner.
    weak_accept: HashSet<String>,
    weak_reject: HashSet<String>,
}

impl Banners {
    pub fn compile(packs: &[PackSpec]) -> Result<Banners, Error> {
        let mut b = Banners::default();
        let mut ids = HashSet::default();
        for pack in packs {
            for p in &pack.platforms {
                if !ids.insert(p.id.clone()) {
                    return Err(Error::rules(format!(
                        "{}: platform `{}` is defined twice",
                        pack.source, p.id
                    )));
                }
                if p.detect.is_empty() {
                    return Err(Error::rules(format!(
                        "{}: platform `{}` has no `detect` selectors",
                        pack.source, p.id
                    )));
                }
                b.platforms.push(p.clone());
            }
            for t in &pack.texts {
                b.accept.extend(t.accept.iter().map(|x| normalise(x)));
                b.reject.extend(t.reject.iter().map(|x| normalise(x)));
                b.weak_accept.extend(t.weak.iter().map(|x| normalise(x)));
                b.weak_reject
                    .extend(t.weak_reject.iter().map(|x| normalise(x)));
            }
        }
        if let Some(both) = b.accept.iter().find(|t| b.reject.contains(*t)) {
            return Err(Error::rules(format!(
                "consent texts: `{both}` is both an accept and a reject text"
            )));
        }
        Ok(b)
    }

    /// What a button with this visible text (or aria-label) does, matching the whole text.
    /// `in_banner`: the button sits in an element that reads like a cookie banner, so the weak
    /// texts count too.
    pub fn classify(&self, text: &str, in_banner: bool) -> Option<Choice> {
        let t = normalise(text);
        if t.is_empty() {
            return None;
        }
        if self.reject.contains(&t) || (in_banner && self.weak_reject.contains(&t)) {
            return Some(Choice::Reject);
        }
        if self.accept.contains(&t) || (in_banner && self.weak_accept.contains(&t)) {
            return Some(Choice::Accept);
        }
        None
    }

    /// The texts as the in-page banner script takes them.
    pub fn texts_json(&self) -> serde_json::Value {
        fn sorted(s: &HashSet<String>) -> Vec<&String> {
            let mut v: Vec<&String> = s.iter().collect();
            v.sort();
            v
        }
        serde_json::json!({
            "accept": sorted(&self.accept),
            "reject": sorted(&self.reject),
            "weak_accept": sorted(&self.weak_accept),
            "weak_reject": sorted(&self.weak_reject),
        })
    }
}

/// Trim, collapse whitespace, case-fold, `’` → `'`, and drop decoration around the words
/// (arrows, `×`, trailing punctuation) — the same steps the in-page script takes.
pub fn normalise(text: &str) -> String {
    let t: String = text
        .chars()
        .map(|c| if c == '’' { '\'' } else { c })
        .collect::<String>()
        .to_lowercase();
    let words: Vec<&str> = t.split_whitespace().collect();
    words
        .join(" ")
        .trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != ')')
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_texts_decide_and_weak_ones_only_inside_a_banner() {
        let pack = crate::rules::parse(
            r##"
[pack]
id = "consent"
[[platforms]]
id = "onetrust"
name = "OneTrust"
detect = ["#onetrust-banner-sdk"]
accept = ["#onetrust-accept-btn-handler"]
reject = ["#onetrust-reject-all-handler"]
[[texts]]
lang = "sv"
accept = ["Acceptera alla"]
reject = ["Avvisa alla"]
weak = ["OK"]
weak_reject = ["Neka"]
"##,
            "c.toml",
        )
        .unwrap();
        let b = Banners::compile(&[pack]).unwrap();
        assert_eq!(
            b.classify("  Acceptera\n alla ›", false),
            Some(Choice::Accept)
        );
        assert_eq!(b.classify("AVVISA ALLA", false), Some(Choice::Reject));
        assert_eq!(b.classify("Avvisa alla utom nödvändiga", false), None);
        assert_eq!(b.classify("OK", false), None);
        assert_eq!(b.classify("OK", true), Some(Choice::Accept));
        assert_eq!(b.classify("Neka", true), Some(Choice::Reject));
        assert_eq!(b.platforms.len(), 1);
    }
}
