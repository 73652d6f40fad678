//! The tables of fields. Each inventory section is declared once, with `section!`, as a list
//! of entries (name, Rust type, reader with its check, meaning); from that one list come the
//! section's struct, its reading, the names it allows (and so the "unknown field" messages)
//! and the description `sections()` gives to tests and to generated documentation. Adding a
//! field is one entry plus its use in the model.

use super::Spanned;
use super::checks::{Rule, TextSchema};
use super::tree::{Key, Node, Value};
use crate::diagnostics::{Collector, Location, did_you_mean, named};
use std::marker::PhantomData;

/// One section of the inventory as its table declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Where the section is: `settings`, `members.<key>`; empty for the top level.
    pub path: &'static str,
    pub fields: Vec<FieldSpec>,
}

impl Section {
    pub fn names(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.name).collect()
    }
}

/// One field of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// The entry's doc comment, one item per line.
    pub doc: &'static [&'static str],
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The inventory format version, an integer.
    Version,
    /// A string, checked by the field's rule (its JSON Schema form here).
    Text(TextSchema),
    /// One of the listed strings.
    Choice(Vec<&'static str>),
    Flag,
    /// A whole number of at least 1.
    Count,
    /// One of the listed whole numbers of days.
    Days(&'static [u64]),
    /// A list of strings, each checked by the field's rule; when written, with `min_items`
    /// to `max_items` entries, each listed once when `each_once`.
    TextList {
        item: TextSchema,
        each_once: bool,
        min_items: usize,
        max_items: Option<usize>,
    },
    /// A list of region names, each once; when written, at least one when `at_least_one`.
    Regions {
        at_least_one: bool,
    },
    /// A section of its own (its path).
    Section(&'static str),
    /// A table of at least one entry whose keys the user chooses (each following `key`),
    /// each holding a section (`section`, its path), with at least one field when
    /// `each_not_empty`.
    Keyed {
        section: &'static str,
        key: TextSchema,
        each_not_empty: bool,
    },
    /// A list of tables, each holding a section (its path).
    Sections(&'static str),
    /// A table of tag names to values.
    Tags,
    /// A table of names the user chooses (each following `key`) to texts (each following
    /// `value`).
    NamedTexts {
        key: TextSchema,
        value: TextSchema,
    },
}

/// Declares a section: its struct (with the attributes and doc comments given), the table
/// of its fields and how it is read. `given` fields are not read from the section's table
/// (a member's key is its name in `members`).
macro_rules! section {
    (
        $(#[$meta:meta])*
        pub struct $name:ident at $path:literal, read as $as_read:ident
            $(, given $given:ident : $given_ty:ty)* {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $reader:expr,
            )*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( pub $given: $given_ty, )*
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        /// Each field as far as it could be read on its own: `None` when a required field is
        /// missing or a field is refused (already reported).
        struct $as_read {
            $( $field: Option<$ty>, )*
        }

        impl $name {
            /// The names this section allows.
            const NAMES: &'static [&'static str] = &[$(stringify!($field)),*];

            /// This section's table of fields.
            pub fn section() -> $crate::inventory::fields::Section {
                use $crate::inventory::fields::{Section, spec};
                Section {
                    path: $path,
                    fields: vec![$(spec::<$ty, _>(stringify!($field), &$reader, &[$($doc),*])),*],
                }
            }

            /// Reads every field of the table, reporting each problem, then the fields that
            /// are unknown or missing.
            fn read(
                table: &mut $crate::inventory::fields::Table<'_>,
                d: &mut $crate::diagnostics::Collector,
            ) -> $as_read {
                use $crate::inventory::fields::Read;
                let read = $as_read {
                    $( $field: Read::read(&$reader, table, stringify!($field), d), )*
                };
                table.finish(Self::NAMES, d);
                read
            }
        }

        impl $as_read {
            /// The section, when every field could be read.
            #[allow(clippy::question_mark)]
            fn complete(self, $( $given: $given_ty ),*) -> Option<$name> {
                Some($name {
                    $( $given, )*
                    $( $field: self.$field?, )*
                })
            }
        }
    };
}

/// How one kind of field is read from a table. `None` means the field is unusable (required
/// and missing, or refused); an optional field that is absent reads as `Some(None)` or an
/// empty list.
pub(super) trait Read {
    type Output;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output>;
    fn kind(&self) -> Kind;
    fn required(&self) -> bool {
        false
    }
}

/// The table entry of a field read by `reader` into a `T`.
pub(super) fn spec<T, R: Read<Output = T>>(
    name: &'static str,
    reader: &R,
    doc: &'static [&'static str],
) -> FieldSpec {
    FieldSpec {
        name,
        kind: reader.kind(),
        required: reader.required(),
        doc,
    }
}

/// An optional string.
pub(super) struct Text(pub Rule);

impl Read for Text {
    type Output = Option<Spanned<String>>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        Some(t.checked_string(name, d, self.0.check))
    }
    fn kind(&self) -> Kind {
        Kind::Text(self.0.schema)
    }
}

/// A string that must be present.
pub(super) struct RequiredText(pub Rule);

impl Read for RequiredText {
    type Output = Spanned<String>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        t.required_string(name, d, self.0.check)
    }
    fn kind(&self) -> Kind {
        Kind::Text(self.0.schema)
    }
    fn required(&self) -> bool {
        true
    }
}

