//! Pixel: recognise which vendor's tracking endpoint a [`Request`] hit, and decode its payload
//! into a [`Beacon`].
//!
//! Everything vendor-specific comes from the vendor packs in `detectors/vendors/`: hosts, paths,
//! where the pixel id, event name and first-party site are found, how the body is laid out, and
//! which fields carry identity or content ([`Semantics`], used by `detect`). The keywords of all
//! endpoints form one Aho-Corasick automaton that decides whether a raw log record is worth
//! parsing at all.

pub mod consent;
pub mod decode;
pub mod lexicon;

use crate::error::Error;
use crate::limits::Limits;
use crate::request::{url_host, Request, Scheme};
use crate::rules::{glob_to_regex, EndpointSpec, PackSpec};
use aho_corasick::AhoCorasick;
use consent::{Consent, Signal, SignalKind};
use decode::{BodyMode, DecodeNotes, Decoder, Field, SplitStyle};
use regex::Regex;
use std::sync::Arc;

/// A recognised pixel hit with its decoded payload.
#[derive(Debug, Clone)]
pub struct Beacon {
    /// Index into [`Recognizer::vendors`].
    pub vendor: usize,
    pub endpoint: Arc<str>,
    pub pixel_id: Option<String>,
    /// Event names by event index (GA4 batch lines, CAPI `data[i]`); may be shorter than the
    /// highest index when an event carried no name.
    pub events: Vec<String>,
    /// First-party host the hit was sent from.
    pub site: Option<String>,
    pub scheme: Option<Scheme>,
    /// `scheme://host/path` of the endpoint, without the query (for transport evidence).
    pub location: String,
    pub fields: Vec<Field>,
    pub consent: Option<Consent>,
    /// `(group, key)` for hits sent twice under two endpoints.
    pub twin: Option<(Arc<str>, String)>,
    pub notes: DecodeNotes,
}

impl Beacon {
    pub fn event(&self, index: u16) -> Option<&str> {
        self.events
            .get(index as usize)
            .filter(|e| !e.is_empty())
            .map(String::as_str)
            .or_else(|| self.events.first().map(String::as_str))
    }
}

/// Field meanings for one vendor, compiled from its pack.
#[derive(Debug, Clone)]
pub struct Semantics {
    /// Identity, then secret, then content field patterns, in one set: one search per field
    /// path gives all three roles.
    patterns: regex::bytes::RegexSet,
    identities: usize,
    secrets: usize,
    /// `(kind, detector id)` per identity pattern.
    identity_meta: Vec<(Arc<str>, Arc<str>)>,
    /// `(type, detector id)` per secret pattern.
    secret_meta: Vec<(Arc<str>, Arc<str>)>,
    /// Per identity pattern: where a sibling field names the kind instead.
    kind_from: Vec<Option<Arc<KindFrom>>>,
    /// Custom fields named for identity in any language; their identity entries follow the
    /// vendor's own in `identity_meta`, one per [`lexicon::LexKind`].
    lexicon: Option<Arc<lexicon::Lexicon>>,
}

/// A sibling field that names an identity field's kind.
#[derive(Debug, Clone)]
pub struct KindFrom {
    field: String,
    map: Vec<(String, Arc<str>)>,
}

/// What a field path means to its vendor: indices of the first identity and secret patterns it
/// matches, and whether it is a content field. Computed once per field when a beacon is decoded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Role {
    pub identity: Option<u32>,
    pub secret: Option<u32>,
    pub content: bool,
}

/// Roles already worked out, per vendor and field path: field names repeat from hit to hit, so
/// most fields cost a hash lookup instead of a regex-set search. Bounded per vendor; owned by
/// one thread (a scanner or a scan worker).
#[derive(Debug, Default)]
pub struct RoleMemo {
    by_vendor: Vec<crate::fasthash::HashMap<Box<str>, Role>>,
}

/// Paths remembered per vendor before the memo starts over.
const ROLE_MEMO_PATHS: usize = 4096;

impl RoleMemo {
    pub fn role(&mut self, sem: &Semantics, vendor: usize, path: &str) -> Role {
        if self.by_vendor.len() <= vendor {
            self.by_vendor.resize_with(vendor + 1, Default::default);
        }
        let memo = &mut self.by_vendor[vendor];
        if let Some(&role) = memo.get(path) {
            return role;
        }
        let role = sem.role(path);
        if memo.len() >= ROLE_MEMO_PATHS {
            memo.clear();
        }
        memo.insert(path.into(), role);
        role
    }
}

