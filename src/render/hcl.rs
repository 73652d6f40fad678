//! A small HCL document writer that prints exactly the layout `tofu fmt` produces: two-space
//! indents, `=` aligned across runs of single-line attributes, one blank line between top-level
//! blocks. String literals are escaped (`quote`), so no inventory text can become code.

use std::borrow::Cow;
use std::fmt::Write;

/// Text of a document: borrowed from the model where it can be (a large root prints
/// thousands of account ids, regions and names), owned where fanin composes it.
pub type Text<'a> = Cow<'a, str>;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr<'a> {
    /// A string literal; escaped when printed (`"`, `\`, `${`, `%{`, control characters).
    Str(Text<'a>),
    Bool(bool),
    /// A whole number, printed in decimal.
    Number(u64),
    /// A reference such as `module.hub.topic_arn`, built by fanin from identifiers it
    /// checked; never from free text.
    Ref(Text<'a>),
    /// The reference `object.name`, or `object.name.attribute` (`aws.prod_us_east_1`,
    /// `module.prod_us_east_1.rule_arn`), printed from its parts: `name` is an identifier
    /// the model made.
    Member {
        object: &'static str,
        name: &'a str,
        attribute: Option<&'static str>,
    },
    List(Vec<Expr<'a>>),
    /// An object whose keys are printed bare when they are plain identifiers, quoted otherwise.
    Map(Vec<(Text<'a>, Expr<'a>)>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item<'a> {
    /// Attribute names are fanin's own, never from the inventory.
    Attr(&'static str, Expr<'a>),
    Block(Block<'a>),
    Blank,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Block<'a> {
    pub kind: &'static str,
    pub labels: Vec<&'a str>,
    pub body: Vec<Item<'a>>,
}

impl<'a> Block<'a> {
    pub fn new(kind: &'static str, labels: &[&'a str]) -> Block<'a> {
        Block {
            kind,
            labels: labels.to_vec(),
            body: Vec::new(),
        }
    }

    pub fn attr(mut self, key: &'static str, value: Expr<'a>) -> Block<'a> {
        self.body.push(Item::Attr(key, value));
        self
    }

    pub fn block(mut self, block: Block<'a>) -> Block<'a> {
        self.body.push(Item::Block(block));
        self
    }

    pub fn blank(mut self) -> Block<'a> {
        self.body.push(Item::Blank);
        self
    }
}

/// Lists longer than this print one element per line, like a person would write them.
const MAX_INLINE_LIST: usize = 3;

/// Prints top-level blocks separated by one blank line, after `header` (a comment line).
/// Each block is printed as it comes and dropped: a root with thousands of blocks never holds
/// them all, and its text is reserved once instead of regrown.
pub fn file<'a>(header: &str, blocks: impl IntoIterator<Item = Block<'a>>) -> String {
    let mut blocks = blocks.into_iter();
    let mut out = String::new();
    out.push_str(header);
    out.push('\n');
    let mut printed = 0;
    while let Some(block) = blocks.next() {
        let start = out.len();
        out.push('\n');
        print_block(&mut out, &block, 0);
        printed += 1;
        // The many blocks of a large file share one shape (providers, spokes), but the first
        // may have another (the hub's module): the second one's size, times the blocks left,
        // is close to what the rest need. A quarter more covers longer names (a region or a
        // key longer than the second block's): falling short would double the text, while
        // reserved bytes never written cost no memory.
        if printed == 2 {
            let rest = (out.len() - start) * blocks.size_hint().0;
            out.reserve(rest + rest / 4);
        }
    }
    out
}

/// A string literal, escaped as hcl-rs escapes it (`"`, `\\`, control characters) but with
/// every `${` and `%{` doubled: hcl-rs 0.20 (hcl-primitives' `escape_markers`) leaves a marker
/// live after an earlier one when a `%` or `$` precedes it (`${a}%${path.cwd}` kept
/// `%${path.cwd}` as an interpolation).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    quote_into(&mut out, s);
    out
}

