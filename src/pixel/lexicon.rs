//! The identity lexicon: what sites call the custom fields that carry a person's identity
//! (`cd[fornamn]`, `ep.telefon`, `custom_data.kunde.Vorname`), in many languages, compiled from
//! the `[[names]]` of lexicon packs (`detectors/lexicon/`).
//!
//! A field's last key segment (numeric segments skipped) is normalised — lowercased, diacritics
//! folded, `_ - .` and spaces removed — and looked up for equality, so `firstName`,
//! `first_name` and `FIRST-NAME` are one name, while `content_name` or `product_name` never
//! equal `name`. Names too generic for a payload (`name`, `city`) are `form` names: they count
//! only inside a container named for a person or an address (`customer.name`, `billing.city`),
//! and they guide the probe when it fills web forms. Nothing inside a product container
//! (`contents[]`, `items[]`, `pr1`) is a person.

use crate::error::Error;
use crate::fasthash::{HashMap, HashSet};
use crate::rules::PackSpec;

/// The identity a name stands for; finer than a finding type, so that forms can be filled and
/// plaintext values checked by what they should look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LexKind {
    Email,
    Phone,
    FirstName,
    LastName,
    FullName,
    Street,
    PostalCode,
    City,
    DateOfBirth,
    Gender,
    NationalId,
    CustomerNumber,
    IpAddress,
}

impl LexKind {
    pub const ALL: [LexKind; 13] = [
        LexKind::Email,
        LexKind::Phone,
        LexKind::FirstName,
        LexKind::LastName,
        LexKind::FullName,
        LexKind::Street,
        LexKind::PostalCode,
        LexKind::City,
        LexKind::DateOfBirth,
        LexKind::Gender,
        LexKind::NationalId,
        LexKind::CustomerNumber,
        LexKind::IpAddress,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LexKind::Email => "email",
            LexKind::Phone => "phone",
            LexKind::FirstName => "first_name",
            LexKind::LastName => "last_name",
            LexKind::FullName => "full_name",
            LexKind::Street => "street",
            LexKind::PostalCode => "postal_code",
            LexKind::City => "city",
            LexKind::DateOfBirth => "date_of_birth",
            LexKind::Gender => "gender",
            LexKind::NationalId => "national_id",
            LexKind::CustomerNumber => "customer_number",
            LexKind::IpAddress => "ip_address",
        }
    }

    pub fn parse(s: &str) -> Option<LexKind> {
        LexKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The identity kind of findings (`docs/findings.md`).
    pub fn identity_kind(self) -> &'static str {
        match self {
            LexKind::Email => "email",
            LexKind::Phone => "phone",
            LexKind::FirstName | LexKind::LastName | LexKind::FullName => "name",
            LexKind::Street | LexKind::PostalCode | LexKind::City => "postal_address",
            LexKind::DateOfBirth => "date_of_birth",
            LexKind::Gender => "gender",
            LexKind::NationalId => "national_id",
            LexKind::CustomerNumber => "external_id",
            LexKind::IpAddress => "ip_address",
        }
    }
}

/// The compiled lexicon.
#[derive(Debug, Clone, Default)]
pub struct Lexicon {
    fields: HashMap<String, LexKind>,
    form: HashMap<String, LexKind>,
    autocomplete: HashMap<String, LexKind>,
    /// Segments naming a person or an address: a `form` name right inside one is a field.
    containers: HashSet<String>,
    /// Segments naming products: nothing inside one is a person's identity.
    products: HashSet<String>,
    /// The pack id, reported as the detector of lexicon findings.
    pub detector: String,
}

/// Containers of a person or an address, and of products, whatever the pack says: these are
/// structure, not vocabulary, and a pack cannot remove them.
const PERSON_CONTAINERS: &[&str] = &[
    "customer",
    "kunde",
    "kund",
    "kunder",
    "asiakas",
    "user",
    "benutzer",
    "kayttaja",
    "anvandare",
    "bruker",
    "billing",
    "shipping",
    "delivery",
    "address",
    "adresse",
    "adress",
    "osoite",
    "anschrift",
    "contact",
    "kontakt",
    "buyer",
    "recipient",
    "member",
    "medlem",
    "profile",
    "person",
    "traits",
    "userdata",
    "customerdata",
    "billingaddress",
    "shippingaddress",
    "leveransadress",
    "faktureringsadress",
    "lieferadresse",
    "rechnungsadresse",
];
const PRODUCT_CONTAINERS: &[&str] = &[
    "contents",
    "content",
    "items",
    "item",
    "lineitems",
    "products",
    "product",
    "pr",
    "il",
    "cart",
    "basket",
    "order_items",
    "orderitems",
    "produkter",
    "artikel",
    "artikler",
    "tuotteet",
];

