//! The `io` module's output functions: `format/1,2,3` (and `fwrite`),
//! `put_chars/1,2`, `nl/0,1`. Output goes to standard output, or to
//! standard error for the device `standard_error`; the directive
//! syntax is Erlang's: `~F.P.PadMod C` with `-` for left adjustment.

use super::NativeFn;
use crate::atom::{self, atoms};
use crate::exception::{error, Stop};
use crate::heap::{binary_bytes, integer_value};
use crate::print;
use crate::process::Process;
use crate::term::Term;

/// OTP's `io_lib`: formatting to character lists instead of output.
pub(super) fn lookup_io_lib(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("format" | "fwrite", 2) => |p, a| {
            let badarg = || error(atoms::BADARG);
            let control = if a[0].is_atom() {
                atom::name(a[0]).ok_or_else(badarg)?.to_owned()
            } else {
                chardata(a[0]).ok_or_else(badarg)?
            };
            let args = items(a[1]).ok_or_else(badarg)?;
            let (text, directives) = format_pieces(&control, &args).ok_or_else(badarg)?;
            Ok(format_result(p, a, &text, &directives))
        },
        ("write", 1) => |p, a| {
            let text = print::write(a[0]);
            Ok(super::erlang::make_string(p, a, &text))
        },
        ("print", 1) => |p, a| {
            let text = crate::pretty::pretty(a[0], 1, crate::pretty::LINE_LENGTH);
            Ok(super::erlang::make_string(p, a, &text))
        },
        ("write_atom", 1) => |p, a| {
            let name = atom::name(a[0]).ok_or_else(|| error(atoms::BADARG))?;
            Ok(super::erlang::make_string(p, a, &print::atom_text(name)))
        },
        ("write_string", 1) => |p, a| {
            let text = super::erlang::string_of(a[0])?;
            Ok(super::erlang::make_string(p, a, &print::string_text(&text)))
        },
        ("printable_list" | "printable_latin1_list", 1) => {
            |_, a| Ok(super::erlang::boolean(a[0].is_nil() || print::printable_string(a[0]).is_some()))
        }
        ("nl", 0) => |p, a| Ok(super::erlang::make_string(p, a, "\n")),
        _ => return None,
    })
}

/// `io_lib:format/2`'s result: each literal character an element, each
/// directive's text a (flat) list element.
fn format_result(
    p: &mut crate::process::Process,
    a: &mut [Term],
    text: &str,
    directives: &[std::ops::Range<usize>],
) -> Term {
    let chars = text.chars().count();
    p.ensure(2 * chars + 2 * directives.len(), a);
    let char_term = |c: char| Term::small(i64::from(u32::from(c))).unwrap_or(Term::NIL);
    let mut items = Vec::new();
    let mut at = 0;
    for range in directives {
        items.extend(text[at..range.start].chars().map(char_term));
        let inner: Vec<Term> = text[range.clone()].chars().map(char_term).collect();
        items.push(p.heap.list(&inner));
        at = range.end;
    }
    items.extend(text[at..].chars().map(char_term));
    p.heap.list(&items)
}

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("format" | "fwrite", 1) => |p, a| format(p, Device::Stdout, a[0], Term::NIL),
        ("format" | "fwrite", 2) => |p, a| format(p, Device::Stdout, a[0], a[1]),
        ("format" | "fwrite", 3) => |p, a| format(p, device(a[0])?, a[1], a[2]),
        ("put_chars", 1) => |p, a| {
            let text = chardata(a[0]).ok_or_else(|| error(atoms::BADARG))?;
            output(p, Device::Stdout, &text)
        },
        ("put_chars", 2) => |p, a| {
            let device = device(a[0])?;
            let text = chardata(a[1]).ok_or_else(|| error(atoms::BADARG))?;
            output(p, device, &text)
        },
        ("nl", 0) => |p, _| output(p, Device::Stdout, "\n"),
        ("nl", 1) => |p, a| output(p, device(a[0])?, "\n"),
        _ => return None,
    })
}

/// Where output goes: `standard_io` (and `user`), or `standard_error`.
/// Other io devices (a pid of an io server) are not supported: `badarg`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Device {
    Stdout,
    Stderr,
}

fn device(term: Term) -> Result<Device, Stop> {
    match atom::name(term) {
        Some("standard_io" | "user") => Ok(Device::Stdout),
        Some("standard_error") => Ok(Device::Stderr),
        _ => Err(error(atoms::BADARG)),
    }
}

/// Writes to a device as erl does with `-noshell`: the device's
/// encoding is latin1, so a character below 256 is one byte and any other
/// is written as `\x{HEX}`.
fn output(p: &Process, device: Device, text: &str) -> Result<Term, Stop> {
    let mut bytes = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u8::try_from(u32::from(c)) {
            Ok(byte) => bytes.push(byte),
            Err(_) => bytes.extend_from_slice(format!("\\x{{{:X}}}", u32::from(c)).as_bytes()),
        }
    }
    let stream = match device {
        Device::Stdout => crate::console::Stream::Out,
        Device::Stderr => crate::console::Stream::Err,
    };
    crate::console::write_for(p.output.as_deref(), stream, &bytes);
    Ok(atoms::OK)
}

