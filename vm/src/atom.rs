//! The global atom table: every atom's name, by index. An atom term holds its
//! index, so comparing atoms for equality is comparing words. Atoms are never
//! freed (as on the BEAM), so names are leaked into `&'static str` and a read
//! takes a shared lock only. The atoms the VM itself names (`true`, `badarg`,
//! ...) are created first, in a fixed order, so they are constants.
//!
//! The table is capped at [`MAX_ATOMS`], BEAM's default: a program that makes
//! atoms without end gets `system_limit`, not an exhausted machine.

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use crate::term::Term;

/// The most atoms the table holds (BEAM's default `+t`).
pub const MAX_ATOMS: usize = 1_048_576;

/// Longest atom name in characters, as in OTP.
pub const MAX_ATOM_CHARS: usize = 255;

macro_rules! predefined_atoms {
    ($($constant:ident = $name:literal,)*) => {
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[repr(u32)]
        enum Predefined { $($constant,)* }

        /// The atoms the VM refers to by name; their indices are fixed.
        pub mod atoms {
            use super::{Predefined, Term};
            $(pub const $constant: Term = Term::atom(Predefined::$constant as u32);)*
        }

        const PREDEFINED: &[&str] = &[$($name,)*];
    };
}

predefined_atoms! {
    FALSE = "false",
    TRUE = "true",
    OK = "ok",
    ERROR = "error",
    UNDEFINED = "undefined",
    THROW = "throw",
    EXIT = "exit",
    NORMAL = "normal",
    KILL = "kill",
    KILLED = "killed",
    BADARG = "badarg",
    BADARITH = "badarith",
    BADMATCH = "badmatch",
    FUNCTION_CLAUSE = "function_clause",
    CASE_CLAUSE = "case_clause",
    IF_CLAUSE = "if_clause",
    TRY_CLAUSE = "try_clause",
    UNDEF = "undef",
    BADFUN = "badfun",
    BADARITY = "badarity",
    BADKEY = "badkey",
    BADMAP = "badmap",
    BADRECORD = "badrecord",
    SYSTEM_LIMIT = "system_limit",
    NOPROC = "noproc",
    INFINITY = "infinity",
    TIMEOUT = "timeout",
    EXIT_SIGNAL = "EXIT",
    DOWN = "DOWN",
    NONODE = "nonode@nohost",
    ERLANG = "erlang",
    FILE = "file",
    LINE = "line",
    MAIN = "main",
    NONE = "none",
    NOMATCH = "nomatch",
    TIMEOUT_VALUE = "timeout_value",
    PROCESS = "process",
    NOCATCH = "nocatch",
    TRAP_EXIT = "trap_exit",
    FLUSH = "flush",
    INFO = "info",
    TCP = "tcp",
    TCP_CLOSED = "tcp_closed",
    TCP_ERROR = "tcp_error",
    TCP_PASSIVE = "tcp_passive",
    INET_ASYNC = "inet_async",
    INET_REPLY = "inet_reply",
    WAIT = "wait",
    CLOSED = "closed",
    EINVAL = "einval",
    ENOTCONN = "enotconn",
    EALREADY = "ealready",
    EMSGSIZE = "emsgsize",
    EMFILE = "emfile",
    ENFILE = "enfile",
    ECONNREFUSED = "econnrefused",
    ECONNRESET = "econnreset",
    EADDRINUSE = "eaddrinuse",
    EADDRNOTAVAIL = "eaddrnotavail",
    ENOMEM = "enomem",
    NOT_OWNER = "not_owner",
    NXDOMAIN = "nxdomain",
    CONNECTED = "connected",
}

struct Table {
    names: Vec<&'static str>,
    indices: HashMap<&'static str, u32>,
}

fn table() -> &'static RwLock<Table> {
    static TABLE: OnceLock<RwLock<Table>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Table { names: Vec::with_capacity(1024), indices: HashMap::with_capacity(1024) };
        for name in PREDEFINED {
            let index = table.names.len() as u32;
            table.names.push(name);
            table.indices.insert(name, index);
        }
        RwLock::new(table)
    })
}

/// Why an atom could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomError {
    /// More than [`MAX_ATOM_CHARS`] characters (`system_limit` in OTP).
    TooLong,
    /// The table is full (`system_limit` in OTP).
    TableFull,
}

/// The atom named `name`, made if it does not exist yet.
pub fn intern(name: &str) -> Result<Term, AtomError> {
    if let Some(term) = existing(name) {
        return Ok(term);
    }
    if name.chars().count() > MAX_ATOM_CHARS {
        return Err(AtomError::TooLong);
    }
    let mut table = table().write().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(&index) = table.indices.get(name) {
        return Ok(Term::atom(index));
    }
    if table.names.len() >= MAX_ATOMS {
        return Err(AtomError::TableFull);
    }
    let index = table.names.len() as u32;
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    table.names.push(name);
    table.indices.insert(name, index);
    Ok(Term::atom(index))
}

/// The atom named `name` if it exists (`list_to_existing_atom`).
pub fn existing(name: &str) -> Option<Term> {
    let table = table().read().unwrap_or_else(|poisoned| poisoned.into_inner());
    table.indices.get(name).map(|&index| Term::atom(index))
}

/// The name of an atom term; `None` if `atom` is not an atom of this table.
pub fn name(atom: Term) -> Option<&'static str> {
    if !atom.is_atom() {
        return None;
    }
    let table = table().read().unwrap_or_else(|poisoned| poisoned.into_inner());
    table.names.get(atom.atom_index() as usize).copied()
}

/// How many atoms exist (`erlang:system_info(atom_count)`).
/// Bytes the atom table holds: the names and their index entries.
pub fn memory_bytes() -> usize {
    let table = table().read().unwrap_or_else(|e| e.into_inner());
    table.names.iter().map(|name| name.len() + 3 * std::mem::size_of::<usize>()).sum()
}

pub fn count() -> usize {
    table().read().unwrap_or_else(|poisoned| poisoned.into_inner()).names.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predefined_atoms_have_their_names() {
        assert_eq!(name(atoms::TRUE), Some("true"));
        assert_eq!(name(atoms::EXIT_SIGNAL), Some("EXIT"));
        assert_eq!(intern("badarg"), Ok(atoms::BADARG));
    }

    #[test]
    fn interning_is_idempotent_and_names_round_trip() {
        let a = intern("a_fresh_atom_for_this_test").unwrap();
        assert_eq!(intern("a_fresh_atom_for_this_test").unwrap(), a);
        assert_eq!(name(a), Some("a_fresh_atom_for_this_test"));
        assert_eq!(existing("never_interned_anywhere_xyz"), None);
        assert_eq!(intern(&"x".repeat(256)), Err(AtomError::TooLong));
        assert!(intern(&"é".repeat(255)).is_ok(), "the limit is in characters, not bytes");
    }
}