impl Lexicon {
    /// Compile every lexicon pack's names; `None` when no pack has any.
    pub fn compile(packs: &[PackSpec]) -> Result<Option<Lexicon>, Error> {
        let mut lex = Lexicon {
            containers: PERSON_CONTAINERS.iter().map(|s| normalise(s)).collect(),
            products: PRODUCT_CONTAINERS.iter().map(|s| normalise(s)).collect(),
            ..Lexicon::default()
        };
        let mut any = false;
        for pack in packs {
            let ctx = |msg: String| {
                Error::rules(format!("{}: pack `{}`: {msg}", pack.source, pack.pack.id))
            };
            for n in &pack.names {
                any = true;
                if lex.detector.is_empty() {
                    lex.detector = pack.pack.id.clone();
                }
                let kind = LexKind::parse(&n.kind).ok_or_else(|| {
                    ctx(format!(
                        "names: kind `{}` is not one of {}",
                        n.kind,
                        kinds()
                    ))
                })?;
                let map = match n.usage.as_str() {
                    "field" => &mut lex.fields,
                    "form" => &mut lex.form,
                    other => {
                        return Err(ctx(format!(
                            "names ({}): use `{other}` is not field or form",
                            n.kind
                        )))
                    }
                };
                for word in &n.list {
                    let key = normalise(word);
                    if key.is_empty() {
                        return Err(ctx(format!(
                            "names ({}): `{word}` is empty once normalised",
                            n.kind
                        )));
                    }
                    if let Some(old) = map.insert(key.clone(), kind) {
                        if old != kind {
                            return Err(ctx(format!(
                                "names: `{word}` is both {} and {}",
                                old.as_str(),
                                kind.as_str()
                            )));
                        }
                    }
                }
            }
            for a in &pack.autocomplete {
                let kind = LexKind::parse(&a.kind).ok_or_else(|| {
                    ctx(format!(
                        "autocomplete: kind `{}` is not one of {}",
                        a.kind,
                        kinds()
                    ))
                })?;
                for t in &a.tokens {
                    lex.autocomplete.insert(t.to_ascii_lowercase(), kind);
                }
            }
        }
        if let Some(word) = lex.fields.keys().find(|k| lex.form.contains_key(*k)) {
            return Err(Error::rules(format!(
                "lexicon: `{word}` is both a field and a form name"
            )));
        }
        Ok(any.then_some(lex))
    }

    /// The identity a decoded field path carries by its name, if any.
    pub fn field_kind(&self, path: &str) -> Option<LexKind> {
        let mut last: Option<&str> = None;
        let mut parent: Option<&str> = None;
        for seg in segments(path) {
            parent = last;
            last = Some(seg);
        }
        let name = normalise(last?);
        if segments(path).any(|s| self.products.contains(&normalise(strip_digits(s)))) {
            return None;
        }
        if let Some(kind) = self.fields.get(&name) {
            return Some(*kind);
        }
        let kind = self.form.get(&name)?;
        parent
            .is_some_and(|p| self.containers.contains(&normalise(p)))
            .then_some(*kind)
    }