/// Text from latin1 chardata, as `~s` takes it: characters below 256, and
/// binaries whose bytes are the characters.
fn latin1_chardata(term: Term) -> Option<String> {
    text_of(term, false)
}

/// Text from Unicode chardata: a string, a UTF-8 binary, or a deep list of both.
pub(super) fn chardata(term: Term) -> Option<String> {
    text_of(term, true)
}

/// The text of chardata, walked with an explicit stack: `unicode` takes any
/// character and UTF-8 binaries; otherwise characters below 256 and
/// binaries whose bytes are characters.
fn text_of(term: Term, unicode: bool) -> Option<String> {
    let mut out = String::new();
    let mut pending = vec![term];
    while let Some(t) = pending.pop() {
        if t.is_nil() {
            continue;
        }
        if t.is_cons() {
            pending.push(t.tail());
            pending.push(t.head());
        } else if t.is_small() {
            let c = char::from_u32(u32::try_from(t.small_value()).ok()?)?;
            if !unicode && u32::from(c) > 255 {
                return None;
            }
            out.push(c);
        } else if let Some(bytes) = binary_bytes(t) {
            if unicode {
                out.push_str(std::str::from_utf8(bytes).ok()?);
            } else {
                out.extend(bytes.iter().map(|&b| char::from(b)));
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// The items of a proper list.
pub(super) fn items(list: Term) -> Option<Vec<Term>> {
    let mut items = Vec::new();
    let mut cursor = list;
    while cursor.is_cons() {
        items.push(cursor.head());
        cursor = cursor.tail();
    }
    cursor.is_nil().then_some(items)
}

fn format(p: &Process, device: Device, control: Term, args: Term) -> Result<Term, Stop> {
    let badarg = || error(atoms::BADARG);
    let control = if control.is_atom() {
        atom::name(control).ok_or_else(badarg)?.to_owned()
    } else {
        chardata(control).ok_or_else(badarg)?
    };
    let args = items(args).ok_or_else(badarg)?;
    let text = format_text(&control, &args).ok_or_else(badarg)?;
    output(p, device, &text)
}

/// Expands a control string; `None` when it does not match its arguments.
pub fn format_text(control: &str, args: &[Term]) -> Option<String> {
    format_pieces(control, args).map(|(text, _)| text)
}

/// As [`format_text`], also giving the byte ranges of the text that the
/// term and string directives (`~w ~p ~s`) produced: `io_lib:format`
/// returns those as nested lists and everything else character by
/// character, as erl does (erl nests padding deeper still; flattened, the
/// two are the same).
fn format_pieces(control: &str, args: &[Term]) -> Option<(String, Vec<std::ops::Range<usize>>)> {
    let mut out = String::new();
    let mut directives = Vec::new();
    let mut args = args.iter().copied();
    let mut chars = control.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        let mut left = false;
        if chars.peek() == Some(&'-') {
            left = true;
            chars.next();
        }
        let mut number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Option<Option<usize>> {
            if chars.peek() == Some(&'*') {
                chars.next();
                let arg = args.next()?;
                return arg.is_small().then(|| Some(arg.small_value().unsigned_abs() as usize));
            }
            let mut digits = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            Some(if digits.is_empty() { None } else { digits.parse().ok() })
        };
        let width = number(&mut chars)?;
        let mut precision = None;
        let mut pad = ' ';
        if chars.peek() == Some(&'.') {
            chars.next();
            precision = number(&mut chars)?;
            if chars.peek() == Some(&'.') {
                chars.next();
                pad = chars.next()?;
                if pad == '*' {
                    // The padding character is the next argument.
                    let arg = args.next()?;
                    pad = char::from_u32(u32::try_from(arg.is_small().then(|| arg.small_value())?).ok()?)?;
                }
            }
        }
        // Modifiers: `t` (Unicode) and `l` (no string detection).
        let (mut strings, mut unicode) = (true, false);
        while let Some(&m) = chars.peek().filter(|m| **m == 't' || **m == 'l') {
            strings &= m != 'l';
            unicode |= m == 't';
            chars.next();
        }
        let directive = chars.next()?;
        let start = out.len();
        let text = match directive {
            '~' => "~".to_owned(),
            'n' => "\n".to_owned(),
            'p' | 'P' => {
                let term = args.next()?;
                let depth = if directive == 'P' { depth_of(args.next()?)? } else { -1 };
                // For ~p the field width is the line length, never padding.
                let text = if strings {
                    // The column the term starts at: after the text since the last newline.
                    let column = out.rsplit('\n').next().map_or(0, |line| line.chars().count()) + 1;
                    crate::pretty::pretty_limited(term, column, width.unwrap_or(crate::pretty::LINE_LENGTH), depth)
                } else {
                    crate::pretty::write_limited(term, depth)
                };
                out.push_str(&text);
                directives.push(start..out.len());
                continue;
            }
            'w' | 'W' => {
                let term = args.next()?;
                if directive == 'W' {
                    let depth = depth_of(args.next()?)?;
                    crate::pretty::write_limited(term, depth)
                } else {
                    print::write(term)
                }
            }
            's' => {
                let term = args.next()?;
                let text = if term.is_atom() {
                    atom::name(term)?.to_owned()
                } else if unicode {
                    chardata(term)?
                } else {
                    latin1_chardata(term)?
                };
                match precision {
                    Some(p) => text.chars().take(p).collect(),
                    None => text,
                }
            }
            'c' => {
                let term = args.next()?;
                if !term.is_small() {
                    return None;
                }
                let c = char::from_u32(u32::try_from(term.small_value()).ok()?)?;
                let count = precision.or(width).unwrap_or(1);
                let text: String = std::iter::repeat_n(c, count).collect();
                if width.is_some() && precision.is_some() {
                    text
                } else {
                    // `~5c` repeats the character; no further padding.
                    out.push_str(&text);
                    continue;
                }
            }
            'b' | 'B' | 'x' | 'X' | '#' | '+' => {
                let value = integer_value(args.next()?)?;
                let base = precision.unwrap_or(10) as u32;
                if !(2..=36).contains(&base) {
                    return None;
                }
                // ~x and ~X take a prefix (chardata or an atom); ~# and ~+
                // write the base as Erlang does (16#FF), ~+ in lower case.
                let prefix = match directive {
                    'x' | 'X' => {
                        let term = args.next()?;
                        if term.is_atom() {
                            atom::name(term)?.to_owned()
                        } else {
                            chardata(term)?
                        }
                    }
                    '#' | '+' => format!("{base}#"),
                    _ => String::new(),
                };
                let digits = value.magnitude().to_str_radix(base);
                let digits =
                    if matches!(directive, 'b' | 'x' | '+') { digits.to_lowercase() } else { digits.to_uppercase() };
                let sign = if value.sign() == num_bigint::Sign::Minus { "-" } else { "" };
                format!("{sign}{prefix}{digits}")
            }
            'f' | 'e' | 'g' => {
                let term = args.next()?;
                let value = term.float_value()?;
                let digits = precision.unwrap_or(6);
                // io_lib_format refuses a precision of 0 (and 1 for ~e).
                if digits == 0 || (directive == 'e' && digits < 2) {
                    return None;
                }
                match directive {
                    'f' => print::fixed(value, digits),
                    'e' => exponent_text(value, digits.max(2) - 1),
                    _ => {
                        // io_lib_format:fwrite_g: plain for 0.1 =< |X| < 10000, with
                        // `digits` significant digits; the exponent form otherwise.
                        let magnitude = value.abs();
                        let exponent: i64 = match magnitude {
                            m if m < 0.1 => -2,
                            m if m < 1.0 => -1,
                            m if m < 10.0 => 0,
                            m if m < 100.0 => 1,
                            m if m < 1000.0 => 2,
                            m if m < 10000.0 => 3,
                            _ => i64::MAX,
                        };
                        let p = digits as i64;
                        if (p <= 1 && exponent == -1) || (p - 1 > exponent && exponent >= -1) {
                            format!("{value:.prec$}", prec = (p - 1 - exponent) as usize)
                        } else if p <= 1 {
                            exponent_text(value, 1)
                        } else {
                            exponent_text(value, digits - 1)
                        }
                    }
                }
            }
            'i' => {
                args.next()?;
                String::new()
            }
            _ => return None,
        };
        // A value too wide for its field: ~s is cut short, the others are
        // replaced by stars, as io_lib_format does.
        let overflow = if directive == 's' { Overflow::Truncate } else { Overflow::Stars };
        out.push_str(&pad_to(&text, width, left, pad, overflow));
        // io_lib_format nests the text of terms and strings; numbers and
        // characters are spliced in character by character.
        if matches!(directive, 'w' | 'W' | 's') {
            directives.push(start..out.len());
        }
    }
    args.next().is_none().then_some((out, directives))
}

/// The depth argument of `~P` and `~W`: a positive integer, or -1 for none.
fn depth_of(term: Term) -> Option<i64> {
    match term.is_small().then(|| term.small_value())? {
        d if d > 0 || d == -1 => Some(d),
        _ => None,
    }
}

enum Overflow {
    Truncate,
    Stars,
}

fn pad_to(text: &str, width: Option<usize>, left: bool, pad: char, overflow: Overflow) -> String {
    let Some(width) = width else { return text.to_owned() };
    let len = text.chars().count();
    if len > width {
        return match overflow {
            Overflow::Truncate => text.chars().take(width).collect(),
            Overflow::Stars => "*".repeat(width),
        };
    }
    let padding: String = std::iter::repeat_n(pad, width - len).collect();
    if left {
        format!("{text}{padding}")
    } else {
        format!("{padding}{text}")
    }
}

/// `~e`: `d.ddddde+X`, Erlang's exponent form.
fn exponent_text(value: f64, fraction_digits: usize) -> String {
    let text = format!("{value:.fraction_digits$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < 0 {
        format!("{mantissa}e{exponent}")
    } else {
        format!("{mantissa}e+{exponent}")
    }
}
