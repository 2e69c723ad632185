//! Validators: the third step after keywords and regex. Named in the packs (`validator = "..."`).

use chrono::NaiveDate;

/// Validators a pack may name.
pub const NAMES: &[&str] = &[
    "email",
    "phone",
    "phone-plausible",
    "phone-se",
    "se-personnummer",
    "luhn",
];

pub fn run(name: &str, text: &str) -> bool {
    match name {
        "email" => email(text),
        "phone" => phone(text),
        "phone-plausible" => plausible_phone(text).is_some(),
        "phone-se" => phone_se(text),
        "se-personnummer" => se_personnummer(text).is_some(),
        "luhn" => luhn(&digits(text)),
        _ => false,
    }
}

/// The domain must end in a public suffix the Public Suffix List knows, with a label before it.
pub fn email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    if local.is_empty() || domain.len() > 253 {
        return false;
    }
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    match psl::suffix(domain.as_bytes()) {
        Some(suffix) => suffix.is_known() && domain.len() > suffix.as_bytes().len() + 1,
        None => false,
    }
}

/// Valid number in the international numbering plan; national forms are read as Swedish.
pub fn phone(text: &str) -> bool {
    normalize_phone(text).is_some()
}

/// E.164 digits without `+` (`46701234567`) when the text is a valid number.
pub fn normalize_phone(text: &str) -> Option<String> {
    phone_number(text, true)
}

/// Like [`normalize_phone`], but only asks for a known country code and a dialable length,
/// not a number range in service. For fields a vendor defines as the phone identity field,
/// where any number the site believed to be the person's counts (test and reserved ranges too).
pub fn plausible_phone(text: &str) -> Option<String> {
    phone_number(text, false)
}

fn phone_number(text: &str, strict: bool) -> Option<String> {
    let t = text.trim();
    let d = digits(t);
    if !(7..=15).contains(&d.len()) {
        return None;
    }
    // Meta's normalised form is digits with country code and no '+': try it as international.
    let candidates: Vec<String> = if t.starts_with('+') {
        vec![format!("+{d}")]
    } else if t.starts_with("00") {
        vec![format!("+{}", &d[2..])]
    } else if d.starts_with('0') {
        vec![t.to_string()]
    } else {
        vec![format!("+{d}"), t.to_string()]
    };
    candidates.iter().find_map(|c| {
        let n = phonenumber::parse(Some(phonenumber::country::Id::SE), c).ok()?;
        let national = n.national().value().to_string().len();
        let ok = if strict {
            phonenumber::is_valid(&n)
        } else {
            phonenumber::metadata::DATABASE
                .by_code(&n.code().value())
                .is_some()
                && (6..=13).contains(&national)
        };
        ok.then(|| {
            n.format()
                .mode(phonenumber::Mode::E164)
                .to_string()
                .trim_start_matches('+')
                .to_string()
        })
    })
}

pub fn phone_se(text: &str) -> bool {
    let d = digits(text);
    d.len() == 10 && d.starts_with("07") && phone(text)
}

/// The ten-digit form `YYMMDDNNNN` when the text is a valid personnummer or samordningsnummer
/// (day + 60): real calendar date, Luhn check digit over the ten digits.
pub fn se_personnummer(text: &str) -> Option<String> {
    let d = digits(text);
    let (century, ten) = match d.len() {
        10 => (None, d.as_str()),
        12 => (Some(&d[..2]), &d[2..]),
        _ => return None,
    };
    if let Some(c) = century {
        if c != "19" && c != "20" {
            return None;
        }
    }
    let yy: i32 = ten[0..2].parse().ok()?;
    let mm: u32 = ten[2..4].parse().ok()?;
    let mut dd: u32 = ten[4..6].parse().ok()?;
    if dd > 60 {
        dd -= 60;
    }
    let year = match century {
        Some(c) => c.parse::<i32>().ok()? * 100 + yy,
        // Any century will do for the calendar check except for 29 February.
        None => 2000 + yy,
    };
    let valid_date = NaiveDate::from_ymd_opt(year, mm, dd).is_some()
        || (century.is_none() && NaiveDate::from_ymd_opt(1900 + yy, mm, dd).is_some());
    (valid_date && luhn(ten)).then(|| ten.to_string())
}

/// Luhn over the whole digit string (check digit last).
pub fn luhn(d: &str) -> bool {
    if d.len() < 2 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = d
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let v = (b - b'0') as u32;
            if i % 2 == 1 {
                let x = v * 2;
                x / 10 + x % 10
            } else {
                v
            }
        })
        .sum();
    sum % 10 == 0
}

pub fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(email("anna@example.se"));
        assert!(email("a.b+c@sub.example.co.uk"));
        assert!(!email("icon@2x.png"));
        assert!(!email("user@localhost"));
        assert!(!email("x@com"));
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("+46 70-123 45 67").as_deref(),
            Some("46701234567")
        );
        assert_eq!(
            normalize_phone("0701234567").as_deref(),
            Some("46701234567")
        );
        assert_eq!(
            normalize_phone("46701234567").as_deref(),
            Some("46701234567")
        );
        assert!(normalize_phone("+46 12").is_none());
        assert!(
            normalize_phone("+44 7700 900123").is_none(),
            "fiction range is not in service"
        );
        assert_eq!(
            plausible_phone("+44 7700 900123").as_deref(),
            Some("447700900123")
        );
        assert!(plausible_phone("12345").is_none());
        assert!(phone_se("070-123 45 67"));
        assert!(!phone_se("+46701234567"));
    }

    #[test]
    fn personnummer() {
        assert_eq!(
            se_personnummer("811218-9876").as_deref(),
            Some("8112189876")
        );
        assert!(se_personnummer("19811218-9876").is_some());
        assert!(se_personnummer("198112189876").is_some());
        assert!(
            se_personnummer("701063-2391").is_some(),
            "samordningsnummer"
        );
        assert!(se_personnummer("900101-1234").is_none(), "luhn");
        assert!(se_personnummer("811318-9876").is_none(), "month");
        assert!(se_personnummer("17811218-9876").is_none(), "century");
    }

    #[test]
    fn luhn_cards() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
    }
}
