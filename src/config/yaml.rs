//! The YAML reader: turns text into a small tree of positioned nodes. This file is the only
//! place that names the YAML crate (yaml-rust2, whose event parser gives a position for every
//! event); replacing the crate means rewriting [`read`] and nothing else.
//!
//! Scalars keep their source text and whether they were quoted, so that the walker can tell
//! `012345678901` (a number to YAML, which would lose its leading zero) from `"012345678901"`.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::model::{Diagnostic, Span};

/// Nesting deeper than this is refused (the file format needs five levels); it also bounds the
/// recursion of dropping the tree.
const MAX_DEPTH: usize = 64;
/// Aliases are expanded by copying; this bounds the nodes copied (a "billion laughs" document).
/// Nodes written out in the text need no bound: there are fewer of them than characters.
const MAX_ALIAS_NODES: usize = 250_000;

/// One node of the document, with the position it starts at.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    pub span: Span,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

/// A scalar as written: its text (after unquoting) and how it was written.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scalar {
    pub text: String,
    /// `true` when quoted or a block scalar (`|`, `>`), or tagged `!!str`: always a string.
    pub quoted: bool,
    /// A core-schema tag other than `!!str` (`!!int`, `!!null`, ...), forcing that reading.
    pub core_tag: Option<String>,
}

/// What a scalar means under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ScalarType {
    Null,
    Bool(bool),
    Int,
    Float,
    Str,
}

impl Scalar {
    pub fn resolve(&self) -> ScalarType {
        if self.quoted {
            return ScalarType::Str;
        }
        let t = self.text.as_str();
        match self.core_tag.as_deref() {
            Some("null") => return ScalarType::Null,
            Some("bool") => {
                return match t {
                    "true" | "True" | "TRUE" => ScalarType::Bool(true),
                    "false" | "False" | "FALSE" => ScalarType::Bool(false),
                    _ => ScalarType::Str,
                };
            }
            Some("int") => return ScalarType::Int,
            Some("float") => return ScalarType::Float,
            _ => {}
        }
        resolve_plain(t)
    }
}

/// The YAML 1.2 core schema's reading of a plain scalar.
pub(super) fn resolve_plain(t: &str) -> ScalarType {
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarType::Null,
        "true" | "True" | "TRUE" => return ScalarType::Bool(true),
        "false" | "False" | "FALSE" => return ScalarType::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarType::Float,
        _ => {}
    }
    if is_core_int(t) {
        return ScalarType::Int;
    }
    if is_core_float(t) {
        return ScalarType::Float;
    }
    ScalarType::Str
}

fn all_digits(s: &str, radix: u32) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_digit(radix))
}

fn is_core_int(t: &str) -> bool {
    if let Some(oct) = t.strip_prefix("0o") {
        return all_digits(oct, 8);
    }
    if let Some(hex) = t.strip_prefix("0x") {
        return all_digits(hex, 16);
    }
    let unsigned = t.strip_prefix(['-', '+']).unwrap_or(t);
    all_digits(unsigned, 10)
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_core_float(t: &str) -> bool {
    let s = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => all_digits(frac, 10),
        Some((int, frac)) => all_digits(int, 10) && frac.chars().all(|c| c.is_ascii_digit()),
        None => all_digits(mantissa, 10),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => all_digits(e.strip_prefix(['-', '+']).unwrap_or(e), 10),
    };
    mantissa_ok && exponent_ok
}

/// Maps the parser's character positions to byte offsets.
struct Positions<'a> {
    source: &'a str,
    /// Byte offset of every character, when the source is not ASCII.
    char_offsets: Option<Vec<usize>>,
    /// Bytes stripped from the front (a byte-order mark).
    base: usize,
}

impl<'a> Positions<'a> {
    fn new(source: &'a str, base: usize) -> Self {
        let char_offsets = (!source.is_ascii()).then(|| {
            source
                .char_indices()
                .map(|(i, _)| i)
                .chain(std::iter::once(source.len()))
                .collect()
        });
        Positions {
            source,
            char_offsets,
            base,
        }
    }

