//! A format-neutral document tree with source positions. TOML, YAML and JSON inventories are
//! all read into this tree first, so that the typed reading (`fields.rs`, `read.rs`) can
//! report every problem of a file at once (serde stops at the first) and point at its line
//! and column.

use crate::diagnostics::Location;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    String(String),
    Integer(i64),
    Float(f64),
    Bool(bool),
    Array(Vec<Node>),
    /// Keys in file order; duplicates are refused by every parser (or our visitors).
    Table(Vec<(Key, Node)>),
    /// A value that fanin never accepts (TOML datetime, YAML null); the name is for messages.
    Other(&'static str),
}

/// A table key with the position where it is written, so that problems with the key itself
/// (unknown field, invalid account key) point at the key rather than at its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub location: Option<Location>,
}

impl Value {
    /// What a user would call this kind of value, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::String(_) => "a string",
            Value::Integer(_) => "an integer",
            Value::Float(_) => "a float",
            Value::Bool(_) => "a boolean",
            Value::Array(_) => "a list",
            Value::Table(_) => "a table",
            Value::Other(name) => name,
        }
    }
}

/// A syntax error: the file could not be read as its format at all.
#[derive(Debug)]
pub struct SyntaxError {
    pub location: Option<Location>,
    pub message: String,
}

/// Turns byte offsets into 1-based line and column (in characters).
struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    fn locate(&self, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        Location {
            line: line + 1,
            column,
        }
    }
}

pub fn parse_toml(text: &str) -> Result<Node, SyntaxError> {
    use toml::de::{DeTable, DeValue};
    let index = LineIndex::new(text);
    let root = DeTable::parse(text).map_err(|e| {
        let mut message = e.message().trim_end().to_string();
        // toml says only "duplicate key"; name it.
        if message == "duplicate key"
            && let Some(key) = e.span().and_then(|s| text.get(s))
        {
            message = format!("duplicate key {}", crate::diagnostics::named(key.trim()));
        }
        SyntaxError {
            location: e.span().map(|s| index.locate(s.start)),
            message,
        }
    })?;

    fn convert(value: &toml::Spanned<DeValue<'_>>, index: &LineIndex<'_>) -> Node {
        let location = Some(index.locate(value.span().start));
        let value = match value.get_ref() {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                let digits = digits
                    .trim_start_matches(['+'])
                    .trim_start_matches("0x")
                    .trim_start_matches("0o")
                    .trim_start_matches("0b");
                match i64::from_str_radix(digits, i.radix()) {
                    Ok(n) => Value::Integer(n),
                    Err(_) => Value::Other("an integer out of range"),
                }
            }
            DeValue::Float(_) => Value::Float(f64::NAN),
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(_) => Value::Other("a date-time"),
            DeValue::Array(items) => {
                Value::Array(items.iter().map(|v| convert(v, index)).collect())
            }
            DeValue::Table(table) => {
                // toml's map is sorted by key; put the entries back in file order.
                let mut entries: Vec<_> = table.iter().collect();
                entries.sort_by_key(|(k, _)| k.span().start);
                Value::Table(
                    entries
                        .into_iter()
                        .map(|(k, v)| {
                            let key = Key {
                                name: k.get_ref().to_string(),
                                location: Some(index.locate(k.span().start)),
                            };
                            (key, convert(v, index))
                        })
                        .collect(),
                )
            }
        };
        Node { value, location }
    }

    let span = root.span();
    let table = toml::Spanned::new(span, DeValue::Table(root.into_inner()));
    Ok(convert(&table, &index))
}

pub fn parse_json(text: &str) -> Result<Node, SyntaxError> {
    // Read through our own visitor rather than `serde_json::Value`, whose map is sorted and
    // silently keeps the last of two equal keys (a second "prod" member would replace the
    // first without a word).
    let node: json::JsonNode = serde_json::from_str(text).map_err(|e| SyntaxError {
        location: Some(Location {
            line: e.line(),
            column: e.column(),
        }),
        message: strip_position(&e.to_string()),
    })?;
    // serde_json keeps no positions for values; only syntax errors have them.
    Ok(node.0)
}