impl Semantics {
    pub fn role(&self, path: &str) -> Role {
        let mut role = Role::default();
        for i in self.patterns.matches(path.as_bytes()).iter() {
            if i < self.identities {
                role.identity.get_or_insert(i as u32);
            } else if i < self.identities + self.secrets {
                role.secret.get_or_insert((i - self.identities) as u32);
            } else {
                role.content = true;
                break;
            }
        }
        if role.identity.is_none() && role.secret.is_none() {
            if let Some(kind) = self.lexicon.as_ref().and_then(|l| l.field_kind(path)) {
                role.identity = Some((self.identities + kind as usize) as u32);
            }
        }
        role
    }
    /// The identity kind a sibling field names for this field (`idType: SHA256_EMAIL` next to
    /// `idValue`), when the pack says the kind comes from one and the sibling is there.
    pub fn kind_from_sibling<'f>(
        &self,
        role: Role,
        path: &str,
        fields: &'f [Field],
    ) -> Option<Arc<str>> {
        let rule = self.kind_from.get(role.identity? as usize)?.as_ref()?;
        // The sibling sits next to the field or next to one of its containers:
        // `a[0].idValue` → `a[0].idType`; `k[1].values[0]` → `k[1].type`.
        let mut prefix = path;
        while let Some(cut) = prefix.rfind(['.', '[']) {
            prefix = &prefix[..cut];
            let sibling = format!("{prefix}.{}", rule.field);
            if let Some(f) = fields.iter().find(|f| f.path == sibling) {
                return rule
                    .map
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(f.value.trim()))
                    .map(|(_, v)| v.clone());
            }
        }
        None
    }

    /// The finer identity a custom field's name gave (first name, postal code ...), when the
    /// lexicon rather than the vendor's pack made it an identity field.
    pub fn lexicon_kind(&self, role: Role) -> Option<lexicon::LexKind> {
        let i = (role.identity? as usize).checked_sub(self.identities)?;
        lexicon::LexKind::ALL.get(i).copied()
    }
    /// `(kind, detector)` when the field carries a person's identity.
    pub fn identity(&self, path: &str) -> Option<(&Arc<str>, &Arc<str>)> {
        self.identity_of(self.role(path))
    }
    pub fn identity_of(&self, role: Role) -> Option<(&Arc<str>, &Arc<str>)> {
        let (k, d) = &self.identity_meta[role.identity? as usize];
        Some((k, d))
    }
    pub fn secret_of(&self, role: Role) -> Option<(&Arc<str>, &Arc<str>)> {
        let (k, d) = &self.secret_meta[role.secret? as usize];
        Some((k, d))
    }
    pub fn empty() -> Semantics {
        Semantics {
            patterns: regex::bytes::RegexSet::empty(),
            identities: 0,
            secrets: 0,
            identity_meta: Vec::new(),
            secret_meta: Vec::new(),
            kind_from: Vec::new(),
            lexicon: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Vendor {
    pub id: Arc<str>,
    pub name: String,
    pub pack: String,
    pub semantics: Semantics,
}

#[derive(Debug, Clone)]
enum HostPattern {
    Any,
    Exact(String),
    Suffix(String),
}

impl HostPattern {
    fn parse(s: &str) -> HostPattern {
        let s = s.trim().to_ascii_lowercase();
        if s == "*" {
            HostPattern::Any
        } else if let Some(rest) = s.strip_prefix("*.") {
            HostPattern::Suffix(format!(".{rest}"))
        } else {
            HostPattern::Exact(s)
        }
    }
    fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Any => true,
            HostPattern::Exact(h) => host == h,
            HostPattern::Suffix(s) => host.ends_with(s.as_str()),
        }
    }
}

/// A field-path glob: compared as a string when it has no wildcard.
#[derive(Debug, Clone)]
enum FieldName {
    Exact(String),
    Glob(Regex),
}

