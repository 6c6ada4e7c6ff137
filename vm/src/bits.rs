//! The bit syntax's byte work, without the heap: encoding a segment's value
//! into bytes when building a binary, and decoding one from a binary when
//! matching. The interpreter (`BsCreate`, `BsGet`) does the allocation.
//!
//! Segments are whole bytes (the subset is byte-aligned): a size whose bits
//! are not a multiple of 8 fails the match, or raises `badarg` when building.

use compiler::bytecode::{Segment, SegmentType};
use num_bigint::{BigInt, Sign};
use num_traits::{Signed, ToPrimitive};

use crate::heap::{binary_bytes, integer_value};
use crate::term::Term;

/// The byte count of a segment of `size` units of `unit` bits, if it is a
/// whole number of bytes.
fn byte_count(size: Term, unit: u32) -> Option<usize> {
    if !size.is_small() || size.small_value() < 0 {
        return None;
    }
    let bits = (size.small_value() as u64).checked_mul(u64::from(unit))?;
    (bits % 8 == 0).then(|| usize::try_from(bits / 8).ok()).flatten()
}

/// A value that does not fit its segment: `badarg` when building.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Badarg;

/// Appends the bytes of one segment.
pub fn encode(segment: &Segment, value: Term, size: Term, out: &mut Vec<u8>) -> Result<(), Badarg> {
    let little = segment.flags & Segment::LITTLE != 0;
    match segment.kind {
        SegmentType::Integer => {
            let bytes = byte_count(size, segment.unit).ok_or(Badarg)?;
            if value.is_small() && bytes <= 8 {
                let le = (value.small_value() as u64).to_le_bytes();
                push_ordered(&le[..bytes], little, out);
                return Ok(());
            }
            let integer = integer_value(value).ok_or(Badarg)?;
            // Two's complement, truncated to the segment's size.
            let mut le = integer.to_signed_bytes_le();
            let fill = if integer.is_negative() { 0xff } else { 0 };
            le.resize(bytes.max(le.len()), fill);
            push_ordered(&le[..bytes], little, out);
            Ok(())
        }
        SegmentType::Float => {
            let number = value.float_value().or_else(|| integer_value(value).and_then(|i| i.to_f64())).ok_or(Badarg)?;
            let le = match byte_count(size, segment.unit) {
                Some(8) => number.to_le_bytes().to_vec(),
                Some(4) => {
                    let single = number as f32;
                    if single.is_infinite() {
                        return Err(Badarg);
                    }
                    single.to_le_bytes().to_vec()
                }
                Some(2) => f16_bits(number).ok_or(Badarg)?.to_le_bytes().to_vec(),
                _ => return Err(Badarg),
            };
            push_ordered(&le, little, out);
            Ok(())
        }
        SegmentType::Binary => {
            let bytes = binary_bytes(value).ok_or(Badarg)?;
            if segment.flags & Segment::ALL != 0 {
                out.extend_from_slice(bytes);
            } else {
                let count = byte_count(size, segment.unit).ok_or(Badarg)?;
                out.extend_from_slice(bytes.get(..count).ok_or(Badarg)?);
            }
            Ok(())
        }
        SegmentType::Utf8 => {
            let c = value.is_small().then(|| u32::try_from(value.small_value()).ok()).flatten();
            let c = c.and_then(char::from_u32).ok_or(Badarg)?;
            let mut buffer = [0; 4];
            out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
            Ok(())
        }
    }
}

fn push_ordered(le: &[u8], little: bool, out: &mut Vec<u8>) {
    if little {
        out.extend_from_slice(le);
    } else {
        out.extend(le.iter().rev());
    }
}

/// A value matched out of a binary.
#[derive(Debug)]
pub enum Decoded {
    Integer(BigInt),
    Small(i64),
    Float(f64),
    /// `len` bytes from `offset` of the binary: a sub-binary.
    Slice {
        offset: usize,
        len: usize,
    },
}

