//! Writing terms as Erlang does: `~w` (`io_lib:write`) and `~p`
//! (`io_lib:print`, which also shows lists of printable characters as
//! strings). Floats use OTP's shortest round-trip form with its rule for
//! choosing plain or exponent notation (`io_lib_format:fwrite_g`).

use std::fmt::Write as _;

use crate::atom;
use crate::heap::{binary_bytes, integer_value};
use crate::term::{Kind, Term};

/// Reserved words, which are quoted when written as atoms.
const RESERVED: &[&str] = &[
    "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor", "case", "catch", "cond", "div",
    "end", "fun", "if", "let", "not", "of", "or", "orelse", "receive", "rem", "try", "when", "xor", "maybe", "else",
];

/// An atom as Erlang writes it: bare when it can be, quoted otherwise.
pub fn atom_text(name: &str) -> String {
    let mut chars = name.chars();
    let bare = matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '@')
        && !RESERVED.contains(&name);
    if bare {
        return name.to_owned();
    }
    let mut out = String::from("'");
    for c in name.chars() {
        escape_char(c, '\'', &mut out);
    }
    out.push('\'');
    out
}

fn escape_char(c: char, quote: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\u{1b}' => out.push_str("\\e"),
        '\u{7f}' => out.push_str("\\d"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if (c as u32) < 32 => {
            let _ = write!(out, "\\^{}", char::from_u32(c as u32 + 64).unwrap_or('?'));
        }
        c => out.push(c),
    }
}

/// A float as `io_lib:write` shows it: the shortest digits that read back
/// as the same float, in plain or exponent form, whichever OTP picks.
pub fn float_text(value: f64) -> String {
    if value == 0.0 {
        return if value.is_sign_negative() { "-0.0".to_owned() } else { "0.0".to_owned() };
    }
    // `{:e}` gives the shortest round-trip digits: "1.2345e-4".
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let mut out = String::new();
    if value < 0.0 {
        out.push('-');
    }
    // From 2^53 on, where not every integer is a float, erts writes the
    // exponent form even when the plain one would be shorter (seen in erl 25:
    // 1234567890123456.0 but 9.007199254740992e15).
    if value.abs() >= 9007199254740992.0 {
        out.push_str(&exponent_form(&digits, exponent));
    } else {
        out.push_str(&insert_decimal(exponent + 1, &digits));
    }
    out
}

fn exponent_form(digits: &str, exponent: i64) -> String {
    let (first, rest) = digits.split_at(1);
    if rest.is_empty() {
        format!("{first}.0e{exponent}")
    } else {
        format!("{first}.{rest}e{exponent}")
    }
}

/// OTP's `insert_decimal/2`: `digits` with the value `0.digits * 10^place`.
fn insert_decimal(place: i64, digits: &str) -> String {
    let len = digits.len() as i64;
    if place == 0 {
        return format!("0.{digits}");
    }
    if place < 0 || place >= len {
        let exponent = (place - 1).to_string();
        let exponent_dot = if len == 1 { 2 } else { 1 };
        let exponent_cost = exponent.len() as i64 + 1 + exponent_dot;
        if place < 0 {
            if 2 - place <= exponent_cost {
                return format!("0.{}{digits}", "0".repeat((-place) as usize));
            }
        } else if place - len + 2 <= exponent_cost {
            return format!("{digits}{}.0", "0".repeat((place - len) as usize));
        }
        return exponent_form(digits, place - 1);
    }
    let (whole, fraction) = digits.split_at(place as usize);
    format!("{whole}.{fraction}")
}

/// `value` with `digits` decimals, a tie rounded away from zero as erl's
/// `~f` and `float_to_list(F, [{decimals, N}])` do (Rust's formatting
/// rounds a tie to even).
pub fn fixed(value: f64, digits: usize) -> String {
    let rounded = format!("{value:.digits$}");
    // Every float has a finite decimal expansion; 1100 places hold it all.
    let exact = format!("{:.1100}", value.abs());
    let Some(point) = exact.find('.') else { return rounded };
    let dropped = &exact[point + 1 + digits.min(1100)..];
    let is_tie = dropped.starts_with('5') && dropped[1..].bytes().all(|b| b == b'0');
    if !is_tie {
        return rounded;
    }
    // Round the kept digits up by one unit in the last place.
    let kept = &exact[..point + 1 + digits];
    let mut chars: Vec<u8> = kept.bytes().collect();
    let mut i = chars.len();
    loop {
        if i == 0 {
            chars.insert(0, b'1');
            break;
        }
        i -= 1;
        match chars[i] {
            b'.' => continue,
            b'9' => chars[i] = b'0',
            d => {
                chars[i] = d + 1;
                break;
            }
        }
    }
    let mut text = String::from_utf8(chars).unwrap_or(rounded);
    if text.ends_with('.') {
        text.pop();
    }
    if value.is_sign_negative() {
        text.insert(0, '-');
    }
    text
}

/// Whether a character is printable in a string by `~p` (OTP's default,
/// latin1 printable range).
fn printable(c: u32) -> bool {
    matches!(c, 32..=126 | 160..=255 | 8..=13 | 27)
}

/// The characters of a non-empty proper list of printable characters.
pub fn printable_string(term: Term) -> Option<String> {
    let mut out = String::new();
    let mut cursor = term;
    while cursor.is_cons() {
        let head = cursor.head();
        if !head.is_small() || !printable(head.small_value() as u32) || head.small_value() < 0 {
            return None;
        }
        out.push(char::from_u32(head.small_value() as u32)?);
        cursor = cursor.tail();
    }
    (cursor.is_nil() && !out.is_empty()).then_some(out)
}