impl FieldName {
    fn new(glob: &str) -> Result<FieldName, String> {
        if glob.contains('*') {
            Regex::new(&glob_to_regex(glob))
                .map(FieldName::Glob)
                .map_err(|e| e.to_string())
        } else {
            Ok(FieldName::Exact(glob.to_string()))
        }
    }
    fn is_match(&self, path: &str) -> bool {
        match self {
            FieldName::Exact(name) => path == name,
            FieldName::Glob(re) => re.is_match(path),
        }
    }
}

#[derive(Debug, Clone)]
enum Source {
    Field(FieldName),
    PathGroup(String),
    Referer,
    Host,
}

#[derive(Debug, Clone)]
struct Endpoint {
    id: Arc<str>,
    vendor: usize,
    hosts: Vec<HostPattern>,
    exclude_hosts: Vec<HostPattern>,
    paths: Vec<Regex>,
    methods: Vec<String>,
    require_params: Vec<(String, Option<String>)>,
    path_params: Option<String>,
    /// `None`: the body is not decoded (compressed session-recorder payloads).
    body: Option<BodyMode>,
    events_array: Option<String>,
    pixel_id: Vec<Source>,
    event: Vec<Source>,
    site: Vec<Source>,
    splits: Vec<(Regex, SplitStyle)>,
    google_consent: bool,
    consent_fields: Vec<ConsentField>,
    twin: Option<TwinRule>,
}

/// A payload field carrying a consent signal ([`crate::rules::ConsentFieldSpec`]).
#[derive(Debug, Clone)]
struct ConsentField {
    field: FieldName,
    kind: SignalKind,
    denied: Vec<String>,
    granted: Vec<String>,
}

impl ConsentField {
    fn signal(&self, value: &str) -> Signal {
        let v = value.trim();
        if self.denied.iter().any(|d| d.eq_ignore_ascii_case(v)) {
            Signal::Denied
        } else if self.granted.iter().any(|g| g.eq_ignore_ascii_case(v)) {
            Signal::Granted
        } else {
            Signal::NotSet
        }
    }
}

/// Whether a decoded path lies inside the endpoint's events array (`conversions[2].x`,
/// `data.events[0].x`, `[1].x`).
fn in_events_array(path: &str, events_array: &str) -> bool {
    let at = events_array.trim_start_matches("[]");
    path.strip_prefix(at)
        .is_some_and(|rest| rest.starts_with('['))
}

/// How two hits under different endpoints are recognised as one event ([`crate::rules::TwinSpec`]).
#[derive(Debug, Clone)]
struct TwinRule {
    group: Arc<str>,
    key: Vec<String>,
    event_id: Option<String>,
    payload: bool,
    ignore: Vec<String>,
}

impl TwinRule {
    /// The key two hits of one event share, or `None` when nothing in the hit can tell it from
    /// another event of the same pixel (every key field but the pixel empty, no event id).
    fn key(&self, fields: &[Field]) -> Option<String> {
        let top = |name: &str| {
            fields
                .iter()
                .find(|f| f.path == name)
                .map(|f| f.value.as_str())
        };
        let pixel = self.key.first().and_then(|k| top(k)).unwrap_or("");
        if let Some(id) = self
            .event_id
            .as_deref()
            .and_then(&top)
            .filter(|v| !v.is_empty())
        {
            return Some(format!("{pixel}\u{1f}eid\u{1f}{id}"));
        }
        let values: Vec<&str> = self.key.iter().map(|k| top(k).unwrap_or("")).collect();
        if values.iter().skip(1).all(|v| v.is_empty()) {
            return None;
        }
        let mut key = values.join("\u{1f}");
        if self.payload {
            use std::hash::{BuildHasher, Hash, Hasher};
            let mut pairs: Vec<(&str, &str)> = fields
                .iter()
                .filter(|f| {
                    !self.ignore.iter().any(|i| i == &f.path)
                        && !self.key.iter().any(|k| k == &f.path)
                })
                .map(|f| (f.path.as_str(), f.value.as_str()))
                .collect();
            pairs.sort_unstable();
            // A fixed seed: the key is compared within one process only, but must not depend
            // on the order fields arrived in.
            let mut h = foldhash::fast::FixedState::with_seed(0x7477_696e).build_hasher();
            pairs.hash(&mut h);
            key.push_str(&format!("\u{1f}{:016x}", h.finish()));
        }
        Some(key)
    }
}

/// A parameter whose value is split into sub-fields, and how.
pub type Split = (Regex, SplitStyle);