/// An optional `true` or `false`.
pub(super) struct Flag;

impl Read for Flag {
    type Output = Option<bool>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        Some(t.bool(name, d))
    }
    fn kind(&self) -> Kind {
        Kind::Flag
    }
}

/// An optional whole number of at least 1.
pub(super) struct Count;

impl Read for Count {
    type Output = Option<Spanned<u64>>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        Some(t.count(name, d))
    }
    fn kind(&self) -> Kind {
        Kind::Count
    }
}

/// An optional number of days, one of those listed.
pub(super) struct Days(pub &'static [u64]);

impl Read for Days {
    type Output = Option<Spanned<u64>>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        let days = t.count(name, d);
        if let Some(days) = &days
            && !self.0.contains(&days.value)
        {
            let allowed: Vec<String> = self.0.iter().map(u64::to_string).collect();
            d.report(
                &t.field(name),
                days.location,
                format!(
                    "{} days is not a period offered here; allowed: {}",
                    days.value,
                    allowed.join(", ")
                ),
            );
            return None;
        }
        Some(days)
    }
    fn kind(&self) -> Kind {
        Kind::Days(self.0)
    }
}

/// An optional list of checked strings (empty when absent).
pub(super) struct TextList(pub Rule);

impl Read for TextList {
    type Output = Vec<Spanned<String>>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        Some(t.string_list(name, d, self.0.check).unwrap_or_default())
    }
    fn kind(&self) -> Kind {
        Kind::TextList {
            item: self.0.schema,
            each_once: false,
            min_items: 0,
            max_items: None,
        }
    }
}

/// An optional list of checked strings, each once, that names at least one when written
/// (empty when absent): `noun` names one entry in messages, `when_empty` says why an empty
/// list is refused and what to do instead.
pub(super) struct DistinctTextList {
    pub rule: Rule,
    pub noun: &'static str,
    pub when_empty: &'static str,
}

impl Read for DistinctTextList {
    type Output = Vec<Spanned<String>>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        let list = t.distinct_list(name, d, self.rule.check, self.noun);
        t.refuse_empty(name, self.when_empty, d)?;
        Some(list.unwrap_or_default())
    }
    fn kind(&self) -> Kind {
        Kind::TextList {
            item: self.rule.schema,
            each_once: true,
            min_items: 1,
            max_items: None,
        }
    }
}

/// An optional table of names the user chooses to texts (empty when absent), each name and
/// each text checked by its rule.
pub(super) struct NamedTexts {
    pub key: Rule,
    pub value: Rule,
}

impl Read for NamedTexts {
    type Output = Vec<(Spanned<String>, Spanned<String>)>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        let path = t.field(name);
        let Some(node) = t.take(name) else {
            return Some(Vec::new());
        };
        let Value::Table(entries) = &node.value else {
            d.report(
                &path,
                node.location,
                format!(
                    "expected a table of names to texts, found {}",
                    node.value.kind()
                ),
            );
            return None;
        };
        let mut named = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (key, value) in entries {
            let key_location = key.location.or(value.location);
            let entry = join(&path, &path_key(&key.name));
            if let Err(message) = (self.key.check)(&key.name) {
                d.report(&entry, key_location, message);
                ok = false;
                continue;
            }
            match string(value, &entry, d) {
                Some(text) if check_field(&entry, &text, d, self.value.check) => named.push((
                    Spanned {
                        value: key.name.clone(),
                        location: key_location,
                    },
                    text,
                )),
                _ => ok = false,
            }
        }
        ok.then_some(named)
    }
    fn kind(&self) -> Kind {
        Kind::NamedTexts {
            key: self.key.schema,
            value: self.value.schema,
        }
    }
}

/// An optional list of regions, each once (empty when absent). With `when_empty`, a list
/// written empty is refused with that message (as written: not one whose entries were all
/// refused).
pub(super) struct Regions {
    pub when_empty: Option<&'static str>,
}

impl Read for Regions {
    type Output = Vec<Spanned<String>>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        let regions = t.regions(name, d).unwrap_or_default();
        if let Some(message) = self.when_empty {
            t.refuse_empty(name, message, d)?;
        }
        Some(regions)
    }
    fn kind(&self) -> Kind {
        Kind::Regions {
            at_least_one: self.when_empty.is_some(),
        }
    }
}

