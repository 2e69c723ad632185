//! Known-customer matching: a list of the company's own customers' identifiers (plain e-mails,
//! phones, personal numbers, or hashes), hashed in memory the way each vendor normalises before
//! hashing. A hashed identifier in a pixel that matches one is a *confirmed* person.
//!
//! The plaintext list is never stored, logged or written: each line is turned into digests as it
//! is read and dropped.

use super::hashes::{hash_shape, sha256_hex, to_hex};
use super::validate;
use crate::fasthash::HashSet;
use std::io::BufRead;

#[derive(Debug, Default)]
pub struct KnownIdentifiers {
    /// Lower-case hex digests (SHA-256 and MD5) of every vendor's normal form of each identifier.
    digests: HashSet<String>,
    /// Identifiers read (not digests).
    pub people: usize,
    /// Lines that were neither an e-mail, a phone, a personal number nor a hash.
    pub unrecognised: usize,
}

impl KnownIdentifiers {
    pub fn read(reader: impl BufRead) -> std::io::Result<KnownIdentifiers> {
        let mut k = KnownIdentifiers::default();
        for line in reader.lines() {
            let line = line?;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if k.add(t) {
                k.people += 1;
            } else {
                k.unrecognised += 1;
            }
        }
        Ok(k)
    }

    /// Add one identifier; false when it is not recognised.
    pub fn add(&mut self, t: &str) -> bool {
        if let Some(h) = hash_shape(t) {
            self.digests.insert(h.hex);
            return true;
        }
        let forms = normal_forms(t);
        if forms.is_empty() {
            return false;
        }
        for f in forms {
            self.digests.insert(sha256_hex(&f));
            self.digests.insert(md5_hex(&f));
        }
        true
    }

    /// Add a name, address part or date the way Meta normalises them before hashing
    /// (lower-case, and without spaces and punctuation for cities and postal codes).
    pub fn add_text(&mut self, t: &str) {
        let lower = t.trim().to_lowercase();
        if lower.is_empty() {
            return;
        }
        let compact: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
        for f in [lower, compact] {
            self.digests.insert(sha256_hex(&f));
            self.digests.insert(md5_hex(&f));
        }
    }

    /// Everything another list knows, added to this one.
    pub fn merge(&mut self, other: &KnownIdentifiers) {
        self.digests.extend(other.digests.iter().cloned());
        self.people += other.people;
    }

    /// Whether a hex digest (as normalised by `hash_shape`) is one of ours.
    pub fn contains_digest(&self, hex: &str) -> bool {
        self.digests.contains(hex)
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }
}

/// The normal forms vendors hash: Meta trims and lower-cases e-mails and sends phones as digits
/// with country code; Google also drops dots before `@gmail.com` and hashes E.164 with `+`.
pub fn normal_forms(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    if t.contains('@') && validate::email(t) {
        let e = t.trim().to_lowercase();
        if let Some((local, domain)) = e.split_once('@') {
            if domain == "gmail.com" || domain == "googlemail.com" {
                out.push(format!("{}@{domain}", local.replace('.', "")));
            }
        }
        out.push(e);
        return out;
    }
    if let Some(ten) = validate::se_personnummer(t) {
        let d = validate::digits(t);
        let twelve = if d.len() == 12 {
            d.clone()
        } else {
            // Century from the separator rule: `+` means over 100; otherwise the nearest past.
            let yy: u32 = ten[..2].parse().unwrap_or(0);
            let this_year = 26; // two-digit year of the current decade's reckoning
            let century = if t.contains('+') || yy > this_year {
                "19"
            } else {
                "20"
            };
            format!("{century}{ten}")
        };
        out.push(twelve.clone());
        out.push(ten.clone());
        out.push(format!("{}-{}", &ten[..6], &ten[6..]));
        out.push(format!("{}-{}", &twelve[..8], &twelve[8..]));
        // Ten digits can be a number and a phone at once (0701740607 is also a valid
        // coordination number): keep both readings.
    }
    if let Some(digits) = validate::plausible_phone(t) {
        out.push(digits.clone());
        out.push(format!("+{digits}"));
        return out;
    }
    out
}

fn md5_hex(text: &str) -> String {
    use md5::Digest as _;
    to_hex(&md5::Md5::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_is_hashed_with_each_vendors_rules() {
        let k = KnownIdentifiers::read("# customers\nAnna.Svensson@Example.se\n+46 70-123 45 67\nfirst.last@gmail.com\n811218-9876\nnot an identifier\n".as_bytes()).unwrap();
        assert_eq!(k.people, 4);
        assert_eq!(k.unrecognised, 1);
        // Meta: lower-cased e-mail.
        assert!(
            k.contains_digest("7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6")
        );
        // Meta: phone digits with country code.
        assert!(
            k.contains_digest("a7274f98c43038d9c630738ac54c4cd06495600f29d7904131a2474a91d3d042")
        );
        // Google: gmail dots removed.
        assert!(k.contains_digest(&sha256_hex("firstlast@gmail.com")));
        assert!(k.contains_digest(&sha256_hex("198112189876")));
        assert!(!k.contains_digest(&sha256_hex("someone@else.se")));
    }

    #[test]
    fn hash_lists_are_accepted_in_hex_and_base64url() {
        let k = KnownIdentifiers::read("etW8GRcLKWiX2S0pNLzM-ox61N414BMjK1vmR9VXeLY\n".as_bytes())
            .unwrap();
        assert!(
            k.contains_digest("7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6")
        );
    }
}