/// The block search: SIMD literal matching (Teddy) when the keyword set allows it.
#[derive(Debug, Clone)]
enum BlockSearch {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

/// Vendor recognition compiled from the vendor packs.
#[derive(Debug, Clone)]
pub struct Recognizer {
    pub vendors: Vec<Vendor>,
    /// The identity lexicon (also what the probe fills forms by).
    pub lexicon: Option<Arc<lexicon::Lexicon>>,
    endpoints: Vec<Endpoint>,
    prefilter: AhoCorasick,
    block_prefilter: BlockSearch,
    /// Endpoint ids, for `rules list`.
    pub endpoint_ids: Vec<(Arc<str>, Arc<str>)>,
}

impl Recognizer {
    pub fn compile(packs: &[PackSpec]) -> Result<Recognizer, Error> {
        let mut vendors = Vec::new();
        let mut endpoints = Vec::new();
        let mut keywords: Vec<String> = Vec::new();
        // Identity, content and secret fields declared outside any vendor apply to every vendor,
        // after the vendor's own (e.g. `hem`, `email_hash` anywhere).
        let global: Vec<&PackSpec> = packs.iter().filter(|p| p.vendor.is_none()).collect();
        let lexicon = lexicon::Lexicon::compile(packs)?.map(Arc::new);
        if let Some(pack) = global.iter().find(|p| !p.endpoints.is_empty()) {
            return Err(Error::rules(format!(
                "{}: pack `{}` has endpoints but no [vendor]",
                pack.source, pack.pack.id
            )));
        }
        for pack in packs {
            let Some(v) = &pack.vendor else { continue };
            let scopes = || std::iter::once(pack).chain(global.iter().copied());
            let ctx = |what: &str, id: &str, msg: String| {
                Error::rules(format!("{}: {what} `{id}`: {msg}", pack.source))
            };
            if pack.endpoints.is_empty() {
                return Err(ctx("vendor", &v.id, "no [[endpoints]]".into()));
            }
            let vendor_index = vendors.len();
            for e in &pack.endpoints {
                let ep =
                    compile_endpoint(e, vendor_index).map_err(|m| ctx("endpoint", &e.id, m))?;
                for k in &e.keywords {
                    keywords.push(k.to_ascii_lowercase());
                    if k.contains('/') {
                        // Older Suricata escapes `/` as `\/` inside JSON strings.
                        keywords.push(k.to_ascii_lowercase().replace('/', "\\/"));
                    }
                }
                endpoints.push(ep);
            }
            let mut identity = Vec::new();
            let mut identity_meta = Vec::new();
            let mut kind_from = Vec::new();
            for i in scopes().flat_map(|p| &p.identity) {
                let rule = i.kind_from.as_ref().map(|k| {
                    Arc::new(KindFrom {
                        field: k.field.clone(),
                        map: k
                            .map
                            .iter()
                            .map(|(v, kind)| (v.clone(), Arc::from(kind.as_str())))
                            .collect(),
                    })
                });
                for f in &i.fields {
                    identity.push(glob_to_regex(f));
                    identity_meta
                        .push((Arc::from(i.kind.as_str()), Arc::from(i.detector.as_str())));
                    kind_from.push(rule.clone());
                }
            }
            if let Some(lex) = &lexicon {
                let detector: Arc<str> = Arc::from(lex.detector.as_str());
                for kind in lexicon::LexKind::ALL {
                    identity_meta.push((Arc::from(kind.identity_kind()), detector.clone()));
                }
            }
            let mut secrets = Vec::new();
            let mut secret_meta = Vec::new();
            for s in scopes().flat_map(|p| &p.secrets) {
                for f in &s.fields {
                    secrets.push(glob_to_regex(f));
                    secret_meta.push((Arc::from(s.kind.as_str()), Arc::from(s.detector.as_str())));
                }
            }
            let content: Vec<String> = scopes()
                .flat_map(|p| p.content.iter())
                .flat_map(|c| c.fields.iter().map(|f| glob_to_regex(f)))
                .collect();
            let patterns =
                regex::bytes::RegexSetBuilder::new(identity.iter().chain(&secrets).chain(&content))
                    .case_insensitive(true)
                    .unicode(false)
                    .build()
                    .map_err(|e| {
                        ctx(
                            "vendor",
                            &v.id,
                            format!(
                                "identity, secret or content field pattern does not compile: {e}"
                            ),
                        )
                    })?;
            vendors.push(Vendor {
                id: Arc::from(v.id.as_str()),
                name: v.name.clone(),
                pack: pack.pack.id.clone(),
                semantics: Semantics {
                    patterns,
                    identities: identity.len(),
                    secrets: secrets.len(),
                    identity_meta,
                    secret_meta,
                    kind_from,
                    lexicon: lexicon.clone(),
                },
            });
        }
        keywords.sort();
        keywords.dedup();
        let prefilter = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| Error::rules(format!("endpoint keywords do not compile: {e}")))?;
        // Over whole blocks of input, case-sensitively on a lowercased copy: that lets the
        // searcher use its SIMD literal matcher (Teddy), which case folding would disable.
        let block_prefilter = match aho_corasick::packed::Config::new()
            .builder()
            .extend(&keywords)
            .build()
        {
            Some(packed) => BlockSearch::Packed(packed),
            None => BlockSearch::Automaton(
                AhoCorasick::builder()
                    .build(&keywords)
                    .map_err(|e| Error::rules(format!("endpoint keywords do not compile: {e}")))?,
            ),
        };
        let endpoint_ids = endpoints
            .iter()
            .map(|e| (vendors[e.vendor].id.clone(), e.id.clone()))
            .collect();
        Ok(Recognizer {
            vendors,
            lexicon,
            endpoints,
            prefilter,
            block_prefilter,
            endpoint_ids,
        })
    }

