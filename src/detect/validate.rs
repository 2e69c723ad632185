//! Validators: the third step after keywords and regex. Named in the packs (`validator = "..."`).

use chrono::NaiveDate;

/// Validators a pack may name.
pub const NAMES: &[&str] = &[
    "email",
    "phone",
    "phone-plausible",
    "phone-se",
    "phone:REGION",
    "se-personnummer",
    "no-fodselsnummer",
    "dk-cpr",
    "fi-hetu",
    "payment-card",
    "iban",
    "luhn",
];

/// Whether a pack may name this validator.
pub fn known(name: &str) -> bool {
    match name.strip_prefix("phone:") {
        Some(region) => region.parse::<phonenumber::country::Id>().is_ok(),
        None => NAMES.contains(&name) && name != "phone:REGION",
    }
}

pub fn run(name: &str, text: &str) -> bool {
    run_in(name, text, None)
}

/// [`run`] with the country a site is in (from its domain), which decides how a national
/// phone number without country code is read.
pub fn run_in(name: &str, text: &str, region: Option<Region>) -> bool {
    match name {
        "email" => email(text),
        "phone" => phone(text),
        "phone-plausible" => phone_number(text, false, region).is_some(),
        "phone-se" => phone_se(text),
        "se-personnummer" => se_personnummer(text).is_some(),
        "no-fodselsnummer" => no_fodselsnummer(text),
        "dk-cpr" => dk_cpr(text),
        "fi-hetu" => fi_hetu(text),
        "payment-card" => payment_card(text),
        "iban" => iban(text),
        "luhn" => luhn(&digits(text)),
        other => match other
            .strip_prefix("phone:")
            .and_then(|r| r.parse::<phonenumber::country::Id>().ok())
        {
            Some(region) => phonenumber::parse(Some(region), text.trim())
                .is_ok_and(|n| phonenumber::is_valid(&n)),
            None => false,
        },
    }
}

/// Whether a plaintext value fits the identity a custom field's name promised (the lexicon's
/// fields are named by sites, so a name alone is weaker evidence than a vendor's field).
pub fn lexicon_value(kind: crate::pixel::lexicon::LexKind, v: &str) -> bool {
    use crate::pixel::lexicon::LexKind as K;
    let lower = v.to_lowercase();
    let flag = matches!(
        lower.as_str(),
        "" | "0"
            | "1"
            | "true"
            | "false"
            | "yes"
            | "no"
            | "ja"
            | "nej"
            | "nei"
            | "kyllä"
            | "ei"
            | "nein"
            | "on"
            | "off"
            | "null"
            | "none"
            | "undefined"
            | "nan"
            | "n/a"
            | "-"
    );
    if flag {
        return false;
    }
    let letters = v.chars().filter(|c| c.is_alphabetic()).count();
    let digits = v.chars().filter(char::is_ascii_digit).count();
    match kind {
        // Digits (3 to 10, maybe a space or dash: 114 55, 0150, 10115, 12345-6789) or the
        // letter-digit codes of the UK, Canada, the Netherlands, Poland and Ireland.
        K::PostalCode => {
            (3..=10).contains(&digits)
                && v.len() <= 12
                && v.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
                && letters <= 4
        }
        K::FirstName | K::LastName | K::FullName | K::City => {
            letters >= 2 && digits == 0 && v.chars().count() <= 100
        }
        K::Street => letters >= 3 && v.chars().count() <= 200,
        K::Gender => gender(v),
        _ => true,
    }
}