/// The strings a choice field allows, each with the value it reads as.
pub(super) trait Choices: Copy + 'static {
    const CHOICES: &'static [(&'static str, Self)];
    /// The message for a value that is none of them.
    fn refusal(written: &str) -> String;
}

/// An optional choice among `T::CHOICES`.
pub(super) struct Choice<T>(PhantomData<T>);

impl<T> Choice<T> {
    pub(super) const fn of() -> Self {
        Choice(PhantomData)
    }
}

impl<T: Choices> Read for Choice<T> {
    type Output = Option<T>;
    fn read(
        &self,
        t: &mut Table<'_>,
        name: &'static str,
        d: &mut Collector,
    ) -> Option<Self::Output> {
        let check = |v: &str| match T::CHOICES.iter().any(|(choice, _)| *choice == v) {
            true => Ok(()),
            false => Err(T::refusal(v)),
        };
        let written = t.checked_string(name, d, check);
        Some(written.and_then(|w| {
            T::CHOICES
                .iter()
                .find(|(choice, _)| *choice == w.value)
                .map(|(_, value)| *value)
        }))
    }
    fn kind(&self) -> Kind {
        Kind::Choice(T::CHOICES.iter().map(|(name, _)| *name).collect())
    }
}

/// A key as it appears in a field path: bare when TOML would write it bare (`tags.Owner`),
/// quoted otherwise (`tags."Cost Center"`).
pub(super) fn path_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// A table being read: remembers which keys were used so the rest can be reported as unknown.
pub(super) struct Table<'a> {
    path: String,
    location: Option<Location>,
    entries: &'a [(Key, Node)],
    used: Vec<bool>,
    /// Required fields that are absent.
    missing: Vec<String>,
}

impl<'a> Table<'a> {
    pub(super) fn open(node: &'a Node, path: &str, d: &mut Collector) -> Option<Table<'a>> {
        match &node.value {
            Value::Table(entries) => Some(Table {
                path: path.to_string(),
                location: node.location,
                entries,
                used: vec![false; entries.len()],
                missing: Vec::new(),
            }),
            other => {
                let what = if path.is_empty() {
                    "the inventory"
                } else {
                    path
                };
                d.report(
                    path,
                    node.location,
                    format!("expected {what} to be a table, found {}", other.kind()),
                );
                None
            }
        }
    }

    pub(super) fn take(&mut self, key: &str) -> Option<&'a Node> {
        let i = self.entries.iter().position(|(k, _)| k.name == key)?;
        self.used[i] = true;
        Some(&self.entries[i].1)
    }

