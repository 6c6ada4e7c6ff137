//! `~p` line breaking, after OTP's `io_lib_pretty`: a term that fits in the
//! rest of the line is written flat; otherwise its elements are laid out one
//! per line (atomic runs packed while they fit), aligned after the opening
//! bracket, and tagged tuples (`{tag, ...}`) keep the tag on the first line.
//! The line is 80 columns (or the directive's field width, `~40p`) and the
//! term starts at the column the format directive is at, as in `io:format`.
//!
//! Maps break between pairs, and a pair too long for its line puts the value
//! on the next line indented by 4, as OTP's `pp_pair`.
//!
//! Nested terms that reach the right margin use OTP's fallback: a tagged
//! tuple's elements go 4 (or 1) columns right of its brace instead of under
//! its tag, as `io_lib_pretty`'s `cind` decides.
//!
//! A binary shown as bytes that does not fit is filled line by line, as
//! OTP's `pp_binary`. Not yet: records (they are tuples at run time).

use crate::print;
use crate::term::Term;

/// The line `~p` fills when no field width is given.
pub const LINE_LENGTH: usize = 80;

enum Shape {
    /// Written flat always: numbers, atoms, strings, binaries shown as text, ...
    Atomic,
    /// Written flat, but not packed with its neighbours: a binary shown as
    /// bytes (OTP lays those out as it would split them).
    Bytes,
    List(Vec<Node>, Option<Box<Node>>),
    Tuple {
        tagged: bool,
        elements: Vec<Node>,
    },
    /// Key-value pairs; each pair node's text is `K => V`.
    Map(Vec<Pair>),
}

struct Pair {
    key: Node,
    value: Node,
    text: String,
}

impl Pair {
    fn len(&self) -> usize {
        self.text.chars().count()
    }

    /// OTP's `?ATM_PAIR`: both sides atomic.
    fn atomic(&self) -> bool {
        self.key.atomic() && self.value.atomic()
    }
}

struct Node {
    shape: Shape,
    /// The flat text.
    text: String,
}

impl Node {
    fn len(&self) -> usize {
        self.text.chars().count()
    }

    fn atomic(&self) -> bool {
        matches!(self.shape, Shape::Atomic)
    }
}

/// The layout tree of a term. `depth` limits nesting as `~P` and `~W` do
/// (negative: no limit): what lies deeper prints as `...`. `strings`
/// shows printable lists as strings (`~p`) or not (`~w`).
fn node(term: Term, depth: i64, strings: bool) -> Node {
    let atomic = |text: &str| Node { shape: Shape::Atomic, text: text.to_owned() };
    if depth == 0 {
        return atomic("...");
    }
    if term.is_cons() && depth == 1 {
        return atomic("[...]");
    }
    if term.is_cons() && !(strings && print::printable_string(term).is_some()) {
        let mut d = depth - 1;
        let mut elements = vec![node(term.head(), d, strings)];
        let mut cursor = term.tail();
        let mut tail = None;
        loop {
            if cursor.is_nil() {
                break;
            }
            if d == 1 {
                tail = Some(Box::new(atomic("...")));
                break;
            }
            if cursor.is_cons() {
                elements.push(node(cursor.head(), d - 1, strings));
                cursor = cursor.tail();
                d -= 1;
            } else {
                tail = Some(Box::new(node(cursor, d - 1, strings)));
                break;
            }
        }
        let mut text = String::from("[");
        text.push_str(&elements.iter().map(|e| e.text.as_str()).collect::<Vec<_>>().join(","));
        if let Some(tail) = &tail {
            text.push('|');
            text.push_str(&tail.text);
        }
        text.push(']');
        return Node { shape: Shape::List(elements, tail), text };
    }
    if let Some(items) = term.tuple_elements().filter(|items| !items.is_empty()) {
        if depth == 1 {
            return atomic("{...}");
        }
        let mut elements = Vec::new();
        let mut d = depth - 1;
        for (i, &item) in items.iter().enumerate() {
            if i > 0 {
                if d == 1 {
                    elements.push(atomic("..."));
                    break;
                }
                d -= 1;
            }
            elements.push(node(item, if i == 0 { depth - 1 } else { d }, strings));
        }
        let text = format!("{{{}}}", elements.iter().map(|e| e.text.as_str()).collect::<Vec<_>>().join(","));
        let tagged = items.len() > 1 && items[0].is_atom();
        return Node { shape: Shape::Tuple { tagged, elements }, text };
    }
    if let Some(words) = term.map_words().filter(|words| !words.is_empty()) {
        if depth == 1 {
            return atomic("#{...}");
        }
        let mut pairs = Vec::new();
        let mut d = depth - 1;
        for (i, pair) in words.chunks_exact(2).enumerate() {
            if i > 0 {
                if d == 1 {
                    let (key, value) = (atomic("..."), atomic(""));
                    pairs.push(Pair { key, value, text: "...".to_owned() });
                    break;
                }
                d -= 1;
            }
            let (key, value) = (node(pair[0], d, strings), node(pair[1], d, strings));
            let text = format!("{} => {}", key.text, value.text);
            pairs.push(Pair { key, value, text });
        }
        let text = format!("#{{{}}}", pairs.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join(","));
        return Node { shape: Shape::Map(pairs), text };
    }
    let text = if strings { print::print(term) } else { print::write(term) };
    if let Some(bytes) = crate::heap::binary_bytes(term) {
        if text.starts_with("<<\"") || bytes.is_empty() {
            return atomic(&text);
        }
        // Bytes: the first depth - 1 of them, then `...`.
        let shown = if depth < 0 { bytes.len() } else { (depth - 1) as usize };
        let text = if shown >= bytes.len() {
            text
        } else {
            let mut parts: Vec<String> = bytes[..shown].iter().map(u8::to_string).collect();
            parts.push("...".to_owned());
            format!("<<{}>>", parts.join(","))
        };
        return Node { shape: Shape::Bytes, text };
    }
    atomic(&text)
}