    /// The position of the tag (`!name`) written before the node at `node`, on the same line;
    /// the parser marks tagged nodes at their content.
    fn tag_span(&self, node: Span) -> Span {
        let end = node.offset.saturating_sub(self.base).min(self.source.len());
        let Some(before) = self.source.get(..end) else {
            return node;
        };
        let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        match before[line_start..].rfind('!') {
            Some(bang) => {
                // The tag starts at the first '!' of its run (`!!str`).
                let head = before[line_start..line_start + bang].trim_end_matches('!');
                let start = line_start + head.len();
                Span {
                    offset: self.base + start,
                    line: node.line,
                    column: u32::try_from(before[line_start..start].chars().count() + 1)
                        .unwrap_or(node.column),
                }
            }
            None => node,
        }
    }

    fn span(&self, m: &Marker) -> Span {
        let offset = match &self.char_offsets {
            None => m.index().min(self.source.len()),
            Some(table) => table.get(m.index()).copied().unwrap_or(self.source.len()),
        };
        Span {
            offset: self.base + offset,
            line: u32::try_from(m.line().max(1)).unwrap_or(u32::MAX),
            column: u32::try_from(m.col() + 1).unwrap_or(u32::MAX),
        }
    }
}

/// A collection being built.
enum Frame {
    Seq {
        span: Span,
        anchor: usize,
        items: Vec<Node>,
        /// Nodes in the items, at any depth.
        size: usize,
    },
    Map {
        span: Span,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        size: usize,
    },
}

/// What reading the text gave: the single document's root node (`None` for an empty document).
pub(super) type Document = Option<Node>;

/// Reads `source` as one YAML document. A syntax error stops the reading: the parser cannot
/// recover, so it is the only diagnostic.
pub(super) fn read(source: &str) -> Result<Document, Diagnostic> {
    let (text, base) = match source.strip_prefix('\u{feff}') {
        Some(rest) => (rest, '\u{feff}'.len_utf8()),
        None => (source, 0),
    };
    let mut reader = Reader {
        positions: Positions::new(text, base),
        stack: Vec::new(),
        anchors: HashMap::new(),
        root: None,
        documents: 0,
        copied: 0,
    };
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(e) => {
                let span = reader.positions.span(e.marker());
                return Err(syntax_error(span, e.info()));
            }
        };
        if matches!(event, Event::StreamEnd) {
            break;
        }
        let span = reader.positions.span(&mark);
        if let Some(done) = reader.event(event, span)? {
            reader.attach(done);
        }
    }
    Ok(reader.root)
}

/// A finished node, the anchor it defines (0: none) and how many nodes it holds.
type Finished = (Node, usize, usize);

/// The state of one [`read`]: the collections being built, the anchors seen so far.
struct Reader<'a> {
    positions: Positions<'a>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    root: Option<Node>,
    documents: usize,
    /// Nodes copied by aliases so far (bounded: the "billion laughs").
    copied: usize,
}

