//! Operand types of the instruction set. Each one knows how to encode itself
//! into the module file, decode itself (refusing bad input), print itself in
//! the disassembly, and check itself against the module it is in; the opcode
//! table in `opcodes.rs` derives whole instructions from these.

use std::fmt;

use super::format::{DecodeError, Reader, Writer};
use super::verify::Context;

/// A register: `x` registers hold arguments and temporaries and are clobbered
/// by calls; `y` registers are slots of the current function's stack frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reg {
    X(u16),
    Y(u16),
}

/// How many `x` registers a process has (as many as BEAM).
pub const X_REGISTERS: usize = 1024;

/// A source operand: a register or a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Src {
    Reg(Reg),
    /// An atom of the module's atom table.
    Atom(u32),
    /// A small integer (fits the VM's immediate; larger ones are literals).
    Int(i64),
    Nil,
    /// An entry of the module's literal table.
    Literal(u32),
}

/// An instruction index in the module's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label(pub u32);

/// An index in the module's import table (`module:function/arity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Import(pub u32);

/// An index in the module's function table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Local(pub u32);

/// An index in the module's lambda (fun) table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lambda(pub u32);

/// An index in the module's atom table, where an atom (not a term) is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtomIndex(pub u32);

/// The operations every operand type supports.
pub trait Operand: Sized {
    fn encode(&self, out: &mut Writer);
    fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError>;
    fn show(&self, context: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result;
    /// Checks indices against the module; `Err` says what is wrong.
    fn verify(&self, context: &mut Context<'_>) -> Result<(), String>;
    /// Calls `f` with every label in the operand (branch targets).
    fn visit_labels(&mut self, _f: &mut dyn FnMut(&mut Label)) {}
    /// Calls `f` with every source operand inside (the values read).
    fn visit_srcs(&mut self, _f: &mut dyn FnMut(&mut Src)) {}
    /// Calls `f` with every register operand that is not a source (the
    /// registers written, and a match's offset, which is also read).
    fn visit_regs(&mut self, _f: &mut dyn FnMut(&mut Reg)) {}
}

impl Operand for u32 {
    fn encode(&self, out: &mut Writer) {
        out.unsigned(u64::from(*self));
    }
    fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError> {
        input.unsigned_below(u64::from(u32::MAX) + 1).map(|v| v as u32)
    }
    fn show(&self, _: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
    fn verify(&self, _: &mut Context<'_>) -> Result<(), String> {
        Ok(())
    }
}

impl Operand for Reg {
    fn encode(&self, out: &mut Writer) {
        match *self {
            Reg::X(i) => out.unsigned(u64::from(i) << 1),
            Reg::Y(i) => out.unsigned((u64::from(i) << 1) | 1),
        }
    }
    fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let raw = input.unsigned_below(1 << 17)?;
        let index = (raw >> 1) as u16;
        Ok(if raw & 1 == 0 { Reg::X(index) } else { Reg::Y(index) })
    }
    fn show(&self, _: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reg::X(i) => write!(f, "x{i}"),
            Reg::Y(i) => write!(f, "y{i}"),
        }
    }
    fn verify(&self, context: &mut Context<'_>) -> Result<(), String> {
        context.register(*self)
    }
    fn visit_regs(&mut self, f: &mut dyn FnMut(&mut Reg)) {
        f(self)
    }
}

impl Operand for Src {
    fn encode(&self, out: &mut Writer) {
        match *self {
            Src::Reg(reg) => {
                out.byte(0);
                reg.encode(out);
            }
            Src::Atom(i) => {
                out.byte(1);
                out.unsigned(u64::from(i));
            }
            Src::Int(i) => {
                out.byte(2);
                out.signed(i);
            }
            Src::Nil => out.byte(3),
            Src::Literal(i) => {
                out.byte(4);
                out.unsigned(u64::from(i));
            }
        }
    }
    fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match input.byte()? {
            0 => Src::Reg(Reg::decode(input)?),
            1 => Src::Atom(u32::decode(input)?),
            2 => Src::Int(input.signed()?),
            3 => Src::Nil,
            4 => Src::Literal(u32::decode(input)?),
            tag => return Err(input.error(format!("bad source operand tag {tag}"))),
        })
    }
    fn show(&self, context: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Src::Reg(reg) => reg.show(context, f),
            Src::Atom(i) => write!(f, "{}", context.atom_text(*i)),
            Src::Int(i) => write!(f, "{i}"),
            Src::Nil => f.write_str("[]"),
            Src::Literal(i) => write!(f, "literal{i}"),
        }
    }
    fn verify(&self, context: &mut Context<'_>) -> Result<(), String> {
        match *self {
            Src::Reg(reg) => context.register(reg),
            Src::Atom(i) => context.atom(i),
            Src::Int(i) => {
                if (-(1i64 << 59)..(1i64 << 59)).contains(&i) {
                    Ok(())
                } else {
                    Err(format!("integer operand {i} does not fit a small integer"))
                }
            }
            Src::Nil => Ok(()),
            Src::Literal(i) => context.literal(i),
        }
    }
    fn visit_srcs(&mut self, f: &mut dyn FnMut(&mut Src)) {
        f(self)
    }
}

