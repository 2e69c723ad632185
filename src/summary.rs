//! The end-of-scan summary: per site × vendor × class, how many findings, first and last seen
//! (event time) and how many distinct fingerprints (roughly, distinct people).

use crate::detect::Class;
use crate::fasthash::{HashMap, HashSet};
use crate::redact::FindingRecord;
use serde::Serialize;
use std::fmt::Write as _;

/// Distinct fingerprints kept per group; past this the count is reported as a lower bound.
pub const MAX_DISTINCT: usize = 100_000;

#[derive(Debug, Default, Clone, Serialize)]
pub struct Group {
    pub count: u64,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub distinct: usize,
    /// True when more distinct fingerprints were seen than [`MAX_DISTINCT`].
    pub distinct_capped: bool,
    #[serde(skip)]
    fingerprints: HashSet<u64>,
    /// Distinct fingerprints of confirmed customers (`--known-identifiers`).
    pub confirmed: usize,
    #[serde(skip)]
    confirmed_fingerprints: HashSet<u64>,
}

#[derive(Debug, Default)]
pub struct Summary {
    groups: Grouped<(String, String, Class), Group>,
}

/// Groups under a key of several strings, found without allocating: the key's parts joined
/// (by U+001F) in a reused buffer index the entries, and the key itself is only built for a
/// new group. [`Grouped::sorted`] gives them in key order.
#[derive(Debug)]
pub struct Grouped<K, V> {
    index: HashMap<Box<str>, usize>,
    entries: Vec<(K, V)>,
    joined: String,
}

impl<K, V> Default for Grouped<K, V> {
    fn default() -> Self {
        Grouped {
            index: HashMap::default(),
            entries: Vec::new(),
            joined: String::new(),
        }
    }
}

impl<K: Ord, V: Default> Grouped<K, V> {
    /// The group whose joined key `join` writes; `key` builds its key when it is new.
    pub fn entry(&mut self, join: impl FnOnce(&mut String), key: impl FnOnce() -> K) -> &mut V {
        self.joined.clear();
        join(&mut self.joined);
        let i = match self.index.get(self.joined.as_str()) {
            Some(&i) => i,
            None => {
                self.entries.push((key(), V::default()));
                self.index
                    .insert(self.joined.as_str().into(), self.entries.len() - 1);
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// Every group, in key order.
    pub fn sorted(&self) -> Vec<(&K, &V)> {
        let mut all: Vec<(&K, &V)> = self.entries.iter().map(|(k, v)| (k, v)).collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        all
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Summary {
    pub fn add(&mut self, r: &FindingRecord) {
        let site = r.site.as_deref().unwrap_or("unknown");
        let g = self.groups.entry(
            |j| {
                for part in [site, "\u{1f}", &r.vendor, "\u{1f}", r.class.as_str()] {
                    j.push_str(part);
                }
            },
            || (site.to_string(), r.vendor.to_string(), r.class),
        );
        g.count += 1;
        if let Some(ts) = &r.ts {
            if g.first_seen.as_ref().is_none_or(|f| ts < f) {
                g.first_seen = Some(ts.clone());
            }
            if g.last_seen.as_ref().is_none_or(|l| ts > l) {
                g.last_seen = Some(ts.clone());
            }
        }
        // Fingerprints are already keyed hashes; 64 bits of them are plenty to count.
        let fp = u64::from_str_radix(r.fingerprint.trim_start_matches("hm1:"), 16).unwrap_or(0);
        if g.fingerprints.len() < MAX_DISTINCT {
            g.fingerprints.insert(fp);
        } else if !g.fingerprints.contains(&fp) {
            g.distinct_capped = true;
        }
        g.distinct = g.fingerprints.len();
        if r.confirmed && g.confirmed_fingerprints.len() < MAX_DISTINCT {
            g.confirmed_fingerprints.insert(fp);
            g.confirmed = g.confirmed_fingerprints.len();
        }
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .groups
            .sorted()
            .into_iter()
            .map(|((site, vendor, class), g)| {
                serde_json::json!({"site": site, "vendor": vendor, "class": class, "count": g.count,
                  "first_seen": g.first_seen, "last_seen": g.last_seen, "distinct_fingerprints": g.distinct,
                  "distinct_capped": g.distinct_capped, "confirmed_people": g.confirmed})
            })
            .collect();
        serde_json::Value::Array(rows)
    }

    /// A plain-text table for people.
    pub fn render(&self) -> String {
        let mut rows: Vec<_> = self.groups.sorted();
        rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(b.0)));
        let mut out = String::new();
        let header = [
            "site",
            "vendor",
            "class",
            "count",
            "distinct",
            "confirmed",
            "first seen",
            "last seen",
        ];
        let cells: Vec<[String; 8]> = rows
            .iter()
            .map(|((site, vendor, class), g)| {
                [
                    site.clone(),
                    vendor.clone(),
                    class.to_string(),
                    g.count.to_string(),
                    format!("{}{}", if g.distinct_capped { "≥" } else { "" }, g.distinct),
                    if g.confirmed > 0 {
                        g.confirmed.to_string()
                    } else {
                        "-".into()
                    },
                    g.first_seen.clone().unwrap_or_else(|| "-".into()),
                    g.last_seen.clone().unwrap_or_else(|| "-".into()),
                ]
            })
            .collect();
        let mut width = header.map(|h| h.chars().count());
        for row in &cells {
            for (w, c) in width.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |row: &[String], out: &mut String| {
            for (i, (c, w)) in row.iter().zip(width).enumerate() {
                let pad = w - c.chars().count();
                if (3..=5).contains(&i) {
                    let _ = write!(out, "{}{}  ", " ".repeat(pad), c);
                } else {
                    let _ = write!(out, "{}{}  ", c, " ".repeat(pad));
                }
            }
            let trimmed = out.trim_end().len();
            out.truncate(trimmed);
            out.push('\n');
        };
        line(&header.map(String::from), &mut out);
        for row in &cells {
            line(row, &mut out);
        }
        out
    }
}
