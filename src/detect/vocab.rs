//! Art. 9 vocabularies: one Aho-Corasick automaton per pack over normalised text, with
//! word / prefix / compound boundaries and exclusions (see `detectors/vocab/FORMAT.md`).

use crate::error::Error;
use crate::fasthash::HashSet;
use crate::rules::PackSpec;
use aho_corasick::{AhoCorasick, MatchKind};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Word,
    Prefix,
    Compound,
}

#[derive(Debug, Clone)]
pub struct Vocab {
    pub id: Arc<str>,
    pub class: Arc<str>,
    pub kind: Arc<str>,
    pub severity: Option<String>,
    terms: AhoCorasick,
    modes: Vec<Mode>,
    term_text: Vec<String>,
    exclude_tokens: HashSet<String>,
    exclude_phrases: Option<AhoCorasick>,
    pub term_count: usize,
}

/// A vocabulary hit: the term and the whole token(s) it stood in.
#[derive(Debug, Clone, PartialEq)]
pub struct VocabMatch {
    pub term: String,
    pub tokens: String,
}

/// Lower-case; every run of non-alphanumeric characters becomes one space; padded with spaces.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    let mut space = true;
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            space = false;
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if !space {
        out.push(' ');
    }
    out
}

impl Vocab {
    pub fn compile(pack: &PackSpec) -> Result<Vocab, Error> {
        let ctx = |msg: String| {
            Error::rules(format!(
                "{}: vocabulary `{}`: {msg}",
                pack.source, pack.pack.id
            ))
        };
        let class = pack
            .pack
            .class
            .clone()
            .ok_or_else(|| ctx("[pack] needs class".into()))?;
        let kind = pack
            .pack
            .kind
            .clone()
            .ok_or_else(|| ctx("[pack] needs type".into()))?;
        let mut patterns = Vec::new();
        let mut modes = Vec::new();
        for group in &pack.terms {
            let mode = match group.mode.as_str() {
                "word" => Mode::Word,
                "prefix" => Mode::Prefix,
                "compound" => Mode::Compound,
                other => {
                    return Err(ctx(format!(
                        "match `{other}` is not word, prefix or compound"
                    )))
                }
            };
            for term in &group.list {
                let norm = normalize(term).trim().to_string();
                if norm.is_empty() {
                    return Err(ctx(format!("term `{term}` has no letters or digits")));
                }
                if mode == Mode::Compound && norm.chars().count() < 5 {
                    return Err(ctx(format!(
                        "compound term `{term}` is shorter than 5 characters"
                    )));
                }
                patterns.push(norm);
                modes.push(mode);
            }
        }
        if patterns.is_empty() {
            return Err(ctx("no terms".into()));
        }
        let terms = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| ctx(format!("terms do not compile: {e}")))?;
        let phrases: Vec<String> = pack
            .pack
            .exclude_phrases
            .iter()
            .map(|p| normalize(p).trim().to_string())
            .filter(|p| !p.is_empty())
            .collect();
        let exclude_phrases = if phrases.is_empty() {
            None
        } else {
            Some(
                AhoCorasick::new(&phrases)
                    .map_err(|e| ctx(format!("exclude_phrases do not compile: {e}")))?,
            )
        };
        Ok(Vocab {
            id: Arc::from(pack.pack.id.as_str()),
            class: Arc::from(class.as_str()),
            kind: Arc::from(kind.as_str()),
            severity: pack.pack.severity.clone(),
            term_count: patterns.len(),
            terms,
            modes,
            term_text: patterns,
            exclude_tokens: pack
                .pack
                .exclude_tokens
                .iter()
                .map(|t| normalize(t).trim().to_string())
                .collect(),
            exclude_phrases,
        })
    }

    /// The first acceptable match in the text, if any.
    pub fn find(&self, text: &str) -> Option<VocabMatch> {
        let norm = normalize(text);
        self.find_normalized(&norm)
    }

    pub fn find_normalized(&self, norm: &str) -> Option<VocabMatch> {
        let mut excluded = None;
        self.terms.find_overlapping_iter(norm).find_map(|m| {
            self.accept(
                norm,
                m.pattern().as_usize(),
                m.start(),
                m.end(),
                &mut excluded,
            )
        })
    }

    /// Whether a match of term `term` at `s..e` of a normalised text counts: its mode's
    /// boundaries hold and no excluded token or phrase covers it. `excluded` caches the
    /// excluded phrases' spans for the text.
    fn accept(
        &self,
        norm: &str,
        term: usize,
        s: usize,
        e: usize,
        excluded: &mut Option<Vec<(usize, usize)>>,
    ) -> Option<VocabMatch> {
        let b = norm.as_bytes();
        let before = s == 0 || b[s - 1] == b' ';
        let after = e >= b.len() || b[e] == b' ';
        let ok = match self.modes[term] {
            Mode::Word => before && after,
            Mode::Prefix => before,
            Mode::Compound => true,
        };
        if !ok {
            return None;
        }
        let tok_start = norm[..s].rfind(' ').map_or(0, |i| i + 1);
        let tok_end = norm[e..].find(' ').map_or(norm.len(), |i| e + i);
        let tokens = &norm[tok_start..tok_end];
        if tokens.split(' ').any(|t| self.exclude_tokens.contains(t)) {
            return None;
        }
        if let Some(phrases) = &self.exclude_phrases {
            let spans = excluded.get_or_insert_with(|| {
                phrases
                    .find_overlapping_iter(norm)
                    .map(|p| (p.start(), p.end()))
                    .collect()
            });
            if spans.iter().any(|&(ps, pe)| ps <= s && e <= pe) {
                return None;
            }
        }
        Some(VocabMatch {
            term: self.term_text[term].clone(),
            tokens: tokens.to_string(),
        })
    }
}