/// Decodes one segment at `offset` of `bytes`: the value and the offset after
/// it, or `None` when the segment does not match there.
pub fn decode(segment: &Segment, bytes: &[u8], offset: usize, size: Term) -> Option<(Decoded, usize)> {
    let little = segment.flags & Segment::LITTLE != 0;
    let signed = segment.flags & Segment::SIGNED != 0;
    let rest = bytes.get(offset..)?;
    match segment.kind {
        SegmentType::Integer => {
            let count = byte_count(size, segment.unit)?;
            let le = field_le(rest, count, little)?;
            let value = if count == 0 {
                Decoded::Small(0)
            } else if count < 8 {
                let mut word = [0u8; 8];
                word[..count].copy_from_slice(&le);
                let mut value = u64::from_le_bytes(word) as i64;
                if signed {
                    let shift = 64 - 8 * count as u32;
                    value = (value << shift) >> shift;
                }
                Decoded::Small(value)
            } else if signed {
                Decoded::Integer(BigInt::from_signed_bytes_le(&le))
            } else {
                Decoded::Integer(BigInt::from_bytes_le(Sign::Plus, &le))
            };
            Some((value, offset + count))
        }
        SegmentType::Float => {
            let count = byte_count(size, segment.unit)?;
            let le = field_le(rest, count, little)?;
            let value = match count {
                8 => f64::from_le_bytes(le.try_into().ok()?),
                4 => f64::from(f32::from_le_bytes(le.try_into().ok()?)),
                2 => f16_value(u16::from_le_bytes(le.try_into().ok()?)),
                _ => return None,
            };
            // NaN and the infinities are not Erlang floats: no match.
            value.is_finite().then_some((Decoded::Float(value), offset + count))
        }
        SegmentType::Binary => {
            let len = if segment.flags & Segment::ALL != 0 { rest.len() } else { byte_count(size, segment.unit)? };
            (len <= rest.len()).then_some((Decoded::Slice { offset, len }, offset + len))
        }
        SegmentType::Utf8 => {
            let (c, len) = decode_utf8(rest)?;
            Some((Decoded::Small(i64::from(c)), offset + len))
        }
    }
}

/// The first `count` bytes of `rest`, least significant first.
fn field_le(rest: &[u8], count: usize, little: bool) -> Option<Vec<u8>> {
    let mut le = rest.get(..count)?.to_vec();
    if !little {
        le.reverse();
    }
    Some(le)
}

/// One UTF-8 character at the start of `bytes` (no overlong forms, no
/// surrogates), and its length.
fn decode_utf8(bytes: &[u8]) -> Option<(u32, usize)> {
    let len = match *bytes.first()? {
        0x00..=0x7f => 1,
        0xc2..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf4 => 4,
        _ => return None,
    };
    let text = std::str::from_utf8(bytes.get(..len)?).ok()?;
    text.chars().next().map(|c| (u32::from(c), len))
}

/// The IEEE half-precision bits of `value`, if it is in range.
fn f16_bits(value: f64) -> Option<u16> {
    let sign: u16 = if value.is_sign_negative() { 0x8000 } else { 0 };
    let magnitude = value.abs();
    if magnitude == 0.0 {
        return Some(sign);
    }
    if magnitude >= 65520.0 {
        return None;
    }
    // Subnormals below 2^-14, in steps of 2^-24.
    if magnitude < 6.103515625e-5 {
        let steps = (magnitude / 5.960464477539063e-8).round_ties_even() as u16;
        return Some(sign | steps);
    }
    let exponent = magnitude.log2().floor() as i32;
    let mut mantissa = (magnitude / 2f64.powi(exponent) - 1.0) * 1024.0;
    mantissa = mantissa.round_ties_even();
    let (mut exponent, mut mantissa) = (exponent + 15, mantissa as u16);
    if mantissa == 1024 {
        mantissa = 0;
        exponent += 1;
    }
    if exponent >= 31 {
        return None;
    }
    Some(sign | ((exponent as u16) << 10) | mantissa)
}

fn f16_value(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f64.powi(-24),
        31 if mantissa == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + mantissa / 1024.0) * 2f64.powi(exponent - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_floats_round_trip() {
        for value in [0.0, 1.0, -2.5, 65504.0, 6.103515625e-5, 5.960464477539063e-8, 0.333251953125] {
            let bits = f16_bits(value).unwrap();
            assert_eq!(f16_value(bits), value, "{value}");
        }
        assert_eq!(f16_bits(65520.0), None);
        assert_eq!(f16_bits(1.0), Some(0x3c00));
    }

    #[test]
    fn utf8_is_strict() {
        assert_eq!(decode_utf8("é".as_bytes()), Some((0xe9, 2)));
        assert_eq!(decode_utf8(&[0xc0, 0x80]), None, "overlong");
        assert_eq!(decode_utf8(&[0xed, 0xa0, 0x80]), None, "surrogate");
        assert_eq!(decode_utf8(&[0xe2, 0x82]), None, "truncated");
    }
}