/// A gender (or a salutation standing for one) in the languages of the packs.
pub fn gender(v: &str) -> bool {
    matches!(
        v.trim().trim_end_matches('.').to_lowercase().as_str(),
        "f" | "m"
            | "w"
            | "d"
            | "k"
            | "x"
            | "female"
            | "male"
            | "woman"
            | "man"
            | "women"
            | "men"
            | "other"
            | "non-binary"
            | "kvinna"
            | "kvinne"
            | "kvinde"
            | "mand"
            | "mann"
            | "nainen"
            | "mies"
            | "frau"
            | "weiblich"
            | "männlich"
            | "divers"
            | "vrouw"
            | "femme"
            | "homme"
            | "mr"
            | "mrs"
            | "ms"
            | "miss"
            | "herr"
            | "fru"
            | "fröken"
            | "frk"
            | "hr"
            | "madame"
            | "monsieur"
            | "mme"
    )
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
/// A country, as the phone numbering plans know it.
pub type Region = phonenumber::country::Id;

/// The country a site's domain says it is in (`apotek.example.se` → SE); `None` for generic
/// domains (`.com`, `.org`) and hosts without a country-code TLD.
pub fn region_of_site(host: &str) -> Option<Region> {
    use phonenumber::country::Id;
    let tld = host.trim_end_matches('.').rsplit('.').next()?;
    Some(match tld.to_ascii_lowercase().as_str() {
        "se" => Id::SE,
        "no" => Id::NO,
        "dk" => Id::DK,
        "fi" => Id::FI,
        "is" => Id::IS,
        "de" => Id::DE,
        "at" => Id::AT,
        "ch" => Id::CH,
        "nl" => Id::NL,
        "be" => Id::BE,
        "fr" => Id::FR,
        "it" => Id::IT,
        "es" => Id::ES,
        "pl" => Id::PL,
        "ie" => Id::IE,
        "uk" => Id::GB,
        "ee" => Id::EE,
        "lv" => Id::LV,
        "lt" => Id::LT,
        "us" => Id::US,
        _ => return None,
    })
}

pub fn phone(text: &str) -> bool {
    normalize_phone(text).is_some()
}

/// E.164 digits without `+` (`46701234567`) when the text is a valid number.
pub fn normalize_phone(text: &str) -> Option<String> {
    phone_number(text, true, None)
}

/// Like [`normalize_phone`], but only asks for a known country code and a dialable length,
/// not a number range in service. For fields a vendor defines as the phone identity field,
/// where any number the site believed to be the person's counts (test and reserved ranges too).
pub fn plausible_phone(text: &str) -> Option<String> {
    phone_number(text, false, None)
}

/// [`plausible_phone`] for a number seen on a site in `region`.
pub fn plausible_phone_in(text: &str, region: Option<Region>) -> Option<String> {
    phone_number(text, false, region)
}

fn phone_number(text: &str, strict: bool, region: Option<Region>) -> Option<String> {
    let t = text.trim();
    let d = digits(t);
    if !(7..=15).contains(&d.len()) {
        return None;
    }
    // Meta's normalised form is digits with country code and no '+': try it as international.
    // Without '+', '00' or a trunk '0', a number is national only where numbers are written
    // without a trunk prefix: Norway and Denmark (8 digits), Poland and Spain (9), the US (10).
    use phonenumber::country::Id;
    let candidates: Vec<(Id, String)> = if t.starts_with('+') {
        vec![(Id::SE, format!("+{d}"))]
    } else if t.starts_with("00") {
        vec![(Id::SE, format!("+{}", &d[2..]))]
    } else if d.starts_with('0') {
        // A trunk '0': national, of a country that writes one. Sweden first (the case this
        // tool was built for), then its neighbours and the large European plans.
        region
            .into_iter()
            .chain([
                Id::SE,
                Id::FI,
                Id::DE,
                Id::GB,
                Id::NL,
                Id::FR,
                Id::AT,
                Id::CH,
                Id::BE,
                Id::IE,
            ])
            .map(|r| (r, t.to_string()))
            .collect()
    } else {
        let mut c = vec![(Id::SE, format!("+{d}"))];
        // The site's own country first, where numbers are written without a trunk prefix.
        if let Some(r) = region.filter(|r| !matches!(r, Id::SE | Id::FI | Id::DE | Id::GB)) {
            c.insert(0, (r, d.clone()));
        }
        match d.len() {
            8 => c.extend([(Id::NO, d.clone()), (Id::DK, d.clone())]),
            9 => c.extend([(Id::PL, d.clone()), (Id::ES, d.clone())]),
            10 => c.push((Id::US, d.clone())),
            _ => {}
        }
        c
    };
    let parsed: Vec<phonenumber::PhoneNumber> = candidates
        .iter()
        .filter_map(|(region, c)| phonenumber::parse(Some(*region), c).ok())
        .collect();
    let e164 = |n: &phonenumber::PhoneNumber| {
        n.format()
            .mode(phonenumber::Mode::E164)
            .to_string()
            .trim_start_matches('+')
            .to_string()
    };
    // A reading the numbering plan calls valid wins (07700 900123 is British, not Finnish);
    // otherwise, when plausibility is enough, the first that could be held by the plan.
    if let Some(n) = parsed.iter().find(|n| phonenumber::is_valid(n)) {
        return Some(e164(n));
    }
    if strict {
        return None;
    }
    parsed.iter().find(|n| possible_length(n)).map(e164)
}

/// A number its country's plan could hold: its national part has one of the lengths some
/// region of that calling code allows for fixed or mobile lines (a millisecond timestamp read
/// as +1 … has 12 national digits, which no NANP number has).
fn possible_length(n: &phonenumber::PhoneNumber) -> bool {
    let national = n.national().value().to_string().len();
    phonenumber::metadata::DATABASE
        .by_code(&n.code().value())
        .is_some_and(|regions| {
            regions.iter().any(|m| {
                let d = m.descriptors();
                let mut lengths = [d.fixed_line(), d.mobile()]
                    .into_iter()
                    .flatten()
                    .flat_map(|x| x.possible_length().iter().copied())
                    .peekable();
                if lengths.peek().is_none() {
                    (6..=13).contains(&national)
                } else {
                    lengths.any(|l| usize::from(l) == national)
                }
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

/// Norwegian fødselsnummer (and D- and H-numbers): a real date (day + 40, month + 40 allowed)
/// and both mod-11 control digits.
pub fn no_fodselsnummer(text: &str) -> bool {
    let d: Vec<u32> = digits(text).bytes().map(|b| (b - b'0') as u32).collect();
    if d.len() != 11 {
        return false;
    }
    let mut day = d[0] * 10 + d[1];
    let mut month = d[2] * 10 + d[3];
    if day > 40 {
        day -= 40;
    }
    if month > 40 {
        month -= 40;
    }
    let year = 1900 + (d[4] * 10 + d[5]) as i32;
    if NaiveDate::from_ymd_opt(year, month, day).is_none()
        && NaiveDate::from_ymd_opt(year + 100, month, day).is_none()
    {
        return false;
    }
    let control = |weights: &[u32]| -> Option<u32> {
        let sum: u32 = weights.iter().zip(&d).map(|(w, x)| w * x).sum();
        match 11 - sum % 11 {
            11 => Some(0),
            10 => None,
            k => Some(k),
        }
    };
    control(&[3, 7, 6, 1, 8, 9, 4, 5, 2]) == Some(d[9])
        && control(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) == Some(d[10])
}

/// Danish CPR: `DDMMYY-SSSS` with a real date. The mod-11 check was abandoned in 2007, so the
/// date is all that can be checked.
pub fn dk_cpr(text: &str) -> bool {
    let d = digits(text);
    if d.len() != 10 {
        return false;
    }
    let day: u32 = d[0..2].parse().unwrap_or(0);
    let month: u32 = d[2..4].parse().unwrap_or(0);
    let yy: i32 = d[4..6].parse().unwrap_or(0);
    NaiveDate::from_ymd_opt(1900 + yy, month, day).is_some()
        || NaiveDate::from_ymd_opt(2000 + yy, month, day).is_some()
}

/// Finnish henkilötunnus `DDMMYYCZZZQ`: century sign, a real date and the check character
/// (`DDMMYYZZZ` mod 31 into `0123456789ABCDEFHJKLMNPRSTUVWXY`).
pub fn fi_hetu(text: &str) -> bool {
    let t = text.trim().to_ascii_uppercase();
    let b = t.as_bytes();
    if b.len() != 11 || !b[..6].iter().chain(&b[7..10]).all(u8::is_ascii_digit) {
        return false;
    }
    let century = match b[6] {
        b'+' => 1800,
        b'-' | b'Y' | b'X' | b'W' | b'V' | b'U' => 1900,
        b'A' | b'B' | b'C' | b'D' | b'E' | b'F' => 2000,
        _ => return false,
    };
    let num = |s: &str| s.parse::<u32>().unwrap_or(0);
    let (day, month, yy) = (num(&t[0..2]), num(&t[2..4]), num(&t[4..6]) as i32);
    if NaiveDate::from_ymd_opt(century + yy, month, day).is_none() {
        return false;
    }
    let n: u64 = format!("{}{}", &t[0..6], &t[7..10]).parse().unwrap_or(0);
    const CHECK: &[u8] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    CHECK[(n % 31) as usize] == b[10]
}

/// A payment card number: 13–19 digits, Luhn, and an issuer range (Visa, Mastercard, Amex,
/// Discover, JCB, Diners, UnionPay, Maestro).
pub fn payment_card(text: &str) -> bool {
    let d = digits(text);
    let len = d.len();
    if !(13..=19).contains(&len) || !luhn(&d) {
        return false;
    }
    let p = |n: usize| d[..n].parse::<u32>().unwrap_or(0);
    let issuer = match d.as_bytes()[0] {
        b'4' => matches!(len, 13 | 16 | 19),
        b'5' => {
            ((51..=55).contains(&p(2)) && len == 16) || [5018, 5020, 5038, 5893].contains(&p(4))
        }
        b'2' => (2221..=2720).contains(&p(4)) && len == 16,
        b'3' => {
            ((p(2) == 34 || p(2) == 37) && len == 15)
                || ((3528..=3589).contains(&p(4)) && len >= 16)
                || (((300..=305).contains(&p(3)) || p(2) == 36 || p(2) == 38 || p(2) == 39)
                    && len >= 14)
        }
        b'6' => {
            p(4) == 6011
                || (644..=649).contains(&p(3))
                || p(2) == 65
                || p(2) == 62
                || [6304, 6759, 6761, 6762, 6763].contains(&p(4))
        }
        _ => false,
    };
    // Numbers made of one to three distinct digits (4111 1111..., 5555 5555 5555 4444) are
    // fillers and test numbers, not a person's card.
    let distinct = d
        .bytes()
        .fold(0u16, |set, c| set | 1 << (c - b'0'))
        .count_ones();
    issuer && distinct >= 4
}

/// IBAN: a known country, that country's length, and mod 97 = 1.
pub fn iban(text: &str) -> bool {
    let t = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    if t.len() < 15 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let Some(&(_, len)) = IBAN_LENGTHS.iter().find(|(c, _)| *c == &t[..2]) else {
        return false;
    };
    if t.len() != len || !t[2..4].bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let rearranged = format!("{}{}", &t[4..], &t[..4]);
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap_or(0);
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// IBAN lengths by country (SWIFT IBAN registry).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SC", 31),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

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
    fn nordic_identity_numbers() {
        assert!(no_fodselsnummer("01010750160"));
        assert!(!no_fodselsnummer("01010750161"));
        assert!(dk_cpr("010190-1234"));
        assert!(!dk_cpr("320190-1234"));
        assert!(fi_hetu("131052-308T"));
        assert!(!fi_hetu("131052-308U"));
    }

    #[test]
    fn cards_and_ibans() {
        assert!(payment_card("4012 8888 8888 1881"));
        assert!(
            !payment_card("4111 1111 1111 1111"),
            "a run of one digit is a filler"
        );
        assert!(payment_card("5425233430109903"));
        assert!(!payment_card("5555555555554444"), "two distinct digits");
        assert!(payment_card("378282246310005"));
        assert!(!payment_card("4111111111111112"), "luhn");
        assert!(!payment_card("1234567812345670"), "no issuer starts with 1");
        assert!(!payment_card("4444444444444448"), "filler");
        assert!(iban("SE45 5000 0000 0583 9825 7466"));
        assert!(iban("GB82WEST12345698765432"));
        assert!(iban("de89370400440532013000"));
        assert!(!iban("GB82WEST12345698765433"));
        assert!(!iban("SE45500000000583982574"), "wrong length for SE");
    }

    #[test]
    fn regional_phones() {
        assert!(run("phone:GB", "020 7946 0018"));
        assert!(run("phone:US", "(201) 555-0123"));
        assert!(run("phone:DE", "0151 23456789"));
        assert!(run("phone:NO", "412 34 567"));
        assert!(run("phone:FI", "040 123 4567"));
        assert!(!run("phone:US", "(000) 000-0000"));
        assert!(known("phone:SE") && known("iban") && !known("phone:XX") && !known("bogus"));
    }

    #[test]
    fn luhn_cards() {
        assert!(luhn("4111111111111111"));
        assert!(!luhn("4111111111111112"));
    }
}