    /// Whether a raw record could be a pixel hit at all (one keyword of any endpoint occurs).
    pub fn prefilter(&self, raw: &[u8]) -> bool {
        self.prefilter.is_match(raw)
    }

    /// Where the first endpoint keyword starts in a block of input that has been lowercased
    /// with `make_ascii_lowercase` (keywords match regardless of ASCII case).
    pub fn find_keyword_lowercased(&self, lowered: &[u8]) -> Option<usize> {
        match &self.block_prefilter {
            BlockSearch::Packed(p) => p.find(lowered).map(|m| m.start()),
            BlockSearch::Automaton(a) => a.find(lowered).map(|m| m.start()),
        }
    }

    /// Which endpoint a request hit, if any.
    fn endpoint(&self, req: &Request) -> Option<&Endpoint> {
        let path = req.path();
        self.endpoints.iter().find(|e| {
            (e.methods.is_empty()
                || e.methods
                    .iter()
                    .any(|m| m.eq_ignore_ascii_case(&req.method)))
                && e.hosts.iter().any(|h| h.matches(&req.host))
                && !e.exclude_hosts.iter().any(|h| h.matches(&req.host))
                && e.paths.iter().any(|p| p.is_match(path))
                && e.require_params
                    .iter()
                    .all(|(name, value)| has_param(req.query(), name, value.as_deref()))
        })
    }

    /// How an endpoint's payload is decoded: its split parameters and its events array, as
    /// [`decode::Decoder::new`] takes them (benchmarks decode without the rest of the path).
    pub fn decode_settings(&self, endpoint_id: &str) -> Option<(&[Split], Option<&str>)> {
        self.endpoints
            .iter()
            .find(|e| &*e.id == endpoint_id)
            .map(|e| (e.splits.as_slice(), e.events_array.as_deref()))
    }

    /// Whether the request is a pixel hit, without decoding it.
    pub fn is_hit(&self, req: &Request) -> bool {
        self.endpoint(req).is_some()
    }

    /// Recognise and decode.
    pub fn beacon(&self, req: &Request, limits: &Limits) -> Option<Beacon> {
        self.beacon_memo(req, limits, &mut RoleMemo::default())
    }