macro_rules! index_operand {
    ($type:ident, $prefix:literal, $check:ident) => {
        index_operand!($type, $prefix, $check, |_label: &mut $type, _f: &mut dyn FnMut(&mut Label)| {});
    };
    ($type:ident, $prefix:literal, $check:ident, $visit:expr) => {
        impl Operand for $type {
            fn encode(&self, out: &mut Writer) {
                out.unsigned(u64::from(self.0));
            }
            fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError> {
                u32::decode(input).map($type)
            }
            fn show(&self, context: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                context.$check(self.0, f, $prefix)
            }
            fn verify(&self, context: &mut Context<'_>) -> Result<(), String> {
                context.index(self.0, stringify!($check))
            }
            fn visit_labels(&mut self, f: &mut dyn FnMut(&mut Label)) {
                ($visit)(self, f);
            }
        }
    };
}

// A label visits itself; the other index operands hold no labels.
index_operand!(Label, "L", show_label, |label: &mut Label, f: &mut dyn FnMut(&mut Label)| f(label));
index_operand!(Import, "", show_import);
index_operand!(Local, "", show_local);
index_operand!(Lambda, "lambda", show_lambda);
index_operand!(AtomIndex, "", show_atom);

impl<T: Operand> Operand for Vec<T> {
    fn encode(&self, out: &mut Writer) {
        out.unsigned(self.len() as u64);
        for item in self {
            item.encode(out);
        }
    }
    fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let count = input.count()?;
        (0..count).map(|_| T::decode(input)).collect()
    }
    fn show(&self, context: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            item.show(context, f)?;
        }
        f.write_str("]")
    }
    fn verify(&self, context: &mut Context<'_>) -> Result<(), String> {
        self.iter().try_for_each(|item| item.verify(context))
    }
    fn visit_labels(&mut self, f: &mut dyn FnMut(&mut Label)) {
        self.iter_mut().for_each(|item| item.visit_labels(f));
    }
    fn visit_srcs(&mut self, f: &mut dyn FnMut(&mut Src)) {
        self.iter_mut().for_each(|item| item.visit_srcs(f));
    }
    fn visit_regs(&mut self, f: &mut dyn FnMut(&mut Reg)) {
        self.iter_mut().for_each(|item| item.visit_regs(f));
    }
}

impl<A: Operand, B: Operand> Operand for (A, B) {
    fn encode(&self, out: &mut Writer) {
        self.0.encode(out);
        self.1.encode(out);
    }
    fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok((A::decode(input)?, B::decode(input)?))
    }
    fn show(&self, context: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.show(context, f)?;
        f.write_str(" => ")?;
        self.1.show(context, f)
    }
    fn verify(&self, context: &mut Context<'_>) -> Result<(), String> {
        self.0.verify(context)?;
        self.1.verify(context)
    }
    fn visit_labels(&mut self, f: &mut dyn FnMut(&mut Label)) {
        self.0.visit_labels(f);
        self.1.visit_labels(f);
    }
    fn visit_srcs(&mut self, f: &mut dyn FnMut(&mut Src)) {
        self.0.visit_srcs(f);
        self.1.visit_srcs(f);
    }
    fn visit_regs(&mut self, f: &mut dyn FnMut(&mut Reg)) {
        self.0.visit_regs(f);
        self.1.visit_regs(f);
    }
}

/// The type of a bit-syntax segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentType {
    Integer,
    Float,
    /// `binary` or `bytes`.
    Binary,
    Utf8,
}

/// One segment of a binary being built or matched: its type, value (unused
/// when matching), size in units, unit in bits and flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    pub kind: SegmentType,
    pub value: Src,
    pub size: Src,
    pub unit: u32,
    pub flags: u32,
}

impl Segment {
    /// Little-endian (`little`, and `native` on the machines we run on).
    pub const LITTLE: u32 = 1;
    /// A signed integer.
    pub const SIGNED: u32 = 2;
    /// No size: a binary segment takes all of its value (building) or the
    /// rest of the binary (matching); `size` is ignored.
    pub const ALL: u32 = 4;
}

impl Operand for Segment {
    fn encode(&self, out: &mut Writer) {
        out.byte(match self.kind {
            SegmentType::Integer => 0,
            SegmentType::Float => 1,
            SegmentType::Binary => 2,
            SegmentType::Utf8 => 3,
        });
        self.value.encode(out);
        self.size.encode(out);
        self.unit.encode(out);
        self.flags.encode(out);
    }
    fn decode(input: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let kind = match input.byte()? {
            0 => SegmentType::Integer,
            1 => SegmentType::Float,
            2 => SegmentType::Binary,
            3 => SegmentType::Utf8,
            other => return Err(input.error(format!("bad segment type {other}"))),
        };
        Ok(Segment {
            kind,
            value: Src::decode(input)?,
            size: Src::decode(input)?,
            unit: u32::decode(input)?,
            flags: u32::decode(input)?,
        })
    }
    fn show(&self, context: &Context<'_>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<")?;
        self.value.show(context, f)?;
        if self.flags & Segment::ALL != 0 {
            f.write_str(":all")?;
        } else {
            f.write_str(":")?;
            self.size.show(context, f)?;
        }
        write!(f, "/{:?}-unit:{}", self.kind, self.unit)?;
        if self.flags & Segment::LITTLE != 0 {
            f.write_str("-little")?;
        }
        if self.flags & Segment::SIGNED != 0 {
            f.write_str("-signed")?;
        }
        f.write_str(">")
    }
    fn verify(&self, context: &mut Context<'_>) -> Result<(), String> {
        if self.flags >= 8 {
            return Err(format!("segment flags {}", self.flags));
        }
        if !(1..=256).contains(&self.unit) {
            return Err(format!("segment unit {}", self.unit));
        }
        self.value.verify(context)?;
        self.size.verify(context)
    }
    fn visit_srcs(&mut self, f: &mut dyn FnMut(&mut Src)) {
        f(&mut self.value);
        f(&mut self.size);
    }
}