/// The keys already read in one table, for the JSON and YAML readers: both formats allow
/// duplicate keys at the parser level, and an inventory must not.
#[derive(Default)]
struct UniqueKeys(std::collections::HashSet<String>);

impl UniqueKeys {
    /// A set, not a scan of the entries: 100 000 keys fit in an inventory-sized file.
    fn insert<E: serde::de::Error>(&mut self, name: &str) -> Result<(), E> {
        if self.0.insert(name.to_string()) {
            Ok(())
        } else {
            Err(E::custom(format!(
                "duplicate key {}",
                crate::diagnostics::named(name)
            )))
        }
    }
}

mod json {
    use super::{Key, Node, UniqueKeys, Value};
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    pub struct JsonNode(pub Node);

    fn node(value: Value) -> JsonNode {
        JsonNode(Node {
            value,
            location: None,
        })
    }

    impl<'de> Deserialize<'de> for JsonNode {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(JsonVisitor)
        }
    }

    struct JsonVisitor;

    impl<'de> Visitor<'de> for JsonVisitor {
        type Value = JsonNode;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<JsonNode, E> {
            Ok(node(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<JsonNode, E> {
            Ok(node(Value::Integer(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<JsonNode, E> {
            Ok(node(match i64::try_from(v) {
                Ok(i) => Value::Integer(i),
                Err(_) => Value::Other("an integer out of range"),
            }))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<JsonNode, E> {
            Ok(node(Value::Float(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<JsonNode, E> {
            Ok(node(Value::String(v.to_string())))
        }
        fn visit_unit<E: de::Error>(self) -> Result<JsonNode, E> {
            Ok(node(Value::Other("null")))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonNode, A::Error> {
            let mut items = Vec::new();
            while let Some(JsonNode(item)) = seq.next_element()? {
                items.push(item);
            }
            Ok(node(Value::Array(items)))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonNode, A::Error> {
            let mut entries: Vec<(Key, Node)> = Vec::new();
            let mut names = UniqueKeys::default();
            while let Some(name) = map.next_key::<String>()? {
                names.insert(&name)?;
                let JsonNode(value) = map.next_value()?;
                let key = Key {
                    name,
                    location: None,
                };
                entries.push((key, value));
            }
            Ok(node(Value::Table(entries)))
        }
    }
}

/// serde_json appends " at line X column Y"; we print the position ourselves.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

pub fn parse_yaml(text: &str) -> Result<Node, SyntaxError> {
    let parsed: yaml::SpannedNode = serde_saphyr::from_str(text).map_err(|e| SyntaxError {
        location: e.location().filter(|l| l.line() > 0).map(|l| Location {
            line: l.line() as usize,
            column: l.column() as usize,
        }),
        message: yaml_message(&e.to_string()),
    })?;
    Ok(parsed.into_node())
}

/// serde-saphyr renders "error: line X column Y: <what>" and may add advice about its own
/// options; keep only what is wrong, the position is printed by the diagnostic.
fn yaml_message(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or("invalid YAML");
    let mut message = first.strip_prefix("error: ").unwrap_or(first);
    if message.starts_with("line ")
        && let Some((_, rest)) = message.split_once(": ")
    {
        message = rest;
    }
    message
        .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
        .trim()
        .to_string()
}

/// YAML nodes read through serde-saphyr's `Spanned`, which carries the line and column of
/// every value.
mod yaml {
    use super::{Key, Node, UniqueKeys, Value};
    use crate::diagnostics::Location;
    use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::fmt;

    pub struct SpannedNode(serde_saphyr::Spanned<Raw>);

    pub enum Raw {
        Value(Value),
        Array(Vec<SpannedNode>),
        Table(Vec<(Key, SpannedNode)>),
    }

    fn location(loc: serde_saphyr::Location) -> Option<Location> {
        (loc.line() > 0).then(|| Location {
            line: loc.line() as usize,
            column: loc.column() as usize,
        })
    }

    impl SpannedNode {
        pub fn into_node(self) -> Node {
            let location = location(self.0.referenced);
            let value = match self.0.value {
                Raw::Value(v) => v,
                Raw::Array(items) => {
                    Value::Array(items.into_iter().map(SpannedNode::into_node).collect())
                }
                Raw::Table(entries) => Value::Table(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k, v.into_node()))
                        .collect(),
                ),
            };
            Node { value, location }
        }
    }

    impl<'de> Deserialize<'de> for SpannedNode {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde_saphyr::Spanned::<Raw>::deserialize(d).map(SpannedNode)
        }
    }

    impl<'de> Deserialize<'de> for Raw {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(RawVisitor)
        }
    }

    struct RawVisitor;

    impl<'de> Visitor<'de> for RawVisitor {
        type Value = Raw;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a YAML value")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Raw, E> {
            Ok(Raw::Value(Value::Bool(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Raw, E> {
            Ok(Raw::Value(Value::Integer(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Raw, E> {
            Ok(Raw::Value(match i64::try_from(v) {
                Ok(i) => Value::Integer(i),
                Err(_) => Value::Other("an integer out of range"),
            }))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Raw, E> {
            Ok(Raw::Value(Value::Float(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Raw, E> {
            Ok(Raw::Value(Value::String(v.to_string())))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Raw, E> {
            Ok(Raw::Value(Value::String(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Raw, E> {
            Ok(Raw::Value(Value::Other("null")))
        }
        fn visit_none<E: de::Error>(self) -> Result<Raw, E> {
            Ok(Raw::Value(Value::Other("null")))
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<SpannedNode>()? {
                items.push(item);
            }
            Ok(Raw::Array(items))
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
            let mut entries: Vec<(Key, SpannedNode)> = Vec::new();
            let mut names = UniqueKeys::default();
            while let Some(key) = map.next_key::<serde_saphyr::Spanned<KeyString>>()? {
                let value = map.next_value::<SpannedNode>()?;
                let name = key.value.0;
                names.insert(&name)?;
                let key = Key {
                    name,
                    location: location(key.referenced),
                };
                entries.push((key, value));
            }
            Ok(Raw::Table(entries))
        }
    }

    /// Map keys: YAML allows non-string keys; an inventory's keys are names, so numbers and
    /// booleans are read as their text (a member called `123` is then refused by name rules).
    struct KeyString(String);

    impl<'de> Deserialize<'de> for KeyString {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = KeyString;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a key")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyString, E> {
                    Ok(KeyString(v.to_string()))
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyString, E> {
                    Ok(KeyString(v.to_string()))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyString, E> {
                    Ok(KeyString(v.to_string()))
                }
                fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyString, E> {
                    Ok(KeyString(v.to_string()))
                }
            }
            d.deserialize_any(V)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        match &node.value {
            Value::Table(t) => &t.iter().find(|(k, _)| k.name == key).expect(key).1,
            other => panic!("expected table, got {other:?}"),
        }
    }

    #[test]
    fn toml_values_carry_line_and_column() {
        let node = parse_toml("version = 1\n\n[hub]\naccount_id = \"1\"\n").unwrap();
        let id = get(get(&node, "hub"), "account_id");
        assert_eq!(
            id.location,
            Some(Location {
                line: 4,
                column: 14
            })
        );
    }

    #[test]
    fn yaml_values_carry_line_and_column() {
        let node = parse_yaml("version: 1\nhub:\n  account_id: \"1\"\n").unwrap();
        let id = get(get(&node, "hub"), "account_id");
        assert_eq!(id.value, Value::String("1".into()));
        assert_eq!(id.location.map(|l| l.line), Some(3));
    }

    #[test]
    fn json_syntax_error_has_position() {
        let err = parse_json("{\n  \"version\": ,\n}").unwrap_err();
        assert_eq!(err.location.map(|l| l.line), Some(2));
    }
}