    /// [`Recognizer::beacon`] with field roles looked up in a memo first.
    pub fn beacon_memo(
        &self,
        req: &Request,
        limits: &Limits,
        memo: &mut RoleMemo,
    ) -> Option<Beacon> {
        let ep = self.endpoint(req)?;
        let mut decoder = Decoder::new(limits, &ep.splits, ep.events_array.as_deref());
        if let Some(sep) = &ep.path_params {
            let params: Vec<&str> = req.path().split(sep.as_str()).skip(1).collect();
            if !params.is_empty() {
                decoder.query(&params.join("&"));
            }
        }
        if let Some(q) = req.query() {
            decoder.query(q);
        }
        if let (Some(body), Some(mode)) = (&req.body, ep.body) {
            decoder.body(body, req.content_type.as_deref(), mode);
        }
        if !req.headers.is_empty() {
            decoder.headers(&req.headers);
        }
        let mut notes = decoder.notes;
        notes.body_truncated |= req.body_truncated;
        let mut fields = decoder.fields;
        let sem = &self.vendors[ep.vendor].semantics;
        for f in &mut fields {
            f.role = memo.role(sem, ep.vendor, &f.path);
        }
        let path_caps = ep.paths.iter().find_map(|p| p.captures(req.path()));
        let resolve = |sources: &[Source]| -> Option<String> {
            sources.iter().find_map(|s| match s {
                Source::Field(re) => fields
                    .iter()
                    .find(|f| re.is_match(&f.path) && !f.value.is_empty())
                    .map(|f| f.value.clone()),
                Source::PathGroup(g) => path_caps.as_ref()?.name(g).map(|m| m.as_str().to_string()),
                Source::Referer => req.referer.clone(),
                Source::Host => (!req.host.is_empty()).then(|| req.host.clone()),
            })
        };
        let pixel_id = resolve(&ep.pixel_id);
        let site = ep
            .site
            .iter()
            .find_map(|s| site_from(resolve(std::slice::from_ref(s))?.as_str()));
        let mut events: Vec<String> = Vec::new();
        for source in &ep.event {
            if let Source::Field(re) = source {
                for f in fields.iter().filter(|f| re.is_match(&f.path)) {
                    let i = f.event as usize;
                    if events.len() <= i {
                        events.resize(i + 1, String::new());
                    }
                    if events[i].is_empty() {
                        events[i] = f.value.clone();
                    }
                }
            }
        }
        let top = |name: &str| {
            fields
                .iter()
                .find(|f| f.path == name)
                .map(|f| f.value.as_str())
        };
        let mut consent = if ep.google_consent {
            Consent::google(top("gcs"), top("gcd"))
        } else {
            None
        };
        for cf in &ep.consent_fields {
            for f in fields.iter().filter(|f| cf.field.is_match(&f.path)) {
                let signal = cf.signal(&f.value);
                if signal == Signal::NotSet {
                    continue;
                }
                let in_event = ep
                    .events_array
                    .as_deref()
                    .filter(|a| in_events_array(&f.path, a))
                    .map(|_| f.event);
                consent
                    .get_or_insert_with(Consent::default)
                    .read_field(&f.path, &f.value, cf.kind, signal, in_event);
            }
        }
        let twin = ep
            .twin
            .as_ref()
            .and_then(|t| Some((t.group.clone(), t.key(&fields)?)));
        Some(Beacon {
            vendor: ep.vendor,
            endpoint: ep.id.clone(),
            pixel_id,
            events,
            site,
            scheme: req.scheme,
            location: format!(
                "{}://{}{}",
                match req.scheme {
                    Some(Scheme::Http) => "http",
                    _ => "https",
                },
                req.host,
                req.path()
            ),
            fields,
            consent,
            twin,
            notes,
        })
    }
}

