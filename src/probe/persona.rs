//! The canary identity the probe types into forms: values the company owns and no real person
//! has, so that any of them found in a pixel request is a certain leak. Its values become
//! known identifiers for the run (plain, and hashed with every vendor's normalisation).

use crate::detect::known::KnownIdentifiers;
use crate::pixel::lexicon::LexKind;
use serde::{Deserialize, Serialize};

/// Personal identity numbers Skatteverket publishes for testing (valid checksum, reserved: no
/// person has them).
const TEST_PERSONNUMMER: &[&str] = &["19870521-2382", "19791110-9291", "19921225-2382"];

/// A canary identity. Every field can be set from `--persona FILE` (TOML, these names).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    pub email: String,
    /// As a Swedish customer would type it (`070-174 06 05`).
    pub phone: String,
    pub first_name: String,
    pub last_name: String,
    pub street: String,
    pub postal_code: String,
    pub city: String,
    /// `YYYY-MM-DD`.
    pub date_of_birth: String,
    /// `YYYYMMDD-NNNN`.
    pub personnummer: String,
    pub gender: String,
    pub customer_number: String,
}

impl Persona {
    /// A fresh canary at the user's own domain. `seed` varies the e-mail, phone and number, so
    /// that each run's leaks can be told apart.
    pub fn generate(domain: &str, seed: u64) -> Persona {
        let tag = format!("{:06x}", seed & 0xff_ffff);
        let pnr = TEST_PERSONNUMMER[(seed as usize / 7) % TEST_PERSONNUMMER.len()];
        Persona {
            email: format!("canary.{tag}@{}", domain.trim().trim_start_matches('@')),
            // PTS keeps 070-174 06 00 … 99 for fiction: no subscriber has these numbers.
            phone: format!("070-174 06 {:02}", seed % 100),
            first_name: "Kanarie".into(),
            last_name: format!("Provsson{}", &tag[..2]),
            street: "Provgatan 1".into(),
            postal_code: "114 55".into(),
            city: "Stockholm".into(),
            date_of_birth: format!("{}-{}-{}", &pnr[..4], &pnr[4..6], &pnr[6..8]),
            personnummer: pnr.into(),
            gender: "kvinna".into(),
            customer_number: format!("K{}", 700_000 + seed % 100_000),
        }
    }

    pub fn from_toml(text: &str) -> Result<Persona, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// What to type into an input asking for this kind.
    pub fn value(&self, kind: LexKind) -> String {
        match kind {
            LexKind::Email => self.email.clone(),
            LexKind::Phone => self.phone.clone(),
            LexKind::FirstName => self.first_name.clone(),
            LexKind::LastName => self.last_name.clone(),
            LexKind::FullName => format!("{} {}", self.first_name, self.last_name),
            LexKind::Street => self.street.clone(),
            LexKind::PostalCode => self.postal_code.clone(),
            LexKind::City => self.city.clone(),
            LexKind::DateOfBirth => self.date_of_birth.clone(),
            LexKind::Gender => self.gender.clone(),
            LexKind::NationalId => self.personnummer.clone(),
            LexKind::CustomerNumber => self.customer_number.clone(),
            LexKind::IpAddress => String::new(),
        }
    }

    /// The persona as known identifiers: e-mail, phone and personal number in every vendor's
    /// normal form, names, address and date of birth as Meta normalises them before hashing.
    pub fn known_identifiers(&self) -> KnownIdentifiers {
        let mut k = KnownIdentifiers::default();
        for v in [&self.email, &self.phone, &self.personnummer] {
            if k.add(v) {
                k.people += 1;
            }
        }
        for v in [
            &self.first_name,
            &self.last_name,
            &format!("{} {}", self.first_name, self.last_name),
            &self.street,
            &self.postal_code,
            &self.city,
            &self.date_of_birth,
            &self.date_of_birth.replace('-', ""),
            &self.customer_number,
        ] {
            k.add_text(v);
        }
        k
    }

    /// The values as one TOML document (printed at start so the user can keep the canary).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::hashes::sha256_hex;
    use crate::detect::validate;

    #[test]
    fn a_generated_canary_is_valid_where_it_must_be() {
        let p = Persona::generate("canary.example.se", 42);
        assert!(validate::email(&p.email), "{}", p.email);
        assert!(validate::se_personnummer(&p.personnummer).is_some());
        assert!(validate::plausible_phone(&p.phone).is_some());
        assert_eq!(p.date_of_birth.len(), 10);
        let back = Persona::from_toml(&p.to_toml()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn its_values_are_known_plain_and_hashed() {
        let p = Persona::generate("canary.example.se", 7);
        let k = p.known_identifiers();
        assert!(k.contains_digest(&sha256_hex(&p.email)));
        assert!(k.contains_digest(&sha256_hex("46701740607")));
        assert!(k.contains_digest(&sha256_hex(&p.first_name.to_lowercase())));
        assert!(k.contains_digest(&sha256_hex(&p.personnummer.replace('-', ""))));
    }
}
