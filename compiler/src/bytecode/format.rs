//! The module file format: a magic number, a version, then the module's
//! tables and code, every integer in LEB128. Decoding checks every length
//! and tag and never panics on bad input; the verifier then checks meaning.

use num_bigint::{BigInt, Sign};

use super::{Function, ImportEntry, Instruction, LambdaEntry, Literal, Local, Module};

/// The first bytes of a module file.
pub const MAGIC: &[u8; 4] = b"ACTB";

/// Bumped whenever an opcode's number, operands or meaning, or the layout
/// below, changes: a VM refuses files of another version.
pub const FORMAT_VERSION: u16 = 4;

/// No table in a module file may claim more entries than this; it bounds the
/// memory a hostile file can make the decoder reserve.
const MAX_COUNT: u64 = 1 << 24;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub message: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "bad module file at byte {}: {}", self.offset, self.message)
    }
}

#[derive(Debug, Default)]
pub struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn byte(&mut self, b: u8) {
        self.bytes.push(b);
    }

    pub fn unsigned(&mut self, mut value: u64) {
        loop {
            let low = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                self.bytes.push(low);
                return;
            }
            self.bytes.push(low | 0x80);
        }
    }

    pub fn signed(&mut self, value: i64) {
        // Zigzag, so that small negative numbers stay short.
        self.unsigned(((value << 1) ^ (value >> 63)) as u64);
    }

    pub fn text(&mut self, text: &str) {
        self.unsigned(text.len() as u64);
        self.bytes.extend_from_slice(text.as_bytes());
    }

    fn blob(&mut self, bytes: &[u8]) {
        self.unsigned(bytes.len() as u64);
        self.bytes.extend_from_slice(bytes);
    }
}

#[derive(Debug)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, position: 0 }
    }

    pub fn error(&self, message: String) -> DecodeError {
        DecodeError { offset: self.position, message }
    }

    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let b = *self.bytes.get(self.position).ok_or_else(|| self.error("unexpected end of file".to_owned()))?;
        self.position += 1;
        Ok(b)
    }

    pub fn unsigned(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.error("an integer longer than 64 bits".to_owned()))
    }

    pub fn unsigned_below(&mut self, limit: u64) -> Result<u64, DecodeError> {
        let value = self.unsigned()?;
        if value >= limit {
            return Err(self.error(format!("{value} is out of range (below {limit})")));
        }
        Ok(value)
    }

    pub fn signed(&mut self) -> Result<i64, DecodeError> {
        let raw = self.unsigned()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    /// The length of a table or list, bounded so a bad file cannot make us allocate without end.
    pub fn count(&mut self) -> Result<usize, DecodeError> {
        let count = self.unsigned_below(MAX_COUNT)?;
        let remaining = (self.bytes.len() - self.position) as u64;
        // Every entry takes at least one byte.
        if count > remaining {
            return Err(self.error(format!("a count of {count} with {remaining} bytes left")));
        }
        Ok(count as usize)
    }

    fn blob(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.count()?;
        let bytes = &self.bytes[self.position..self.position + len];
        self.position += len;
        Ok(bytes)
    }

    pub fn text(&mut self) -> Result<String, DecodeError> {
        let start = self.position;
        let bytes = self.blob()?;
        String::from_utf8(bytes.to_vec())
            .map_err(|_| DecodeError { offset: start, message: "text is not UTF-8".into() })
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        self.unsigned_below(1 << 32).map(|v| v as u32)
    }
}

/// Encodes a module into the bytes of a module file.
pub fn encode(module: &Module) -> Vec<u8> {
    let mut out = Writer::default();
    out.bytes.extend_from_slice(MAGIC);
    out.bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.unsigned(u64::from(module.name));
    out.unsigned(module.atoms.len() as u64);
    for atom in &module.atoms {
        out.text(atom);
    }
    out.unsigned(module.literals.len() as u64);
    for literal in &module.literals {
        encode_literal(literal, &mut out);
    }
    out.unsigned(module.imports.len() as u64);
    for import in &module.imports {
        for value in [import.module, import.function, import.arity] {
            out.unsigned(u64::from(value));
        }
    }
    out.unsigned(module.exports.len() as u64);
    for &(name, arity, function) in &module.exports {
        for value in [name, arity, function.0] {
            out.unsigned(u64::from(value));
        }
    }
    out.unsigned(module.functions.len() as u64);
    for function in &module.functions {
        for value in [function.name, function.arity, function.start.0] {
            out.unsigned(u64::from(value));
        }
    }
    out.unsigned(module.lambdas.len() as u64);
    for lambda in &module.lambdas {
        for value in [lambda.function.0, lambda.arity, lambda.free] {
            out.unsigned(u64::from(value));
        }
    }
    out.text(&module.file);
    out.unsigned(module.lines.len() as u64);
    for &(pc, line) in &module.lines {
        out.unsigned(u64::from(pc));
        out.unsigned(u64::from(line));
    }
    out.unsigned(module.code.len() as u64);
    for instruction in &module.code {
        instruction.encode(&mut out);
    }
    out.bytes
}