    /// The identity a form input asks for, from its `autocomplete` token, then its name, id,
    /// placeholder and label texts (field names first, then form names).
    pub fn form_kind<'a>(
        &self,
        autocomplete: Option<&str>,
        texts: impl IntoIterator<Item = &'a str>,
    ) -> Option<LexKind> {
        if let Some(ac) = autocomplete {
            // `autocomplete="shipping email"`: the last token is the field.
            if let Some(k) = ac
                .split_whitespace()
                .rev()
                .find_map(|t| self.autocomplete.get(&t.to_ascii_lowercase()))
            {
                return Some(*k);
            }
        }
        let texts: Vec<&str> = texts.into_iter().collect();
        let lookup = |key: &str| self.fields.get(key).or_else(|| self.form.get(key)).copied();
        for t in &texts {
            if let Some(k) = lookup(&normalise(t)) {
                return Some(k);
            }
        }
        // Labels are phrases ("E-postadress *", "Ditt förnamn", "First name"): try their
        // words, and each pair of neighbouring words.
        for t in &texts {
            let words: Vec<String> = t
                .split(|c: char| !c.is_alphanumeric() && c != '-')
                .map(normalise)
                .filter(|w| w.chars().count() > 1)
                .collect();
            for pair in words.windows(2) {
                if let Some(k) = lookup(&format!("{}{}", pair[0], pair[1])) {
                    return Some(k);
                }
            }
            if let Some(k) = words.iter().find_map(|w| lookup(w)) {
                return Some(k);
            }
        }
        None
    }

    pub fn len(&self) -> usize {
        self.fields.len() + self.form.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn kinds() -> String {
    LexKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Key segments of a field path (`cd[kunde][telefon][0]`, `ep.förnamn`, `dl?email`), numeric
/// ones (array indexes) left out.
fn segments(path: &str) -> impl Iterator<Item = &str> {
    path.split(['.', '[', ']', '?'])
        .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
}

fn strip_digits(s: &str) -> &str {
    s.trim_end_matches(|c: char| c.is_ascii_digit())
}

/// Lowercase, fold diacritics, drop `_ - .` and whitespace: one key for every spelling of a
/// field name. Word separators inside labels (`:`, `*`, `/`) are kept as spaces-free breaks.
pub fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '_' | '-' | '.' | '\u{a0}' => {}
            c if c.is_whitespace() => {}
            c => {
                for l in c.to_lowercase() {
                    fold(l, &mut out);
                }
            }
        }
    }
    out
}

fn fold(c: char, out: &mut String) {
    let s = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' => "i",
        'ł' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ő' => "o",
        'œ' => "oe",
        'ř' => "r",
        'ś' | 'š' => "s",
        'ß' => "ss",
        'ť' => "t",
        'þ' => "th",
        'ù' | 'ú' | 'û' | 'ü' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        c => {
            out.push(c);
            return;
        }
    };
    out.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        let pack = crate::rules::parse(
            r#"
[pack]
id = "lex"
[[names]]
kind = "first_name"
lang = "sv"
list = ["förnamn", "first name"]
[[names]]
kind = "phone"
lang = "sv"
list = ["telefon"]
[[names]]
kind = "full_name"
lang = "en"
use = "form"
list = ["name", "namn"]
[[autocomplete]]
kind = "first_name"
tokens = ["given-name"]
"#,
            "lex.toml",
        )
        .unwrap();
        Lexicon::compile(&[pack]).unwrap().unwrap()
    }

    #[test]
    fn names_match_by_their_last_segment_in_any_spelling() {
        let l = lexicon();
        for path in [
            "cd[fornamn]",
            "ep.Förnamn",
            "custom_data.kunde.FIRST_NAME",
            "properties.firstName",
            "dl?first-name",
        ] {
            assert_eq!(l.field_kind(path), Some(LexKind::FirstName), "{path}");
        }
        assert_eq!(l.field_kind("cd[telefon][0]"), Some(LexKind::Phone));
        assert_eq!(l.field_kind("cd[content_name]"), None);
        assert_eq!(l.field_kind("cd[telefonnummer_typ]"), None);
    }

    #[test]
    fn form_names_count_only_inside_a_person_container_and_never_inside_products() {
        let l = lexicon();
        assert_eq!(l.field_kind("cd[name]"), None);
        assert_eq!(
            l.field_kind("custom_data.customer.name"),
            Some(LexKind::FullName)
        );
        assert_eq!(l.field_kind("billing[namn]"), Some(LexKind::FullName));
        assert_eq!(l.field_kind("cd[contents][0].fornamn"), None);
        assert_eq!(l.field_kind("pr1.telefon"), None);
    }

    #[test]
    fn form_inputs_are_recognised_by_autocomplete_then_names_then_label_words() {
        let l = lexicon();
        assert_eq!(
            l.form_kind(Some("shipping given-name"), ["x"]),
            Some(LexKind::FirstName)
        );
        assert_eq!(
            l.form_kind(None, ["tel1", "Ditt telefon *"]),
            Some(LexKind::Phone)
        );
        assert_eq!(l.form_kind(None, ["q", "Sök"]), None);
    }

    #[test]
    fn a_word_under_two_kinds_is_refused() {
        let pack = crate::rules::parse(
            "[pack]\nid = \"lex\"\n[[names]]\nkind = \"email\"\nlang = \"en\"\nlist = [\"mail\"]\n[[names]]\nkind = \"phone\"\nlang = \"en\"\nlist = [\"MAIL\"]\n",
            "lex.toml",
        )
        .unwrap();
        let e = Lexicon::compile(&[pack]).unwrap_err().to_string();
        assert!(e.contains("lex.toml") && e.contains("both"), "{e}");
    }
}
