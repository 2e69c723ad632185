//! Evidence packs: a directory with the findings, summary, breach windows and report of a run,
//! and a manifest naming the SHA-256 of every input and every output, the tool and rule-pack
//! versions, the command line and the time range — signed with Ed25519 when a key is given.
//! [`verify`] recomputes every hash (and checks the signature) and names what changed.

use crate::detect::hashes::to_hex;
use anyhow::{Context as _, Result};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use std::io::Read;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "manifest.json";
pub const SIGNATURE: &str = "manifest.sig";

/// A file and its digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileDigest {
    /// Inputs: the path as given; outputs: the name inside the pack.
    pub path: String,
    pub bytes: u64,
    /// Lower-case hex; `null` for an input that could not be read again (stdin).
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub schema: String,
    pub tool: String,
    pub tool_version: String,
    pub rule_packs_sha256: String,
    pub command: Vec<String>,
    pub created_at: String,
    /// First and last event time of the findings.
    pub time_range: (String, String),
    pub inputs: Vec<FileDigest>,
    pub outputs: Vec<FileDigest>,
    /// The Ed25519 public key (SPKI PEM) of the signature, when signed.
    pub public_key: Option<String>,
}

/// SHA-256 of a file, streamed.
pub fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        n += k as u64;
        h.update(&buf[..k]);
    }
    Ok((n, to_hex(&h.finalize())))
}

/// An Ed25519 signing key from a PKCS#8 PEM file (`openssl genpkey -algorithm ed25519`).
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the signing key", path.display()))?;
    SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "{}: not an Ed25519 private key in PKCS#8 PEM ({e}); make one with `openssl genpkey -algorithm ed25519 -out key.pem`",
            path.display()
        )
    })
}

/// An Ed25519 public key from an SPKI PEM file (`openssl pkey -in key.pem -pubout`).
pub fn load_public_key(path: &Path) -> Result<VerifyingKey> {
    let pem = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the public key", path.display()))?;
    VerifyingKey::from_public_key_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "{}: not an Ed25519 public key in SPKI PEM ({e}); get it with `openssl pkey -in key.pem -pubout`",
            path.display()
        )
    })
}

/// Write the manifest for the outputs already in `dir` (every file but the manifest and its
/// signature), and sign it when a key is given.
pub fn seal(
    dir: &Path,
    mut manifest: Manifest,
    inputs: &[PathBuf],
    signing_key: Option<&SigningKey>,
) -> Result<Manifest> {
    for p in inputs {
        let d = match sha256_file(p) {
            Ok((bytes, sha)) => FileDigest {
                path: p.display().to_string(),
                bytes,
                sha256: Some(sha),
            },
            Err(_) => FileDigest {
                path: p.display().to_string(),
                bytes: 0,
                sha256: None,
            },
        };
        manifest.inputs.push(d);
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != MANIFEST && n != SIGNATURE)
        .collect();
    names.sort();
    for n in names {
        let (bytes, sha) = sha256_file(&dir.join(&n))?;
        manifest.outputs.push(FileDigest {
            path: n,
            bytes,
            sha256: Some(sha),
        });
    }
    if let Some(key) = signing_key {
        manifest.public_key = Some(
            key.verifying_key()
                .to_public_key_pem(Default::default())
                .map_err(|e| anyhow::anyhow!("cannot encode the public key: {e}"))?,
        );
    }
    let text = serde_json::to_vec_pretty(&manifest)?;
    std::fs::write(dir.join(MANIFEST), &text)?;
    if let Some(key) = signing_key {
        let sig = key.sign(&text);
        std::fs::write(dir.join(SIGNATURE), to_hex(&sig.to_bytes()) + "\n")?;
    }
    Ok(manifest)
}

/// What [`verify`] found.
#[derive(Debug, Default)]
pub struct Verification {
    /// Outputs whose digest still matches.
    pub verified: Vec<String>,
    /// Everything wrong: a changed or missing output, an unexpected file, a bad signature.
    pub problems: Vec<String>,
    /// Inputs whose digest was checked and matches.
    pub inputs_verified: Vec<String>,
    /// Inputs no longer at their path (not a failure: logs rotate away).
    pub inputs_unavailable: Vec<String>,
    /// How the signature stands.
    pub signature: String,
}