/// Decodes a module file. The result still has to pass `verify::verify`.
pub fn decode(bytes: &[u8]) -> Result<Module, DecodeError> {
    let mut input = Reader::new(bytes);
    if bytes.len() < 6 || &bytes[..4] != MAGIC {
        return Err(input.error("not a module file (bad magic number)".to_owned()));
    }
    let version = u16::from_le_bytes([bytes[4], bytes[5]]);
    if version != FORMAT_VERSION {
        return Err(input.error(format!("format version {version}; this VM reads version {FORMAT_VERSION}")));
    }
    input.position = 6;
    let mut module = Module { name: input.u32()?, ..Module::default() };
    for _ in 0..input.count()? {
        module.atoms.push(input.text()?);
    }
    for _ in 0..input.count()? {
        module.literals.push(decode_literal(&mut input, 0)?);
    }
    for _ in 0..input.count()? {
        module.imports.push(ImportEntry { module: input.u32()?, function: input.u32()?, arity: input.u32()? });
    }
    for _ in 0..input.count()? {
        module.exports.push((input.u32()?, input.u32()?, Local(input.u32()?)));
    }
    for _ in 0..input.count()? {
        module.functions.push(Function { name: input.u32()?, arity: input.u32()?, start: super::Label(input.u32()?) });
    }
    for _ in 0..input.count()? {
        module.lambdas.push(LambdaEntry { function: Local(input.u32()?), arity: input.u32()?, free: input.u32()? });
    }
    module.file = input.text()?;
    for _ in 0..input.count()? {
        module.lines.push((input.u32()?, input.u32()?));
    }
    for _ in 0..input.count()? {
        module.code.push(Instruction::decode(&mut input)?);
    }
    if input.position != bytes.len() {
        return Err(input.error(format!("{} bytes after the end of the module", bytes.len() - input.position)));
    }
    Ok(module)
}

fn encode_literal(literal: &Literal, out: &mut Writer) {
    match literal {
        Literal::Integer(i) => {
            out.byte(0);
            let (sign, magnitude) = i.to_bytes_le();
            out.byte(u8::from(sign == Sign::Minus));
            out.blob(&magnitude);
        }
        Literal::Float(f) => {
            out.byte(1);
            out.bytes.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        Literal::Atom(a) => {
            out.byte(2);
            out.unsigned(u64::from(*a));
        }
        Literal::Nil => out.byte(3),
        Literal::List(items, tail) => {
            out.byte(4);
            out.unsigned(items.len() as u64);
            items.iter().for_each(|item| encode_literal(item, out));
            encode_literal(tail, out);
        }
        Literal::Tuple(items) => {
            out.byte(5);
            out.unsigned(items.len() as u64);
            items.iter().for_each(|item| encode_literal(item, out));
        }
        Literal::Binary(bytes) => {
            out.byte(6);
            out.blob(bytes);
        }
        Literal::Map(pairs) => {
            out.byte(7);
            out.unsigned(pairs.len() as u64);
            for (key, value) in pairs {
                encode_literal(key, out);
                encode_literal(value, out);
            }
        }
    }
}

/// Nesting deeper than this in one literal is refused (it would only come
/// from a hostile file, and recursion must stay bounded).
const MAX_LITERAL_DEPTH: usize = 10_000;

fn decode_literal(input: &mut Reader<'_>, depth: usize) -> Result<Literal, DecodeError> {
    if depth > MAX_LITERAL_DEPTH {
        return Err(input.error("a literal nested too deeply".to_owned()));
    }
    Ok(match input.byte()? {
        0 => {
            let negative = match input.byte()? {
                0 => false,
                1 => true,
                other => return Err(input.error(format!("bad integer sign {other}"))),
            };
            let magnitude = input.blob()?;
            BigInt::from_bytes_le(if negative { Sign::Minus } else { Sign::Plus }, magnitude).into()
        }
        1 => {
            let mut bits = [0u8; 8];
            for b in &mut bits {
                *b = input.byte()?;
            }
            Literal::Float(f64::from_bits(u64::from_le_bytes(bits)))
        }
        2 => Literal::Atom(input.u32()?),
        3 => Literal::Nil,
        4 => {
            let count = input.count()?;
            let items = (0..count).map(|_| decode_literal(input, depth + 1)).collect::<Result<_, _>>()?;
            Literal::List(items, Box::new(decode_literal(input, depth + 1)?))
        }
        5 => {
            let count = input.count()?;
            Literal::Tuple((0..count).map(|_| decode_literal(input, depth + 1)).collect::<Result<_, _>>()?)
        }
        6 => Literal::Binary(input.blob()?.to_vec()),
        7 => {
            let count = input.count()?;
            let mut pairs = Vec::new();
            for _ in 0..count {
                let key = decode_literal(input, depth + 1)?;
                pairs.push((key, decode_literal(input, depth + 1)?));
            }
            Literal::Map(pairs)
        }
        tag => return Err(input.error(format!("bad literal tag {tag}"))),
    })
}

impl From<BigInt> for Literal {
    fn from(i: BigInt) -> Literal {
        Literal::Integer(i)
    }
}