fn site_from(value: &str) -> Option<String> {
    url_host(value).or_else(|| {
        let v = value.trim().to_ascii_lowercase();
        (v.contains('.')
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'))
        .then_some(v)
    })
}

fn has_param(query: Option<&str>, name: &str, value: Option<&str>) -> bool {
    let Some(q) = query else { return false };
    form_urlencoded::parse(q.as_bytes())
        .any(|(k, v)| k == name && value.is_none_or(|want| v == want))
}

fn compile_endpoint(e: &EndpointSpec, vendor: usize) -> Result<Endpoint, String> {
    if !crate::rules::is_kebab(&e.id) {
        return Err("id is not kebab-case".into());
    }
    if e.hosts.is_empty() || e.paths.is_empty() {
        return Err("needs at least one host and one path".into());
    }
    if e.keywords.is_empty() {
        return Err("needs at least one keyword for the prefilter".into());
    }
    // Zeek and Suricata log host and path in separate fields: a keyword spanning both would
    // never occur in their records and the prefilter would drop real hits.
    if let Some(k) = e.keywords.iter().find(|k| {
        k.split_once('/')
            .is_some_and(|(host, _)| host.contains('.') && !host.is_empty())
    }) {
        return Err(format!("keyword `{k}` spans host and path; use the host or the path alone (Zeek and EVE log them apart)"));
    }
    let paths = e
        .paths
        .iter()
        .map(|p| Regex::new(p).map_err(|err| format!("path regex `{p}` does not compile: {err}")))
        .collect::<Result<Vec<_>, _>>()?;
    let sources = |list: &[String], what: &str| -> Result<Vec<Source>, String> {
        list.iter()
            .map(|s| match s.split_once(':') {
                Some(("field", glob)) => FieldName::new(glob).map(Source::Field),
                Some(("path", group)) => {
                    if paths
                        .iter()
                        .any(|p| p.capture_names().flatten().any(|n| n == group))
                    {
                        Ok(Source::PathGroup(group.to_string()))
                    } else {
                        Err(format!(
                            "{what} source `{s}`: no path regex has a group named `{group}`"
                        ))
                    }
                }
                Some(("header", "referer")) => Ok(Source::Referer),
                None if s == "host" => Ok(Source::Host),
                _ => Err(format!(
                    "{what} source `{s}` is not field:GLOB, path:GROUP, header:referer or host"
                )),
            })
            .collect()
    };
    let body = match e.body.as_str() {
        "auto" => Some(BodyMode::Auto),
        "lines" => Some(BodyMode::Lines),
        "none" => None,
        other => return Err(format!("body `{other}` is not auto, lines or none")),
    };
    let splits = e
        .split
        .iter()
        .map(|s| {
            let style = match s.style.as_str() {
                "tilde2" => SplitStyle::Tilde2,
                "tilde-dot" => SplitStyle::TildeDot,
                other => return Err(format!("split style `{other}` is not tilde2 or tilde-dot")),
            };
            Regex::new(&s.params)
                .map(|re| (re, style))
                .map_err(|err| format!("split params regex does not compile: {err}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let google_consent = match e.consent.as_deref() {
        None => false,
        Some("google") => true,
        Some(other) => return Err(format!("consent `{other}` is not google")),
    };
    let consent_fields = e
        .consent_fields
        .iter()
        .map(|c| {
            if c.denied.is_empty() {
                return Err(format!("consent field `{}` names no denied value", c.field));
            }
            Ok(ConsentField {
                field: FieldName::new(&c.field)?,
                kind: c.signal.parse()?,
                denied: c.denied.clone(),
                granted: c.granted.clone(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let pixel_id = sources(&e.pixel_id, "pixel_id")?;
    let event = sources(&e.event, "event")?;
    let site = sources(&e.site, "site")?;
    Ok(Endpoint {
        id: Arc::from(e.id.as_str()),
        vendor,
        hosts: e.hosts.iter().map(|h| HostPattern::parse(h)).collect(),
        exclude_hosts: e
            .exclude_hosts
            .iter()
            .map(|h| HostPattern::parse(h))
            .collect(),
        paths,
        methods: e.methods.clone(),
        require_params: e
            .require_params
            .iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (p.clone(), None),
            })
            .collect(),
        path_params: e.path_params.clone().filter(|s| !s.is_empty()),
        body,
        events_array: e.events_array.clone(),
        pixel_id,
        event,
        site,
        splits,
        google_consent,
        consent_fields,
        twin: e.twin.as_ref().map(|t| TwinRule {
            group: Arc::from(t.group.as_str()),
            key: t.key.clone(),
            event_id: t.event_id.clone(),
            payload: t.payload,
            ignore: t.ignore.clone(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recognizer() -> Recognizer {
        Recognizer::compile(&crate::rules::load(&[] as &[&str]).unwrap()).unwrap()
    }

    fn request(method: &str, url: &str) -> Request {
        let mut r = Request {
            method: method.into(),
            ..Request::default()
        };
        assert!(r.set_url(url));
        r
    }

    #[test]
    fn field_roles_ignore_ascii_case_only_and_the_memo_agrees() {
        let rec = recognizer();
        let meta = rec.vendors.iter().position(|v| &*v.id == "meta").unwrap();
        let sem = &rec.vendors[meta].semantics;
        let email = sem.role("udff[em]");
        assert!(email.identity.is_some());
        assert_eq!(sem.role("UDFF[EM]"), email);
        // A non-ASCII look-alike is another parameter to the vendor.
        assert_eq!(sem.role("udff[\u{e9}mx]").identity, None);
        assert!(sem.role("cd[content_name]").content);
        let mut memo = RoleMemo::default();
        for path in ["udff[em]", "cd[content_name]", "ev", "udff[em]"] {
            assert_eq!(memo.role(sem, meta, path), sem.role(path), "{path}");
        }
    }

    #[test]
    fn meta_hit_with_site_event_and_twin_key() {
        let rec = recognizer();
        let req = request("GET", "https://www.facebook.com/tr/?id=42&ev=Purchase&ts=1&dl=https%3A%2F%2Fapotek.example.se%2Fx");
        let b = rec.beacon(&req, &Limits::default()).unwrap();
        assert_eq!(&*rec.vendors[b.vendor].id, "meta");
        assert_eq!(b.pixel_id.as_deref(), Some("42"));
        assert_eq!(b.event(0), Some("Purchase"));
        assert_eq!(b.site.as_deref(), Some("apotek.example.se"));
        let twin = &b.twin.as_ref().unwrap().1;
        assert!(
            twin.starts_with("42\u{1f}Purchase\u{1f}1\u{1f}"),
            "{twin:?}"
        );
    }

    #[test]
    fn twins_are_one_event_only_by_event_id_or_pixel_event_time_and_payload() {
        let rec = recognizer();
        let key = |u: &str| {
            rec.beacon(&request("GET", u), &Limits::default())
                .unwrap()
                .twin
                .map(|t| t.1)
        };
        let tr = "https://www.facebook.com/tr/?id=42&ev=Lead&ts=1700&udff[em]=aa&rqm=GET";
        let trigger = "https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?id=42&ev=Lead&ts=1700&udff[em]=aa&rqm=FGET";
        assert_eq!(key(tr), key(trigger), "the pair differs only in rqm");
        assert!(key(tr).is_some());
        // Same pixel, event and time, another payload: two events.
        assert_ne!(
            key(tr),
            key("https://www.facebook.com/tr/?id=42&ev=Lead&ts=1700&udff[em]=bb")
        );
        // Another event: never one.
        assert_ne!(key(tr), key("https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?id=42&ev=Purchase&ts=1700&udff[em]=aa"));
        // Nothing tells two events of the pixel apart: not a twin candidate at all.
        assert_eq!(key("https://www.facebook.com/tr/?id=42&udff[em]=aa"), None);
        // The event id decides alone.
        assert_eq!(
            key("https://www.facebook.com/tr/?id=42&ev=Lead&ts=1&eid=e-9"),
            key("https://www.facebook.com/privacy_sandbox/pixel/register/trigger/?id=42&ev=Lead&ts=2&eid=e-9&x=1")
        );
    }

    #[test]
    fn capi_pixel_from_path_and_events_from_body() {
        let rec = recognizer();
        let mut req = request("POST", "https://graph.facebook.com/v19.0/777/events");
        req.body = Some(br#"{"data":[{"event_name":"Lead","event_source_url":"https://a.example/"},{"event_name":"Purchase"}]}"#.to_vec());
        let b = rec.beacon(&req, &Limits::default()).unwrap();
        assert_eq!(b.pixel_id.as_deref(), Some("777"));
        assert_eq!(b.events, vec!["Lead", "Purchase"]);
        assert_eq!(b.site.as_deref(), Some("a.example"));
    }

    #[test]
    fn not_hits() {
        let rec = recognizer();
        for (m, u) in [
            ("GET", "https://connect.facebook.net/en_US/fbevents.js"),
            ("GET", "https://www.facebook.com/somepage"),
            ("GET", "https://graph.facebook.com/v19.0/777/events"),
            ("POST", "https://k.clarity.ms/g/collect"),
        ] {
            assert!(!rec.is_hit(&request(m, u)), "{u}");
        }
        assert!(rec.prefilter(b"GET https://WWW.FACEBOOK.COM/tr"));
        assert!(rec.prefilter(br#"{"url":"\/g\/collect?v=2"}"#));
        assert!(!rec.prefilter(b"GET https://cdn.example.com/app.js"));
    }
}