impl Verification {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Check an evidence pack: every output's digest, every input still at its path, and the
/// signature (against `public_key` when given, else against the key the manifest carries,
/// which proves integrity but not who signed).
pub fn verify(dir: &Path, public_key: Option<&VerifyingKey>) -> Result<Verification> {
    let mut v = Verification::default();
    let text = std::fs::read(dir.join(MANIFEST))
        .with_context(|| format!("{}: no {MANIFEST}", dir.display()))?;
    let manifest: Manifest = serde_json::from_slice(&text).with_context(|| {
        format!(
            "{}: {MANIFEST} is not a pixelwarden manifest",
            dir.display()
        )
    })?;
    for o in &manifest.outputs {
        match sha256_file(&dir.join(&o.path)) {
            Ok((bytes, sha)) if Some(&sha) == o.sha256.as_ref() && bytes == o.bytes => {
                v.verified.push(o.path.clone())
            }
            Ok((bytes, _)) => v.problems.push(format!(
                "{} changed (SHA-256 differs; {} bytes, manifest says {})",
                o.path, bytes, o.bytes
            )),
            Err(_) => v.problems.push(format!("{} is missing", o.path)),
        }
    }
    let listed: std::collections::BTreeSet<&str> =
        manifest.outputs.iter().map(|o| o.path.as_str()).collect();
    for e in std::fs::read_dir(dir)?.filter_map(|e| e.ok()) {
        let n = e.file_name().to_string_lossy().into_owned();
        if n != MANIFEST && n != SIGNATURE && !listed.contains(n.as_str()) {
            v.problems.push(format!("{n} is not in the manifest"));
        }
    }
    for i in &manifest.inputs {
        let Some(want) = &i.sha256 else {
            v.inputs_unavailable
                .push(format!("{} (not hashed: stdin)", i.path));
            continue;
        };
        match sha256_file(Path::new(&i.path)) {
            Ok((_, sha)) if sha == *want => v.inputs_verified.push(i.path.clone()),
            Ok(_) => v
                .problems
                .push(format!("input {} changed since the pack was made", i.path)),
            Err(_) => v.inputs_unavailable.push(i.path.clone()),
        }
    }
    let sig = std::fs::read_to_string(dir.join(SIGNATURE)).ok();
    let key = match (public_key, &manifest.public_key) {
        (Some(k), _) => Some((*k, "the given public key")),
        (None, Some(pem)) => VerifyingKey::from_public_key_pem(pem).ok().map(|k| {
            (
                k,
                "the key in the manifest (give --public-key to check who signed)",
            )
        }),
        (None, None) => None,
    };
    v.signature = match (sig, key) {
        (None, None) => "not signed".into(),
        (None, Some(_)) => {
            v.problems.push(format!("{SIGNATURE} is missing"));
            "missing".into()
        }
        (Some(_), None) => {
            v.problems
                .push("signed, but no public key to check it against".into());
            "unchecked".into()
        }
        (Some(hex), Some((k, what))) => {
            let ok = decode_hex(hex.trim())
                .and_then(|b| <[u8; 64]>::try_from(b.as_slice()).ok())
                .map(|b| Signature::from_bytes(&b))
                .is_some_and(|s| k.verify(&text, &s).is_ok());
            if let (Some(given), Some(pem)) = (public_key, &manifest.public_key) {
                if VerifyingKey::from_public_key_pem(pem).ok().as_ref() != Some(given) {
                    v.problems
                        .push("the manifest names another public key than the one given".into());
                }
            }
            if ok {
                format!("valid Ed25519 signature, checked against {what}")
            } else {
                v.problems.push(format!(
                    "the signature does not match {MANIFEST} (checked against {what})"
                ));
                "INVALID".into()
            }
        }
    };
    Ok(v)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn pack(dir: &Path, signed: bool) -> Manifest {
        std::fs::write(dir.join("findings.jsonl"), "{\"a\":1}\n").unwrap();
        std::fs::write(dir.join("report.html"), "<html></html>").unwrap();
        let m = Manifest {
            schema: "pixelwarden.evidence/v1".into(),
            tool: "pixelwarden".into(),
            tool_version: "0".into(),
            rule_packs_sha256: "x".into(),
            command: vec!["pixelwarden".into()],
            created_at: "now".into(),
            time_range: ("a".into(), "b".into()),
            inputs: vec![],
            outputs: vec![],
            public_key: None,
        };
        let k = key();
        seal(dir, m, &[], signed.then_some(&k)).unwrap()
    }

    #[test]
    fn an_untouched_pack_verifies_with_its_signature() {
        let dir = tempfile::tempdir().unwrap();
        pack(dir.path(), true);
        let v = verify(dir.path(), Some(&key().verifying_key())).unwrap();
        assert!(v.ok(), "{:?}", v.problems);
        assert_eq!(v.verified.len(), 2);
        assert!(v.signature.starts_with("valid"));
    }

    #[test]
    fn one_changed_byte_and_a_bad_signature_are_named() {
        let dir = tempfile::tempdir().unwrap();
        pack(dir.path(), true);
        let f = dir.path().join("findings.jsonl");
        let mut b = std::fs::read(&f).unwrap();
        b[2] ^= 1;
        std::fs::write(&f, b).unwrap();
        let v = verify(dir.path(), None).unwrap();
        assert!(!v.ok());
        assert!(
            v.problems
                .iter()
                .any(|p| p.starts_with("findings.jsonl changed")),
            "{:?}",
            v.problems
        );
        // The manifest itself altered: the signature no longer matches.
        let m = dir.path().join(MANIFEST);
        let t = std::fs::read_to_string(&m)
            .unwrap()
            .replace("\"now\"", "\"then\"");
        std::fs::write(&m, t).unwrap();
        let v = verify(dir.path(), Some(&key().verifying_key())).unwrap();
        assert!(
            v.problems
                .iter()
                .any(|p| p.contains("signature does not match")),
            "{:?}",
            v.problems
        );
        // Another key.
        let other = SigningKey::from_bytes(&[9u8; 32]).verifying_key();
        let v = verify(dir.path(), Some(&other)).unwrap();
        assert!(!v.ok());
    }
}