/// `~W`: the term on one line, nesting cut at `depth`.
pub fn write_limited(term: Term, depth: i64) -> String {
    node(term, depth, false).text
}

/// `~p` of `term` starting at `column` (1-based) on lines of `line_length`.
pub fn pretty(term: Term, column: usize, line_length: usize) -> String {
    pretty_limited(term, column, line_length, -1)
}

/// `~P`: as [`pretty`], nesting cut at `depth` (negative: no limit).
pub fn pretty_limited(term: Term, column: usize, line_length: usize, depth: i64) -> String {
    pretty_with(term, column, line_length, depth, None)
}

/// As [`pretty_limited`], with OTP's `line_max_chars`: no line holds more
/// than that many characters of the term (its indentation not counted).
/// The erl shell prints results with 60.
pub fn pretty_with(term: Term, column: usize, line_length: usize, depth: i64, line_max_chars: Option<usize>) -> String {
    let root = node(term, depth, true);
    let col = column.max(1);
    let total = root.len();
    let max = line_max_chars.unwrap_or(total);
    if root.atomic() || (total < line_length.saturating_sub(col) && total <= max) {
        return root.text;
    }
    let mut out = String::new();
    let mut printer = Printer { max, line: line_length, tind: -1 };
    // OTP's TInd: how far the elements of a tagged tuple are indented. Under
    // their tag (-1) when that fits everywhere, else by 4, else by 1.
    printer.tind = [-1, 4].into_iter().find(|&i| printer.cind(&root, col, i, 0, 0).is_ok()).unwrap_or(1);
    printer.pp(&root, col, &" ".repeat(col - 1), 0, 0, &mut out);
    out
}

struct Printer {
    /// OTP's M: `line_max_chars`, or else the term's whole length.
    max: usize,
    /// OTP's Ll: the line length.
    line: usize,
    /// OTP's TInd (see `pretty_limited`).
    tind: i64,
}

/// A layout that does not fit (OTP's `throw(no_good)` in `cind`).
struct NoGood;

/// OTP's `cind`: checks whether the layout with tag indentation `ind` fits,
/// walking the term as `pp` would.
impl Printer {
    fn fits_at(&self, len: usize, col: usize, depth: usize, width: usize) -> bool {
        len + col + depth < self.line && len + width + depth <= self.max
    }

