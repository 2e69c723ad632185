//! Hash shapes found in identity fields, and values that are not a person (placeholders).

use crate::fasthash::HashSet;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A value shaped like a digest, normalised to lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashValue {
    pub algorithm: &'static str,
    pub hex: String,
}

/// Recognise 64-hex (SHA-256), 32-hex (MD5), 40-hex (SHA-1), Snap's `FFF` + 64-hex and
/// 43-character unpadded base64url SHA-256 (Google user-provided data).
pub fn hash_shape(value: &str) -> Option<HashValue> {
    let v = value.trim();
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    match v.len() {
        64 if hex(v) => Some(HashValue {
            algorithm: "sha256",
            hex: v.to_ascii_lowercase(),
        }),
        67 if v.starts_with("FFF") && hex(&v[3..]) => Some(HashValue {
            algorithm: "sha256",
            hex: v[3..].to_ascii_lowercase(),
        }),
        40 if hex(v) => Some(HashValue {
            algorithm: "sha1",
            hex: v.to_ascii_lowercase(),
        }),
        32 if hex(v) => Some(HashValue {
            algorithm: "md5",
            hex: v.to_ascii_lowercase(),
        }),
        43 | 44
            if v.bytes().all(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'+' | b'/' | b'=')
            }) =>
        {
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(v.trim_end_matches('='))
                .or_else(|_| {
                    base64::engine::general_purpose::STANDARD_NO_PAD.decode(v.trim_end_matches('='))
                })
                .ok()?;
            (bytes.len() == 32).then(|| HashValue {
                algorithm: "sha256",
                hex: to_hex(&bytes),
            })
        }
        _ => None,
    }
}

pub fn to_hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    push_hex(bytes, &mut text);
    text
}

/// Lower-case hex of `bytes`, appended to `out`.
pub fn push_hex(bytes: &[u8], out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 15) as usize] as char);
    }
}

pub fn sha256_hex(text: &str) -> String {
    to_hex(&Sha256::digest(text.as_bytes()))
}

/// Plain values and digests that stand for "no person".
#[derive(Debug, Default, Clone)]
pub struct Placeholders {
    plain: HashSet<String>,
    hashes: HashSet<String>,
}

impl Placeholders {
    pub fn add_plain(&mut self, plain: &str) {
        let p = plain.trim().to_lowercase();
        for variant in [p.clone(), plain.to_string()] {
            self.hashes.insert(sha256_hex(&variant));
            self.hashes.insert(to_hex(&md5_digest(variant.as_bytes())));
        }
        self.plain.insert(p);
    }

    pub fn add_hash(&mut self, hash: &str) {
        if let Some(h) = hash_shape(hash) {
            self.hashes.insert(h.hex);
        } else {
            self.hashes.insert(hash.trim().to_ascii_lowercase());
        }
    }

    pub fn is_plain(&self, value: &str) -> bool {
        self.plain.contains(&value.trim().to_lowercase())
    }

    pub fn is_hash(&self, hash: &HashValue) -> bool {
        self.hashes.contains(&hash.hex)
    }

    pub fn len(&self) -> usize {
        self.plain.len()
    }

    pub fn is_empty(&self) -> bool {
        self.plain.is_empty() && self.hashes.is_empty()
    }
}

/// MD5, for recognising MD5 placeholders only (never for anything that needs a secure hash).
fn md5_digest(data: &[u8]) -> [u8; 16] {
    use md5::Digest as _;
    md5::Md5::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let sha = "7ad5bc19170b296897d92d2934bcccfa8c7ad4de35e013232b5be647d55778b6";
        assert_eq!(hash_shape(sha).unwrap().algorithm, "sha256");
        assert_eq!(hash_shape(&format!("FFF{sha}")).unwrap().hex, sha);
        assert_eq!(
            hash_shape("etW8GRcLKWiX2S0pNLzM-ox61N414BMjK1vmR9VXeLY")
                .unwrap()
                .hex,
            sha
        );
        assert_eq!(
            hash_shape("f2d25833d060fc7a233f0d4dc46702ef")
                .unwrap()
                .algorithm,
            "md5"
        );
        assert!(hash_shape("anna").is_none());
        assert!(hash_shape("Graviditetstest och klamydiatest hemma nu!!").is_none());
    }

    #[test]
    fn placeholders_cover_sha256_md5_and_base64url() {
        let mut p = Placeholders::default();
        p.add_plain("undefined");
        p.add_plain("");
        assert!(p.is_hash(
            &hash_shape("eb045d78d273107348b0300c01d29b7552d622abbc6faf81b3ec55359aa9950c")
                .unwrap()
        ));
        assert!(p.is_hash(&hash_shape("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU").unwrap()));
        assert!(
            p.is_hash(&hash_shape("5e543256c480ac577d30f76f9120eb74").unwrap()),
            "md5(undefined)"
        );
        assert!(p.is_plain("Undefined"));
    }
}