impl Reader<'_> {
    /// Handles one parser event; returns the node it finished, if any.
    fn event(&mut self, event: Event, span: Span) -> Result<Option<Finished>, Diagnostic> {
        match event {
            Event::StreamEnd | Event::Nothing | Event::StreamStart | Event::DocumentEnd => Ok(None),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(Diagnostic::error(
                        span,
                        "the file holds more than one YAML document",
                    )
                    .with_hint("keep everything in the first document, above the `---` line"));
                }
                Ok(None)
            }
            Event::Alias(id) => self.alias(id, span).map(Some),
            Event::Scalar(text, style, anchor, tag) => {
                self.scalar(text, style, anchor, tag, span).map(Some)
            }
            Event::SequenceStart(anchor, ref tag) | Event::MappingStart(anchor, ref tag) => {
                let is_seq = matches!(event, Event::SequenceStart(..));
                self.open(is_seq, anchor, tag.as_ref(), span).map(|()| None)
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span).map(Some),
        }
    }

    fn alias(&mut self, id: usize, span: Span) -> Result<Finished, Diagnostic> {
        let Some((node, size)) = self.anchors.get(&id) else {
            return Err(Diagnostic::error(
                span,
                "this alias refers to an anchor that is not complete yet",
            ));
        };
        self.copied = self.copied.saturating_add(*size);
        if self.copied > MAX_ALIAS_NODES {
            return Err(Diagnostic::error(
                span,
                format!("aliases in this file expand to more than {MAX_ALIAS_NODES} nodes"),
            )
            .with_hint("an alias (`*name`) copies what its anchor names; use fewer of them"));
        }
        let mut node = node.clone();
        node.span = span;
        Ok((node, 0, *size))
    }

    fn scalar(
        &self,
        text: String,
        style: TScalarStyle,
        anchor: usize,
        tag: Option<Tag>,
        span: Span,
    ) -> Result<Finished, Diagnostic> {
        let (quoted, core_tag) = match tag {
            None => (!matches!(style, TScalarStyle::Plain), None),
            Some(tag) => match core_tag(&tag) {
                Some("str") => (true, None),
                Some(name @ ("null" | "bool" | "int" | "float")) => {
                    (!matches!(style, TScalarStyle::Plain), Some(name.to_owned()))
                }
                _ => return Err(unsupported_tag(self.positions.tag_span(span), &tag)),
            },
        };
        let scalar = Scalar {
            text,
            quoted,
            core_tag,
        };
        let node = Node {
            span,
            kind: Kind::Scalar(scalar),
        };
        Ok((node, anchor, 1))
    }

    /// A sequence or mapping starts.
    fn open(
        &mut self,
        is_seq: bool,
        anchor: usize,
        tag: Option<&Tag>,
        span: Span,
    ) -> Result<(), Diagnostic> {
        if let Some(tag) = tag
            && !matches!(core_tag(tag), Some("seq" | "map"))
        {
            return Err(unsupported_tag(self.positions.tag_span(span), tag));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(Diagnostic::error(
                span,
                format!("the document is nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.stack.push(if is_seq {
            Frame::Seq {
                span,
                anchor,
                items: Vec::new(),
                size: 0,
            }
        } else {
            Frame::Map {
                span,
                anchor,
                entries: Vec::new(),
                key: None,
                size: 0,
            }
        });
        Ok(())
    }

    /// The innermost sequence or mapping ends.
    fn close(&mut self, span: Span) -> Result<Finished, Diagnostic> {
        match self.stack.pop() {
            Some(Frame::Seq {
                span,
                anchor,
                items,
                size,
            }) => {
                let node = Node {
                    span,
                    kind: Kind::Seq(items),
                };
                Ok((node, anchor, size + 1))
            }
            Some(Frame::Map {
                span,
                anchor,
                entries,
                size,
                ..
            }) => {
                // A block mapping's start event is marked after its first key: start at the key.
                let span = entries
                    .first()
                    .map_or(span, |(k, _)| if k.span < span { k.span } else { span });
                let node = Node {
                    span,
                    kind: Kind::Map(entries),
                };
                Ok((node, anchor, size + 1))
            }
            None => Err(syntax_error(span, "unbalanced end of a collection")),
        }
    }

    /// Puts a finished node where it belongs: the root, the next item of a sequence, or the key
    /// or value of a mapping entry.
    fn attach(&mut self, (node, anchor, size): Finished) {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq {
                items, size: total, ..
            }) => {
                *total = total.saturating_add(size);
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                key,
                size: total,
                ..
            }) => {
                *total = total.saturating_add(size);
                match key.take() {
                    None => *key = Some(node),
                    Some(k) => {
                        let mut value = node;
                        // An empty value (`key:`) is marked where the next token starts: point at the key.
                        if let Kind::Scalar(s) = &value.kind
                            && s.text.is_empty()
                            && !s.quoted
                            && value.span > k.span
                        {
                            value.span = k.span;
                        }
                        entries.push((k, value));
                    }
                }
            }
        }
    }
}

/// `str`, `int`, ... for a tag of the YAML core schema (`!!str`), `None` for any other tag.
fn core_tag(tag: &Tag) -> Option<&str> {
    (tag.handle == "tag:yaml.org,2002:").then_some(tag.suffix.as_str())
}