    fn cind(&self, node: &Node, col: usize, ind: i64, depth: usize, width: usize) -> Result<(), NoGood> {
        if self.fits_at(node.len(), col, depth, width) {
            return Ok(());
        }
        match &node.shape {
            Shape::List(elements, tail) => self.cind_list(elements, tail.as_deref(), col + 1, ind, depth, width + 1),
            Shape::Tuple { tagged: true, elements } => {
                let tlen = elements[0].len();
                let (tag_ind, tcol) = (tlen + 2, col + tlen + 2);
                if ind > 0 && tag_ind as i64 > ind {
                    let col1 = col + ind as usize;
                    if self.max + col1 <= self.line || col1 <= self.line / 2 {
                        self.cind_tail(&elements[1..], None, col1, tcol, ind, depth, width + 1 + tlen)
                    } else {
                        Err(NoGood)
                    }
                } else if self.max + tcol < self.line || tcol < self.line / 2 {
                    self.cind_list(&elements[1..], None, tcol, ind, depth, width + 1 + tlen + 1)
                } else {
                    Err(NoGood)
                }
            }
            Shape::Tuple { tagged: false, elements } => self.cind_list(elements, None, col + 1, ind, depth, width + 1),
            Shape::Map(pairs) => {
                let Some((first, rest)) = pairs.split_first() else { return Ok(()) };
                let used = self.cind_pair(first, col + 2, ind, last_depth(!rest.is_empty(), depth), width + 2)?;
                let (col0, mut col_now, mut width) = (col + 2, col + 2 + used, width + 2 + used);
                for (i, pair) in rest.iter().enumerate() {
                    let last = last_depth(i + 1 < rest.len(), depth);
                    if self.packs(pair.len(), col_now, last, width) && pair.atomic() {
                        col_now += 1 + pair.len();
                        width += 1 + pair.len();
                    } else {
                        let used = self.cind_pair(pair, col0, ind, last, 0)?;
                        col_now = col0 + used;
                        width = used;
                    }
                }
                Ok(())
            }
            Shape::Atomic | Shape::Bytes => Ok(()),
        }
    }

    /// Whether an element of `len` goes on the current line after a comma.
    fn packs(&self, len: usize, col: usize, last: usize, width: usize) -> bool {
        let element_len = 1 + len;
        if last == 0 {
            element_len + 1 + col < self.line && width + element_len < self.max
        } else {
            element_len + col + last < self.line && width + element_len + last <= self.max
        }
    }

    fn cind_pair(&self, pair: &Pair, col: usize, ind: i64, depth: usize, width: usize) -> Result<usize, NoGood> {
        if self.fits_at(pair.len(), col, depth, width) {
            return Ok(if pair.atomic() { pair.len() } else { self.line });
        }
        self.cind(&pair.key, col, ind, depth, width)?;
        self.cind(&pair.value, col + value_indent(ind), ind, depth, 0)?;
        Ok(self.line)
    }

    #[allow(clippy::too_many_arguments)]
    fn cind_list(
        &self,
        elements: &[Node],
        tail: Option<&Node>,
        col0: usize,
        ind: i64,
        depth: usize,
        width: usize,
    ) -> Result<(), NoGood> {
        let Some((first, rest)) = elements.split_first() else { return Ok(()) };
        let used = self.cind_element(first, col0, ind, last_depth(!rest.is_empty() || tail.is_some(), depth), width)?;
        self.cind_tail(rest, tail, col0, col0 + used, ind, depth, width + used)
    }

    #[allow(clippy::too_many_arguments)]
    fn cind_tail(
        &self,
        elements: &[Node],
        tail: Option<&Node>,
        col0: usize,
        mut col: usize,
        ind: i64,
        depth: usize,
        mut width: usize,
    ) -> Result<(), NoGood> {
        for (i, element) in elements.iter().enumerate() {
            let last = last_depth(i + 1 < elements.len() || tail.is_some(), depth);
            if self.packs(element.len(), col, last, width) && element.atomic() {
                col += 1 + element.len();
                width += 1 + element.len();
            } else {
                let used = self.cind_element(element, col0, ind, last, 0)?;
                col = col0 + used;
                width = used;
            }
        }
        if let Some(tail) = tail {
            let last = depth + 1;
            let fits = tail.len() + 1 + col + last < self.line && tail.len() + 1 + width + last <= self.max;
            if !(fits && tail.atomic()) {
                self.cind(tail, col, ind, depth + 1, 0)?;
            }
        }
        Ok(())
    }

