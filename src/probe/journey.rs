//! Journeys: what a crawler cannot guess (log in, add to cart, check out), as ordered steps in
//! a TOML file. Parsed and checked here (pure); the browser driver runs them.
//!
//! ```toml
//! [[journeys]]
//! name = "checkout"
//! start = "/produkt-klamydiatest.html"   # absolute, or relative to the probed URL
//!
//! [[journeys.steps]]
//! consent = "reject"                      # or "accept": answer the banner now
//! [[journeys.steps]]
//! click = "#add-to-cart"
//! [[journeys.steps]]
//! goto = "/kassa.html"
//! [[journeys.steps]]
//! fill = "input[name=epost]"
//! with = "email"                          # a persona field, or `value = "literal"`
//! [[journeys.steps]]
//! select = "select#land"
//! value = "SE"
//! [[journeys.steps]]
//! submit = "form#kassa"                   # a form (its submit button is clicked) or a button
//! [[journeys.steps]]
//! wait_for = "#tack"                      # a selector that must appear
//! timeout_seconds = 15
//! [[journeys.steps]]
//! wait = "network-idle"
//! ```

use crate::pixel::lexicon::LexKind;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JourneyFile {
    pub journeys: Vec<Journey>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Journey {
    pub name: String,
    /// Where the journey begins (default: the probed URL).
    #[serde(default)]
    pub start: Option<String>,
    pub steps: Vec<StepSpec>,
}

/// One step as written: exactly one action key.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    #[serde(default)]
    pub goto: Option<String>,
    #[serde(default)]
    pub click: Option<String>,
    #[serde(default)]
    pub fill: Option<String>,
    #[serde(default)]
    pub select: Option<String>,
    #[serde(default)]
    pub submit: Option<String>,
    #[serde(default)]
    pub wait_for: Option<String>,
    #[serde(default)]
    pub wait: Option<String>,
    #[serde(default)]
    pub consent: Option<String>,
    /// For `fill`: a persona field (`email`, `phone`, `first_name`, ...).
    #[serde(default)]
    pub with: Option<String>,
    /// For `fill` and `select`: a literal value.
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub timeout_seconds: Option<f64>,
}

/// A checked step.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Goto(String),
    Click(String),
    Fill(String, Value),
    Select(String, String),
    Submit(String),
    WaitFor(String),
    NetworkIdle,
    Consent(bool),
}

/// What a `fill` types.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Persona(LexKind),
    Literal(String),
}

impl Step {
    pub fn describe(&self) -> String {
        match self {
            Step::Goto(u) => format!("goto {u}"),
            Step::Click(s) => format!("click {s}"),
            Step::Fill(s, Value::Persona(k)) => format!("fill {s} with {}", k.as_str()),
            Step::Fill(s, Value::Literal(_)) => format!("fill {s}"),
            Step::Select(s, v) => format!("select {v} in {s}"),
            Step::Submit(s) => format!("submit {s}"),
            Step::WaitFor(s) => format!("wait for {s}"),
            Step::NetworkIdle => "wait for network idle".into(),
            Step::Consent(true) => "accept consent".into(),
            Step::Consent(false) => "reject consent".into(),
        }
    }
}

/// Default time a step may take.
pub const STEP_TIMEOUT_SECONDS: f64 = 10.0;