fn unsupported_tag(span: Span, tag: &Tag) -> Diagnostic {
    let shown = if tag.handle == "tag:yaml.org,2002:" {
        format!("!!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    };
    Diagnostic::error(span, format!("unsupported YAML tag `{shown}`"))
        .with_hint("remove the tag; only `!!str` is useful in this file")
}

fn syntax_error(span: Span, info: &str) -> Diagnostic {
    let info = info.trim_end_matches('.');
    let d = Diagnostic::error(span, format!("invalid YAML: {info}"));
    if info.contains("tab") {
        d.with_hint("indent with spaces; YAML does not allow tabs for indentation")
    } else if info.contains("mapping values are not allowed") {
        d.with_hint("a value containing `: ` must be quoted, or a nested mapping must start on its own line")
    } else {
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar_type(text: &str) -> ScalarType {
        resolve_plain(text)
    }

    #[test]
    fn plain_scalars_resolve_like_the_core_schema() {
        use ScalarType::*;
        for (text, want) in [
            ("", Null),
            ("~", Null),
            ("null", Null),
            ("true", Bool(true)),
            ("False", Bool(false)),
            ("yes", Str),
            ("12", Int),
            ("-12", Int),
            ("012345678901", Int),
            ("0x1F", Int),
            ("0o17", Int),
            ("0o19", Str),
            ("1.5", Float),
            ("1.", Float),
            (".5", Float),
            ("1e3", Float),
            ("1.2E-3", Float),
            (".inf", Float),
            ("-.INF", Float),
            (".nan", Float),
            ("1_000", Str),
            ("1-2", Str),
            ("e3", Str),
            (".", Str),
            ("1e", Str),
            ("ou-ab12-workload1", Str),
        ] {
            assert_eq!(scalar_type(text), want, "{text:?}");
        }
    }

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let root = read("a: 1\nbé: [x, \"y\"]\n").unwrap().unwrap();
        let Kind::Map(entries) = &root.kind else {
            panic!("not a map: {root:?}")
        };
        let (k, v) = &entries[1];
        assert_eq!((k.span.line, k.span.column, k.span.offset), (2, 1, 5));
        let Kind::Seq(items) = &v.kind else {
            panic!("not a seq: {v:?}")
        };
        // `"y"` is the 9th character of line 2 and starts at byte 14 (é is two bytes).
        assert_eq!(
            (
                items[1].span.line,
                items[1].span.column,
                items[1].span.offset
            ),
            (2, 9, 14)
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let root = read("\u{feff}a: 1\n").unwrap().unwrap();
        let Kind::Map(entries) = &root.kind else {
            panic!("not a map")
        };
        let Kind::Scalar(key) = &entries[0].0.kind else {
            panic!("not a scalar")
        };
        assert_eq!(key.text, "a");
        assert_eq!(entries[0].0.span.offset, 3);
        assert_eq!(entries[0].0.span.column, 1);
    }

    #[test]
    fn aliases_copy_their_anchor() {
        let root = read("a: &x [1, 2]\nb: *x\n").unwrap().unwrap();
        let Kind::Map(entries) = &root.kind else {
            panic!("not a map")
        };
        assert_eq!(entries[0].1.kind, entries[1].1.kind);
        assert_eq!(entries[1].1.span.line, 2);
    }

    #[test]
    fn exponential_aliases_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            doc.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = read(&doc).unwrap_err();
        assert!(err.message.contains("expand to more than"), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut block = String::new();
        for depth in 0..100 {
            block.push_str(&format!("{}k:\n", " ".repeat(depth)));
        }
        let err = read(&block).unwrap_err();
        assert!(err.message.contains("nested deeper than 64"), "{err:?}");
        assert_eq!(err.span.line, 65);

        // The parser has its own limit for flow collections.
        let err = read(&"[".repeat(10_000)).unwrap_err();
        assert_eq!(err.span.line, 1);
        assert!(err.message.starts_with("invalid YAML"), "{err:?}");
    }

    #[test]
    fn a_second_document_is_refused() {
        let err = read("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.span.line, 2);
        assert!(err.message.contains("more than one YAML document"));
    }
}