/// A string literal as Erlang writes it, quotes and escapes included.
pub fn string_text(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        escape_char(c, '"', &mut out);
    }
    out.push('"');
    out
}

/// `~w`: the term, strings as lists of integers.
pub fn write(term: Term) -> String {
    let mut out = String::new();
    write_into(&mut out, term, false);
    out
}

/// `~p` on one line: the term, printable lists as strings.
pub fn print(term: Term) -> String {
    let mut out = String::new();
    write_into(&mut out, term, true);
    out
}

fn write_into(out: &mut String, term: Term, strings: bool) {
    if term.is_small() {
        let _ = write!(out, "{}", term.small_value());
    } else if term.is_atom() {
        out.push_str(&atom_text(atom::name(term).unwrap_or("?")));
    } else if term.is_nil() {
        out.push_str("[]");
    } else if term.is_pid() {
        let _ = write!(out, "<0.{}.0>", term.pid_number());
    } else if term.is_port() {
        let _ = write!(out, "#Port<0.{}>", term.port_number());
    } else if term.is_cons() {
        if strings {
            if let Some(text) = printable_string(term) {
                out.push_str(&string_text(&text));
                return;
            }
        }
        out.push('[');
        let mut cursor = term;
        let mut first = true;
        while cursor.is_cons() {
            if !first {
                out.push(',');
            }
            first = false;
            write_into(out, cursor.head(), strings);
            cursor = cursor.tail();
        }
        if !cursor.is_nil() {
            out.push('|');
            write_into(out, cursor, strings);
        }
        out.push(']');
    } else if let Some(elements) = term.tuple_elements() {
        out.push('{');
        for (i, &element) in elements.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_into(out, element, strings);
        }
        out.push('}');
    } else if let Some(words) = term.map_words() {
        out.push_str("#{");
        for (i, pair) in words.chunks_exact(2).enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_into(out, pair[0], strings);
            out.push_str(" => ");
            write_into(out, pair[1], strings);
        }
        out.push('}');
    } else if let Some(value) = term.float_value() {
        out.push_str(&float_text(value));
    } else if let Some(value) = integer_value(term) {
        let _ = write!(out, "{value}");
    } else if let Some(bytes) = binary_bytes(term) {
        write_binary(out, bytes, strings);
    } else if term.is_boxed() && term.header().kind() == Some(Kind::Reference) {
        let number = term.payload()[0];
        let _ = write!(out, "#Ref<0.{}.{}.{}>", number >> 36, (number >> 18) & 0x3ffff, number & 0x3ffff);
    } else if let Some((module, function, arity)) = crate::fun::export_parts(term) {
        let _ = write!(
            out,
            "fun {}:{}/{arity}",
            atom_text(atom::name(module).unwrap_or("?")),
            atom_text(atom::name(function).unwrap_or("?"))
        );
    } else if let Some((module, lambda, _)) = crate::fun::parts_borrowed(term) {
        // erl's third number is a checksum of its module's code; this VM's
        // funs have none to show.
        let _ = write!(out, "#Fun<{}.{lambda}.0>", atom::name(module.name).unwrap_or("?"));
    } else {
        out.push_str("<?>");
    }
}

fn write_binary(out: &mut String, bytes: &[u8], strings: bool) {
    // Printable as erl's latin1 device sees it: every byte a printable character.
    let printable_bytes = !bytes.is_empty() && bytes.iter().all(|&b| printable(u32::from(b)));
    let text: Option<String> = printable_bytes.then(|| bytes.iter().map(|&b| char::from(b)).collect());
    match text.as_deref() {
        Some(text) if strings => {
            out.push_str("<<");
            out.push_str(&string_text(text));
            out.push_str(">>");
        }
        _ => {
            out.push_str("<<");
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let _ = write!(out, "{b}");
            }
            out.push_str(">>");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_erl_prints_them() {
        // Each pair recorded from erl 25: io:format("~w", [F]).
        let cases = [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1.0e10, "1.0e10"),
            (1.0e15, "1.0e15"),
            (123456789012345680.0, "1.2345678901234568e17"),
            (0.001, "0.001"),
            (0.0001, "0.0001"),
            (1.0e-5, "1.0e-5"),
            (0.00012345, "1.2345e-4"),
            (-2.5, "-2.5"),
            (2.0e-308, "2.0e-308"),
            (1.7976931348623157e308, "1.7976931348623157e308"),
            (5.0e-324, "5.0e-324"),
            (0.30000000000000004, "0.30000000000000004"),
            (100000.0, "1.0e5"),
            (1234567.0, "1234567.0"),
            (1234567890123456.0, "1234567890123456.0"),
            (12345678901234567.0, "1.2345678901234568e16"),
            (9007199254740993.0, "9.007199254740992e15"),
            (2.5e15, "2.5e15"),
            (1.0e17, "1.0e17"),
            (0.0012345, "0.0012345"),
            (1.5e-4, "1.5e-4"),
        ];
        for (value, expected) in cases {
            assert_eq!(float_text(value), expected, "{value:?}");
        }
    }

    #[test]
    fn ports_print_as_erl_prints_them() {
        assert_eq!(write(Term::port(5)), "#Port<0.5>");
        assert_eq!(print(Term::port(123_456)), "#Port<0.123456>");
    }

    #[test]
    fn atoms_are_quoted_when_needed() {
        assert_eq!(atom_text("ok"), "ok");
        assert_eq!(atom_text("hello world"), "'hello world'");
        assert_eq!(atom_text("Ok"), "'Ok'");
        assert_eq!(atom_text("case"), "'case'");
        assert_eq!(atom_text("a@b_1"), "a@b_1");
        assert_eq!(atom_text("it's"), "'it\\'s'");
        assert_eq!(atom_text(""), "''");
    }
}