impl StepSpec {
    pub fn check(&self) -> Result<(Step, f64), String> {
        let timeout = self.timeout_seconds.unwrap_or(STEP_TIMEOUT_SECONDS);
        if !(timeout.is_finite() && timeout > 0.0 && timeout <= 600.0) {
            return Err(format!("timeout_seconds {timeout} is not in (0, 600]"));
        }
        let mut steps = Vec::new();
        if let Some(u) = &self.goto {
            steps.push(Step::Goto(u.clone()));
        }
        if let Some(s) = &self.click {
            steps.push(Step::Click(s.clone()));
        }
        if let Some(s) = &self.fill {
            let v = match (&self.with, &self.value) {
                (Some(k), None) => Value::Persona(LexKind::parse(k).ok_or_else(|| {
                    format!("fill {s}: `with = \"{k}\"` is not a persona field (email, phone, first_name, last_name, full_name, street, postal_code, city, date_of_birth, gender, national_id, customer_number)")
                })?),
                (None, Some(v)) => Value::Literal(v.clone()),
                _ => return Err(format!("fill {s}: give either `with` (a persona field) or `value`")),
            };
            steps.push(Step::Fill(s.clone(), v));
        }
        if let Some(s) = &self.select {
            let v = self
                .value
                .clone()
                .ok_or_else(|| format!("select {s}: needs `value`"))?;
            steps.push(Step::Select(s.clone(), v));
        }
        if let Some(s) = &self.submit {
            steps.push(Step::Submit(s.clone()));
        }
        if let Some(s) = &self.wait_for {
            steps.push(Step::WaitFor(s.clone()));
        }
        if let Some(w) = &self.wait {
            match w.as_str() {
                "network-idle" => steps.push(Step::NetworkIdle),
                other => return Err(format!("wait = \"{other}\": only \"network-idle\"")),
            }
        }
        if let Some(c) = &self.consent {
            match c.as_str() {
                "accept" => steps.push(Step::Consent(true)),
                "reject" => steps.push(Step::Consent(false)),
                other => return Err(format!("consent = \"{other}\": accept or reject")),
            }
        }
        match steps.len() {
            1 => Ok((steps.remove(0), timeout)),
            0 => Err(
                "a step needs one of goto, click, fill, select, submit, wait_for, wait, consent"
                    .into(),
            ),
            _ => Err("a step takes exactly one action".into()),
        }
    }
}

/// Read and check a journey file; every error names the journey and the step.
pub fn parse(text: &str, source: &str) -> Result<Vec<(Journey, Vec<(Step, f64)>)>, String> {
    let file: JourneyFile =
        toml::from_str(text).map_err(|e| format!("{source}: {}", e.to_string().trim_end()))?;
    let mut out = Vec::new();
    for j in file.journeys {
        if j.steps.is_empty() {
            return Err(format!("{source}: journey `{}` has no steps", j.name));
        }
        let mut steps = Vec::new();
        for (i, s) in j.steps.iter().enumerate() {
            steps.push(
                s.check()
                    .map_err(|e| format!("{source}: journey `{}`, step {}: {e}", j.name, i + 1))?,
            );
        }
        out.push((j, steps));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journey_file_parses_into_checked_steps() {
        let j = parse(
            r##"
[[journeys]]
name = "checkout"
start = "/produkt.html"
[[journeys.steps]]
consent = "reject"
[[journeys.steps]]
fill = "input[name=epost]"
with = "email"
[[journeys.steps]]
submit = "form#kassa"
timeout_seconds = 3
[[journeys.steps]]
wait = "network-idle"
"##,
            "j.toml",
        )
        .unwrap();
        assert_eq!(j.len(), 1);
        let steps: Vec<&Step> = j[0].1.iter().map(|(s, _)| s).collect();
        assert_eq!(steps[0], &Step::Consent(false));
        assert_eq!(
            steps[1],
            &Step::Fill("input[name=epost]".into(), Value::Persona(LexKind::Email))
        );
        assert_eq!(j[0].1[2].1, 3.0);
    }

    #[test]
    fn bad_steps_name_the_journey_and_step() {
        let e = parse(
            "[[journeys]]\nname = \"x\"\n[[journeys.steps]]\nclick = \"a\"\nsubmit = \"b\"\n",
            "j.toml",
        )
        .unwrap_err();
        assert!(
            e.contains("journey `x`, step 1") && e.contains("exactly one"),
            "{e}"
        );
        let e = parse(
            "[[journeys]]\nname = \"x\"\n[[journeys.steps]]\nfill = \"a\"\nwith = \"shoe_size\"\n",
            "j.toml",
        )
        .unwrap_err();
        assert!(e.contains("persona field"), "{e}");
    }
}