/// `quote`, appended to `out`.
fn quote_into(out: &mut String, s: &str) {
    // Most strings (ids, regions, ARNs, names) need no escape: copied whole.
    let plain = |b: u8| b >= 0x20 && !matches!(b, b'"' | b'\\' | b'$' | b'%');
    if s.bytes().all(plain) {
        out.push('"');
        out.push_str(s);
        out.push('"');
        return;
    }
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0'..='\u{1f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

pub fn is_identifier(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        // An object whose first key is a bare `for` is read as a `for` expression.
        && !matches!(s, "true" | "false" | "null" | "for")
}

fn push_pad(out: &mut String, indent: usize) {
    push_spaces(out, indent * 2);
}

fn push_spaces(out: &mut String, count: usize) {
    const SPACES: &str = "                                ";
    let mut left = count;
    while left > 0 {
        let run = left.min(SPACES.len());
        out.push_str(&SPACES[..run]);
        left -= run;
    }
}

fn print_block(out: &mut String, block: &Block, indent: usize) {
    push_pad(out, indent);
    out.push_str(block.kind);
    for label in &block.labels {
        out.push(' ');
        quote_into(out, label);
    }
    out.push_str(" {\n");
    print_body(out, &block.body, indent + 1);
    push_pad(out, indent);
    out.push_str("}\n");
}

fn print_body(out: &mut String, items: &[Item], indent: usize) {
    let mut i = 0;
    while i < items.len() {
        match &items[i] {
            Item::Blank => {
                out.push('\n');
                i += 1;
            }
            Item::Block(b) => {
                print_block(out, b, indent);
                i += 1;
            }
            Item::Attr(..) => {
                // A run of attributes: single-line ones align their `=`, a multi-line one
                // stands alone (fmt does not align a line that opens a bracket).
                let run_end = items[i..]
                    .iter()
                    .position(|it| !matches!(it, Item::Attr(..)))
                    .map_or(items.len(), |n| i + n);
                print_attributes(out, &items[i..run_end], indent);
                i = run_end;
            }
        }
    }
}

/// A `key = value` line's parts: a block's attribute or an object's entry.
trait Entry {
    fn key(&self) -> &str;
    fn value(&self) -> &Expr<'_>;
}

impl Entry for Item<'_> {
    fn key(&self) -> &str {
        match self {
            Item::Attr(key, _) => key,
            _ => unreachable!("print_body passes runs of attributes only"),
        }
    }

    fn value(&self) -> &Expr<'_> {
        match self {
            Item::Attr(_, value) => value,
            _ => unreachable!("print_body passes runs of attributes only"),
        }
    }
}

impl Entry for (Text<'_>, Expr<'_>) {
    fn key(&self) -> &str {
        &self.0
    }

    fn value(&self) -> &Expr<'_> {
        &self.1
    }
}

fn push_key(out: &mut String, key: &str) {
    if is_identifier(key) {
        out.push_str(key);
    } else {
        quote_into(out, key);
    }
}

/// How many characters `push_key` prints for `key`.
fn key_width(key: &str) -> usize {
    if is_identifier(key) {
        key.len() // ASCII only
    } else {
        quote(key).chars().count()
    }
}

/// Prints attributes (or object entries), aligning `=` within each group of consecutive
/// single-line ones. Printed straight into `out`: this is most of generate's work for a
/// large inventory.
fn print_attributes(out: &mut String, attrs: &[impl Entry], indent: usize) {
    let mut start = 0;
    while start < attrs.len() {
        if !is_inline(attrs[start].value()) {
            push_pad(out, indent);
            push_key(out, attrs[start].key());
            out.push_str(" = ");
            print_multiline(out, attrs[start].value(), indent);
            start += 1;
            continue;
        }
        let end = (start..attrs.len())
            .find(|&j| !is_inline(attrs[j].value()))
            .unwrap_or(attrs.len());
        let width = attrs[start..end]
            .iter()
            .map(|a| key_width(a.key()))
            .max()
            .unwrap_or(0);
        for attr in &attrs[start..end] {
            push_pad(out, indent);
            let key_start = out.len();
            push_key(out, attr.key());
            push_spaces(out, width - out[key_start..].chars().count());
            out.push_str(" = ");
            push_inline(out, attr.value());
            out.push('\n');
        }
        start = end;
    }
}