    fn cind_element(&self, element: &Node, col: usize, ind: i64, depth: usize, width: usize) -> Result<usize, NoGood> {
        if self.fits_at(element.len(), col, depth, width) && element.atomic() {
            return Ok(element.len());
        }
        self.cind(element, col, ind, depth, width)?;
        Ok(self.line)
    }
}

/// OTP's `map_value_indent`: a map value that goes under its key is
/// indented by TInd, or by 4.
fn value_indent(tind: i64) -> usize {
    if tind > 0 {
        tind as usize
    } else {
        4
    }
}

fn last_depth(more: bool, depth: usize) -> usize {
    if more {
        0
    } else {
        depth + 1
    }
}

impl Printer {
    fn fits(&self, node: &Node, col: usize, depth: usize, width: usize) -> bool {
        node.len() + col + depth < self.line && node.len() + width + depth <= self.max
    }

    fn pp(&self, node: &Node, col: usize, indent: &str, depth: usize, width: usize, out: &mut String) {
        if self.fits(node, col, depth, width) {
            out.push_str(&node.text);
            return;
        }
        match &node.shape {
            Shape::Atomic => out.push_str(&node.text),
            Shape::Bytes => self.pp_binary(&node.text, col + 2, &format!("{indent}  "), depth, width, out),
            Shape::List(elements, tail) => {
                out.push('[');
                let indent = format!("{indent} ");
                self.pp_list(elements, tail.as_deref(), col + 1, &indent, depth, '|', width + 1, out);
                out.push(']');
            }
            Shape::Tuple { tagged: true, elements } => {
                out.push('{');
                let tag = &elements[0];
                let tag_indent = tag.len() + 2;
                out.push_str(&tag.text);
                if self.tind > 0 && tag_indent as i64 > self.tind {
                    // The tag is too long to indent under: the elements go
                    // TInd to the right of the brace.
                    let tind = self.tind as usize;
                    let indent = format!("{indent}{}", " ".repeat(tind));
                    self.pp_tail(
                        &elements[1..],
                        None,
                        col + tind,
                        col + tag_indent,
                        &indent,
                        depth,
                        ',',
                        width + 1 + tag.len(),
                        out,
                    );
                } else {
                    let indent = format!("{indent}{}", " ".repeat(tag_indent));
                    out.push(',');
                    self.pp_list(
                        &elements[1..],
                        None,
                        col + tag_indent,
                        &indent,
                        depth,
                        ',',
                        width + tag.len() + 2,
                        out,
                    );
                }
                out.push('}');
            }
            Shape::Tuple { tagged: false, elements } => {
                out.push('{');
                let indent = format!("{indent} ");
                self.pp_list(elements, None, col + 1, &indent, depth, ',', width + 1, out);
                out.push('}');
            }
            Shape::Map(pairs) => {
                out.push_str("#{");
                let indent = format!("{indent}  ");
                self.pp_map(pairs, col + 2, &indent, depth, width + 1, out);
                out.push('}');
            }
        }
    }

    /// OTP's `pp_binary`: a binary shown as bytes, too long for its line,
    /// filled line by line with the bytes, the next lines under the first
    /// byte. A line's room is that of the first (the closing `>>` is not
    /// counted), never less than 8 columns.
    fn pp_binary(&self, text: &str, col: usize, indent: &str, depth: usize, width: usize, out: &mut String) {
        let (line, max) = (self.line as i64, self.max as i64);
        let room = ((line - col as i64).min(max - 4 - width as i64) - depth as i64).max(8);
        let inner = &text[2..text.len() - 2];
        let mut bytes = inner.split(',').peekable();
        let mut left = room;
        out.push_str("<<");
        while let Some(byte) = bytes.next() {
            let len = byte.len() as i64;
            if bytes.peek().is_some() {
                if left - (len + 1) < 0 {
                    out.push('\n');
                    out.push_str(indent);
                    left = room;
                }
                out.push_str(byte);
                out.push(',');
                left -= len + 1;
            } else {
                if len > left {
                    out.push('\n');
                    out.push_str(indent);
                }
                out.push_str(byte);
            }
        }
        out.push_str(">>");
    }