/// The terms of every vocabulary in one automaton: one pass over a text finds each
/// vocabulary's first accepted match, the same match [`Vocab::find_normalized`] returns.
/// (Overlapping matches come out by end position, and among those ending together longest
/// first, so each vocabulary's matches keep the order its own automaton gives them.)
#[derive(Debug, Clone)]
pub struct VocabIndex {
    all: AhoCorasick,
    /// `(vocabulary, term)` per pattern of `all`.
    owner: Vec<(usize, usize)>,
}

impl VocabIndex {
    pub fn new(vocabs: &[Vocab]) -> Result<VocabIndex, Error> {
        let mut patterns = Vec::new();
        let mut owner = Vec::new();
        for (vi, v) in vocabs.iter().enumerate() {
            for (ti, t) in v.term_text.iter().enumerate() {
                patterns.push(t.as_str());
                owner.push((vi, ti));
            }
        }
        let all = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| Error::rules(format!("vocabulary terms do not compile together: {e}")))?;
        Ok(VocabIndex { all, owner })
    }

    /// The first accepted match of each vocabulary in a normalised text, in vocabulary order.
    pub fn find_each(&self, vocabs: &[Vocab], norm: &str) -> Vec<(usize, VocabMatch)> {
        let mut found: Vec<(usize, VocabMatch)> = Vec::new();
        let mut excluded: Vec<Option<Vec<(usize, usize)>>> = Vec::new();
        for m in self.all.find_overlapping_iter(norm) {
            let (vi, ti) = self.owner[m.pattern().as_usize()];
            if found.iter().any(|(v, _)| *v == vi) {
                continue;
            }
            if excluded.len() <= vi {
                excluded.resize(vi + 1, None);
            }
            if let Some(x) = vocabs[vi].accept(norm, ti, m.start(), m.end(), &mut excluded[vi]) {
                found.push((vi, x));
                if found.len() == vocabs.len() {
                    break;
                }
            }
        }
        found.sort_by_key(|(v, _)| *v);
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(toml_text: &str) -> Vocab {
        Vocab::compile(&crate::rules::parse(toml_text, "test").unwrap()).unwrap()
    }

    const PACK: &str = r#"
[pack]
id = "vocab-test"
class = "sensitive"
type = "health"
exclude_tokens = ["sextio"]
exclude_phrases = ["tandkräm sensitive"]
[[terms]]
lang = "sv"
match = "compound"
list = ["klamydia", "graviditet", "sensitive"]
[[terms]]
lang = "en"
match = "word"
list = ["hiv", "morning-after pill"]
[[terms]]
lang = "sv"
match = "prefix"
list = ["diabet", "sex"]
"#;

    #[test]
    fn modes_and_exclusions() {
        let v = vocab(PACK);
        assert_eq!(
            v.find("/produkt/Klamydiatest-hemma").unwrap().tokens,
            "klamydiatest"
        );
        assert!(v.find("Graviditetstest 2-pack").is_some());
        assert!(v.find("about-hiv").is_some());
        assert!(v.find("archive").is_none(), "word mode needs boundaries");
        assert!(v.find("Diabetiker").is_some());
        assert!(
            v.find("prediabetes").is_none(),
            "prefix mode needs a start boundary"
        );
        assert!(v.find("the Morning After pill").is_some());
        assert!(v.find("sextio kronor").is_none(), "excluded token");
        assert!(
            v.find("Tandkräm Sensitive 75 ml").is_none(),
            "excluded phrase"
        );
        assert!(v.find("sensitive skin").is_some());
    }

    #[test]
    fn short_compound_terms_are_refused() {
        let bad = PACK.replace("\"klamydia\", ", "\"hiv\", ");
        let e = Vocab::compile(&crate::rules::parse(&bad, "x.toml").unwrap()).unwrap_err();
        assert!(e.to_string().contains("shorter than 5"), "{e}");
    }
}