/// Whether a value prints on a single line.
fn is_inline(expr: &Expr) -> bool {
    match expr {
        Expr::Str(_) | Expr::Bool(_) | Expr::Number(_) | Expr::Ref(_) | Expr::Member { .. } => true,
        Expr::List(items) => items.len() <= MAX_INLINE_LIST && items.iter().all(is_inline),
        Expr::Map(entries) => entries.is_empty(),
    }
}

/// Prints the single-line form of a value (`is_inline`).
fn push_inline(out: &mut String, expr: &Expr) {
    match expr {
        Expr::Str(s) => quote_into(out, s),
        Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Expr::Number(n) => out.push_str(&n.to_string()),
        Expr::Ref(r) => out.push_str(r),
        Expr::Member {
            object,
            name,
            attribute,
        } => {
            out.push_str(object);
            out.push('.');
            out.push_str(name);
            if let Some(attribute) = attribute {
                out.push('.');
                out.push_str(attribute);
            }
        }
        Expr::List(items) => {
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                push_inline(out, item);
            }
            out.push(']');
        }
        Expr::Map(_) => out.push_str("{}"),
    }
}

/// Prints a multi-line value whose first line (`key = `) is already written.
fn print_multiline(out: &mut String, expr: &Expr, indent: usize) {
    match expr {
        Expr::List(items) => {
            out.push_str("[\n");
            for item in items {
                assert!(is_inline(item), "fanin emits lists of scalars only");
                push_pad(out, indent + 1);
                push_inline(out, item);
                out.push_str(",\n");
            }
            push_pad(out, indent);
            out.push_str("]\n");
        }
        Expr::Map(entries) => {
            out.push_str("{\n");
            print_attributes(out, entries, indent + 1);
            push_pad(out, indent);
            out.push_str("}\n");
        }
        _ => unreachable!("scalars are always inline"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_runs_and_breaks_at_multiline_values() {
        let block = Block::new("module", &["x"])
            .attr("source", Expr::Str("./m".into()))
            .attr(
                "providers",
                Expr::Map(vec![("aws".into(), Expr::Ref("aws.a".into()))]),
            )
            .attr("ab", Expr::Bool(true))
            .attr("long_name", Expr::Bool(false));
        let text = file("# header", [block]);
        assert_eq!(
            text,
            "# header\n\nmodule \"x\" {\n  source = \"./m\"\n  providers = {\n    aws = aws.a\n  }\n  ab        = true\n  long_name = false\n}\n"
        );
    }

    #[test]
    fn escapes_template_sequences_and_quotes_odd_keys() {
        let block = Block::new("x", &[]).attr(
            "tags",
            Expr::Map(vec![
                ("Cost Center".into(), Expr::Str("${a}%{b}\"\\\n".into())),
                ("null".into(), Expr::Str("v".into())),
                ("for".into(), Expr::Str("w".into())),
            ]),
        );
        let text = file("#", [block]);
        assert!(
            text.contains(r#""Cost Center" = "$${a}%%{b}\"\\\n""#),
            "{text}"
        );
        assert!(text.contains(r#""null"        = "v""#), "{text}");
        assert!(text.contains(r#""for"         = "w""#), "{text}");
    }

    #[test]
    fn quote_escapes_every_marker_and_matches_hcl_rs_elsewhere() {
        for (raw, quoted) in [
            ("${a}%${path.cwd}", r#""$${a}%$${path.cwd}""#),
            ("${a}$%{ if x }", r#""$${a}$%%{ if x }""#),
            ("%%{b}$${c}", r#""%%%{b}$$${c}""#),
            ("$$${", r#""$$$${""#),
        ] {
            assert_eq!(quote(raw), quoted);
            assert_eq!(
                hcl::parse(&format!("a = {quoted}"))
                    .unwrap()
                    .attributes()
                    .next()
                    .unwrap()
                    .expr,
                hcl::Expression::String(raw.into())
            );
        }
        for s in ["plain", "a\"b\\c\n\r\t\u{1}\u{1f}\u{7f}é日", "$ % { } $%"] {
            let hcl_rs = hcl::format::to_string(&hcl::Expression::String(s.into())).unwrap();
            assert_eq!(quote(s), hcl_rs);
        }
    }
}