    fn pp_map(&self, pairs: &[Pair], col0: usize, indent: &str, depth: usize, width: usize, out: &mut String) {
        let Some((first, rest)) = pairs.split_first() else { return };
        let used = self.pp_pair(first, col0, indent, last_depth(!rest.is_empty(), depth), width, out);
        let (mut col, mut width) = (col0 + used, used);
        for (i, pair) in rest.iter().enumerate() {
            let last = last_depth(i + 1 < rest.len(), depth);
            let element_len = 1 + pair.len();
            if self.packs(pair.len(), col, last, width) && pair.atomic() {
                out.push(',');
                out.push_str(&pair.text);
                col += element_len;
                width += element_len;
            } else {
                out.push_str(",\n");
                out.push_str(indent);
                let used = self.pp_pair(pair, col0, indent, last, 0, out);
                col = col0 + used;
                width = used;
            }
        }
    }

    /// Writes a pair; returns its width, or the line length to force a new
    /// line after a pair that is not atomic or was broken.
    fn pp_pair(&self, pair: &Pair, col: usize, indent: &str, depth: usize, width: usize, out: &mut String) -> usize {
        if pair.len() + col + depth < self.line && pair.len() + width + depth <= self.max {
            out.push_str(&pair.text);
            return if pair.atomic() { pair.len() } else { self.line };
        }
        let shift = value_indent(self.tind);
        self.pp(&pair.key, col, indent, depth, width, out);
        out.push_str(" =>\n");
        let value_indent = format!("{indent}{}", " ".repeat(shift));
        out.push_str(&value_indent);
        self.pp(&pair.value, col + shift, &value_indent, depth, 0, out);
        self.line
    }

    #[allow(clippy::too_many_arguments)]
    fn pp_list(
        &self,
        elements: &[Node],
        tail: Option<&Node>,
        col0: usize,
        indent: &str,
        depth: usize,
        separator: char,
        width: usize,
        out: &mut String,
    ) {
        let Some((first, rest)) = elements.split_first() else { return };
        let more = !rest.is_empty() || tail.is_some();
        let used = self.pp_element(first, col0, indent, last_depth(more, depth), width, out);
        self.pp_tail(rest, tail, col0, col0 + used, indent, depth, separator, width + used, out);
    }

    #[allow(clippy::too_many_arguments)]
    fn pp_tail(
        &self,
        elements: &[Node],
        tail: Option<&Node>,
        col0: usize,
        mut col: usize,
        indent: &str,
        depth: usize,
        separator: char,
        mut width: usize,
        out: &mut String,
    ) {
        for (i, element) in elements.iter().enumerate() {
            let more = i + 1 < elements.len() || tail.is_some();
            let last = last_depth(more, depth);
            let element_len = 1 + element.len();
            if self.packs(element.len(), col, last, width) && element.atomic() {
                out.push(',');
                out.push_str(&element.text);
                col += element_len;
                width += element_len;
            } else {
                out.push_str(",\n");
                out.push_str(indent);
                let used = self.pp_element(element, col0, indent, last, 0, out);
                col = col0 + used;
                width = used;
            }
        }
        if let Some(tail) = tail {
            let last = depth + 1;
            if tail.len() + 1 + col + last < self.line && tail.len() + 1 + width + last <= self.max && tail.atomic() {
                out.push(separator);
                out.push_str(&tail.text);
            } else {
                out.push(separator);
                out.push('\n');
                out.push_str(indent);
                self.pp(tail, col0, indent, depth + 1, 0, out);
            }
        }
    }

    /// Writes an element; returns the width it takes, or the line length to
    /// force a new line after a structure that was broken over lines.
    fn pp_element(
        &self,
        element: &Node,
        col: usize,
        indent: &str,
        depth: usize,
        width: usize,
        out: &mut String,
    ) -> usize {
        if self.fits(element, col, depth, width) && element.atomic() {
            out.push_str(&element.text);
            return element.len();
        }
        self.pp(element, col, indent, depth, width, out);
        self.line
    }
}
