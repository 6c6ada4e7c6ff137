//! Bit syntax: building binaries (`BsCreate`), matching them (`BsGet` per
//! segment with the byte offset in a frame slot, then `BsTestTail`), and the
//! segment shapes both share. Strings in segments (`<<"abc", X/binary>>`)
//! expand to one segment per character, as in Erlang.

use num_traits::ToPrimitive;

use super::FunctionCompiler;
use crate::ast::*;
use crate::bytecode::{Instruction as I, Label, Literal as Lit, Segment, SegmentType, Src};

/// A segment's type, unit, flags and default size, from its specifiers
/// (already checked against the subset by the checker).
struct Shape {
    kind: SegmentType,
    unit: u32,
    flags: u32,
    /// The size when none is written: `None` for binaries (all of it) and utf8.
    default_size: Option<i64>,
}

fn shape(specifiers: &[BinSpecifier]) -> Shape {
    let mut kind = SegmentType::Integer;
    let mut unit = None;
    let mut flags = 0;
    for specifier in specifiers {
        match specifier.name.as_str() {
            "integer" => kind = SegmentType::Integer,
            "float" => kind = SegmentType::Float,
            "binary" | "bytes" => kind = SegmentType::Binary,
            "utf8" => kind = SegmentType::Utf8,
            "little" | "native" => flags |= Segment::LITTLE,
            "big" => flags &= !Segment::LITTLE,
            "signed" => flags |= Segment::SIGNED,
            "unsigned" => flags &= !Segment::SIGNED,
            "unit" => unit = specifier.unit,
            _ => {}
        }
    }
    let (default_unit, default_size) = match kind {
        SegmentType::Integer => (1, Some(8)),
        SegmentType::Float => (1, Some(64)),
        SegmentType::Binary => (8, None),
        SegmentType::Utf8 => (1, None),
    };
    Shape { kind, unit: unit.unwrap_or(default_unit), flags, default_size }
}

/// The characters of a string literal segment, each an integer segment.
fn string_chars(literal: Option<&Literal>) -> Option<Vec<i64>> {
    match literal {
        Some(Literal::String(s)) => Some(s.chars().map(|c| i64::from(u32::from(c))).collect()),
        _ => None,
    }
}

impl FunctionCompiler<'_> {
    /// `<<Segments>>` as a value.
    pub(super) fn binary_expr(&mut self, elements: &[BinElement<Expr>], tail: bool) -> Option<Src> {
        if let Some(bytes) = constant_bytes(elements) {
            let src = Src::Literal(self.g.literal(Lit::Binary(bytes)));
            return self.finish(src, tail);
        }
        let dst = self.temp();
        let mark = self.temps;
        let mut segments = Vec::new();
        for element in elements {
            let shape = shape(&element.specifiers);
            let literal = match &element.value.kind {
                ExprKind::Literal(literal) => Some(literal),
                _ => None,
            };
            let size = element.size.as_ref().map(|size| self.value(size));
            let segment = |value: Src| Segment {
                kind: shape.kind,
                value,
                size: size.or(shape.default_size.map(Src::Int)).unwrap_or(Src::Nil),
                unit: shape.unit,
                flags: shape.flags | if size.is_none() && shape.default_size.is_none() { Segment::ALL } else { 0 },
            };
            if let Some(chars) = string_chars(literal) {
                segments.extend(chars.into_iter().map(|c| segment(Src::Int(c))));
            } else {
                let value = self.value(&element.value);
                segments.push(segment(value));
            }
        }
        self.emit(I::BsCreate { segments, dst, live: 0 });
        self.release(mark);
        self.finish(Src::Reg(dst), tail)
    }

    /// Matches the binary in `src` against `<<Segments>>`.
    pub(super) fn binary_pattern(&mut self, elements: &[BinElement<Pattern>], src: Src, fail: Label) {
        self.emit(I::IsBinary { fail, src });
        let mark = self.temps;
        let offset = self.temp();
        self.emit(I::Move { src: Src::Int(0), dst: offset });
        let mut takes_rest = false;
        for element in elements {
            let shape = shape(&element.specifiers);
            let literal = match &element.value.kind {
                PatternKind::Literal(literal) => Some(literal),
                _ => None,
            };
            let size = element.size.as_ref().map(|size| self.guard_value(size, fail));
            let all = size.is_none() && shape.kind == SegmentType::Binary;
            takes_rest = all;
            let segment = Segment {
                kind: shape.kind,
                value: Src::Nil,
                size: size.or(shape.default_size.map(Src::Int)).unwrap_or(Src::Nil),
                unit: shape.unit,
                flags: shape.flags | if all { Segment::ALL } else { 0 },
            };
            let chars = string_chars(literal);
            let values: Vec<Option<Src>> = match chars {
                Some(chars) => chars.into_iter().map(|c| Some(Src::Int(c))).collect(),
                None => vec![None],
            };
            for expected in values {
                let value_mark = self.temps;
                let dst = self.temp();
                self.emit(I::BsGet { fail, bin: src, offset, segment, dst, live: 0 });
                match expected {
                    Some(constant) => self.emit(I::IsEqExact { fail, a: Src::Reg(dst), b: constant }),
                    None => self.pattern(&element.value, Src::Reg(dst), fail),
                }
                // A bound value stays in its variable's slot; the temporary can go.
                self.release(value_mark);
            }
        }
        if !takes_rest {
            self.emit(I::BsTestTail { fail, bin: src, offset });
        }
        self.release(mark);
    }
}

/// The bytes of a binary made only of literals, known at compile time:
/// strings, and integers in whole-byte segments of a literal size
/// (`<<"abc">>`, `<<1, 2, 3>>`, `<<I:32/little>>` for a literal `I`).
pub(super) fn constant_bytes(elements: &[BinElement<Expr>]) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    for element in elements {
        let shape = shape(&element.specifiers);
        if shape.kind != SegmentType::Integer {
            return None;
        }
        let bits = match &element.size {
            None => 8,
            Some(Expr { kind: ExprKind::Literal(Literal::Integer(size)), .. }) => {
                size.to_u64()?.checked_mul(u64::from(shape.unit))?
            }
            Some(_) => return None,
        };
        // Whole bytes only, and no literal bigger than a few of them.
        if bits % 8 != 0 || bits > 64 * 8 {
            return None;
        }
        let width = (bits / 8) as usize;
        let mut push = |value: &num_bigint::BigInt| {
            // A segment keeps the low bits of its value, as Erlang's does:
            // two's complement, whatever the sign.
            let mut be = value.to_signed_bytes_be();
            let fill = if value.sign() == num_bigint::Sign::Minus { 0xff } else { 0 };
            if be.len() < width {
                let mut padded = vec![fill; width - be.len()];
                padded.extend(be);
                be = padded;
            }
            let mut segment = be.split_off(be.len() - width);
            if shape.flags & Segment::LITTLE != 0 {
                segment.reverse();
            }
            bytes.extend(segment);
        };
        match &element.value.kind {
            ExprKind::Literal(Literal::Integer(i)) => push(i),
            ExprKind::Literal(Literal::Char(c)) => push(&num_bigint::BigInt::from(*c)),
            ExprKind::Literal(Literal::String(s)) => {
                s.chars().for_each(|c| push(&num_bigint::BigInt::from(c as u32)));
            }
            _ => return None,
        }
    }
    Some(bytes)
}