    /// The node of a required field; `None` when it is absent (reported by `finish`, which
    /// knows whether it was misspelt).
    pub(super) fn take_required(&mut self, key: &str) -> Option<&'a Node> {
        if !self.has(key) {
            self.missing.push(key.to_string());
            return None;
        }
        self.take(key)
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.peek(key).is_some()
    }

    /// The node written for `key`, without taking it.
    pub(super) fn peek(&self, key: &str) -> Option<(&'a Key, &'a Node)> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, n)| (k, n))
    }

    pub(super) fn field(&self, key: &str) -> String {
        join(&self.path, key)
    }

    /// Reports unknown fields (with the allowed field each is a near miss of) and missing
    /// required fields, except one an unknown field already names (`regoin` for `region`:
    /// "missing" on top would only repeat it).
    pub(super) fn finish(&self, allowed: &[&str], d: &mut Collector) {
        let unknown = |key: &Key| !allowed.contains(&key.name.as_str());
        for missing in &self.missing {
            let misspelt = self.entries.iter().zip(&self.used).any(|((key, _), used)| {
                !used && unknown(key) && !did_you_mean(&key.name, [missing.as_str()]).is_empty()
            });
            if !misspelt {
                // Point at the table that lacks it.
                d.report(
                    &self.field(missing),
                    self.location,
                    "missing; this field is required",
                );
            }
        }
        for ((key, node), used) in self.entries.iter().zip(&self.used) {
            if !used {
                d.report(
                    &join(&self.path, &path_key(&key.name)),
                    key.location.or(node.location),
                    format!(
                        "unknown field {}{}; allowed: {}",
                        named(&key.name),
                        did_you_mean(&key.name, allowed.iter().copied()),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn checked_string(
        &mut self,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Spanned<String>> {
        let node = self.take(key)?;
        self.checked_node(node, key, d, check)
    }

    /// A string that must be present; `None` (after a report) when missing or invalid.
    fn required_string(
        &mut self,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Spanned<String>> {
        let node = self.take_required(key)?;
        self.checked_node(node, key, d, check)
    }

    fn checked_node(
        &self,
        node: &Node,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Spanned<String>> {
        let path = self.field(key);
        let value = string(node, &path, d)?;
        check_field(&path, &value, d, check).then_some(value)
    }

    fn bool(&mut self, key: &str, d: &mut Collector) -> Option<bool> {
        let node = self.take(key)?;
        match node.value {
            Value::Bool(b) => Some(b),
            ref other => {
                d.report(
                    &self.field(key),
                    node.location,
                    format!("expected true or false, found {}", other.kind()),
                );
                None
            }
        }
    }

    fn count(&mut self, key: &str, d: &mut Collector) -> Option<Spanned<u64>> {
        let node = self.take(key)?;
        match node.value {
            Value::Integer(n) if n >= 1 => Some(Spanned {
                value: n.unsigned_abs(),
                location: node.location,
            }),
            Value::Integer(n) => {
                d.report(
                    &self.field(key),
                    node.location,
                    format!("{n} is not a count; allowed: a whole number of at least 1"),
                );
                None
            }
            ref other => {
                d.report(
                    &self.field(key),
                    node.location,
                    format!("expected a whole number, found {}", other.kind()),
                );
                None
            }
        }
    }

    pub(super) fn string_list(
        &mut self,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Option<Vec<Spanned<String>>> {
        let node = self.take(key)?;
        // Paths only for messages: a valid list (one of thousands of region lists in a large
        // inventory) formats none.
        let path = || self.field(key);
        let Value::Array(items) = &node.value else {
            d.report(
                &path(),
                node.location,
                format!("expected a list of strings, found {}", node.value.kind()),
            );
            return None;
        };
        let mut values = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = || format!("{}[{i}]", path());
            match &item.value {
                Value::String(s) => match check(s) {
                    Ok(()) => values.push(Spanned {
                        value: s.clone(),
                        location: item.location,
                    }),
                    Err(message) => d.report(&item_path(), item.location, message),
                },
                _ => {
                    string(item, &item_path(), d);
                }
            }
        }
        Some(values)
    }

    /// A region list: every entry a known region, none twice.
    fn regions(&mut self, key: &str, d: &mut Collector) -> Option<Vec<Spanned<String>>> {
        self.distinct_list(key, d, super::checks::REGION.check, "region")
    }

    /// `None` (after reporting `message` of the count written) when `key` is written as a
    /// list whose number of entries is outside `allowed`; the entries are the list readers'.
    pub(super) fn refuse_count(
        &self,
        key: &str,
        allowed: std::ops::RangeInclusive<usize>,
        message: impl FnOnce(usize) -> String,
        d: &mut Collector,
    ) -> Option<()> {
        // Absent, or not a list (its reader reports that): nothing to count.
        let Some((_, list)) = self.peek(key) else {
            return Some(());
        };
        let Value::Array(items) = &list.value else {
            return Some(());
        };
        if allowed.contains(&items.len()) {
            return Some(());
        }
        d.report(&self.field(key), list.location, message(items.len()));
        None
    }

    /// `None` (after reporting `message`) when `key` is written as an empty list.
    pub(super) fn refuse_empty(&self, key: &str, message: &str, d: &mut Collector) -> Option<()> {
        self.refuse_count(key, 1..=usize::MAX, |_| message.to_string(), d)
    }

    /// A list of checked strings, each listed once; `noun` names one in the message.
    fn distinct_list(
        &mut self,
        key: &str,
        d: &mut Collector,
        check: impl Fn(&str) -> Result<(), String>,
        noun: &str,
    ) -> Option<Vec<Spanned<String>>> {
        let values = self.string_list(key, d, check)?;
        for (i, v) in values.iter().enumerate() {
            if let Some(first) = values[..i].iter().position(|p| p.value == v.value) {
                let path = self.field(key);
                d.report(
                    &format!("{path}[{i}]"),
                    v.location,
                    format!(
                        "{noun} {} is listed twice (also {path}[{first}]); list each {noun} once",
                        v.value
                    ),
                );
            }
        }
        Some(values)
    }
}

pub(super) fn string(node: &Node, path: &str, d: &mut Collector) -> Option<Spanned<String>> {
    match &node.value {
        Value::String(s) => Some(Spanned {
            value: s.clone(),
            location: node.location,
        }),
        Value::Integer(_) if path.ends_with("account_id") => {
            d.report(
                path,
                node.location,
                "expected a string of 12 digits, found an integer; quote it (\"012345678901\"): numbers lose leading zeros",
            );
            None
        }
        other => {
            d.report(
                path,
                node.location,
                format!("expected a string, found {}", other.kind()),
            );
            None
        }
    }
}

pub(super) fn check_field(
    path: &str,
    value: &Spanned<String>,
    d: &mut Collector,
    check: impl Fn(&str) -> Result<(), String>,
) -> bool {
    match check(&value.value) {
        Ok(()) => true,
        Err(message) => {
            d.report(path, value.location, message);
            false
        }
    }
}
