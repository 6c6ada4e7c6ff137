//! OTP's `file` module for local files (`read_file`, `write_file`,
//! `consult`, `list_dir`, `delete`) and `io:get_line/1`. Errors come back as
//! `{error, Reason}` with OTP's POSIX reason atoms (`enoent`, `eacces`, ...).
//!
//! `consult/1` reads the file's terms with the compiler's lexer and a small
//! reader for literal terms (atoms, numbers, strings, characters, tuples,
//! lists, maps and binaries of byte literals and strings), each ended by `.`.

use std::io::{BufRead, ErrorKind, Write};

use compiler::lexer::{self, Token};
use num_bigint::BigInt;

use super::owned::Owned;
use super::NativeFn;
use crate::atom::{self, atoms};
use crate::exception::{error, Stop};
use crate::heap::binary_bytes;
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("read_file", 1) => |p, a| {
            let path = path_of(a[0])?;
            match std::fs::read(&path) {
                Ok(bytes) => {
                    let binary = super::binary::make_binary(p, a, bytes);
                    ok_tuple(p, binary)
                }
                Err(e) => error_tuple(p, &e),
            }
        },
        ("write_file", 2) => |p, a| {
            let path = path_of(a[0])?;
            let bytes = super::binary::iolist_bytes(a[1])?;
            match std::fs::write(&path, bytes) {
                Ok(()) => Ok(atoms::OK),
                Err(e) => error_tuple(p, &e),
            }
        },
        ("delete", 1) => |p, a| {
            let path = path_of(a[0])?;
            match std::fs::remove_file(&path) {
                Ok(()) => Ok(atoms::OK),
                Err(e) => error_tuple(p, &e),
            }
        },
        ("list_dir", 1) => |p, a| {
            let path = path_of(a[0])?;
            let entries = match std::fs::read_dir(&path) {
                Ok(entries) => entries,
                Err(e) => return error_tuple(p, &e),
            };
            let names: Vec<String> =
                entries.filter_map(Result::ok).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
            let words: usize = names.iter().map(|n| 2 + 2 * n.chars().count()).sum::<usize>() + 3;
            p.ensure(words, a);
            let items: Vec<Term> = names
                .iter()
                .map(|n| {
                    let chars: Vec<Term> =
                        n.chars().map(|c| Term::small(i64::from(u32::from(c))).unwrap_or(Term::NIL)).collect();
                    p.heap.list(&chars)
                })
                .collect();
            let list = p.heap.list(&items);
            Ok(p.heap.tuple(&[atoms::OK, list]))
        },
        ("consult", 1) => |p, a| {
            let path = path_of(a[0])?;
            let text = match std::fs::read_to_string(&path) {
                Ok(text) => text,
                Err(e) => return error_tuple(p, &e),
            };
            match read_terms(&text) {
                Ok(values) => {
                    let words: usize = values.iter().map(Owned::words).sum::<usize>() + 2 * values.len() + 3;
                    p.ensure(words, a);
                    let terms: Vec<Term> = values.iter().map(|v| v.build(&mut p.heap)).collect();
                    let list = p.heap.list(&terms);
                    Ok(p.heap.tuple(&[atoms::OK, list]))
                }
                Err(line) => {
                    // OTP: {error, {Line, erl_parse, Message}}.
                    p.ensure(16, a);
                    let module = atom::intern("erl_parse").unwrap_or(atoms::UNDEFINED);
                    let message = super::erlang::make_string(p, a, "syntax error");
                    let detail = p.heap.tuple(&[Term::small(line as i64).unwrap_or(Term::NIL), module, message]);
                    Ok(p.heap.tuple(&[atoms::ERROR, detail]))
                }
            }
        },
        _ => return None,
    })
}

/// `io:get_line/1`: prints the prompt, reads a line from standard input
/// (with its newline), or `eof`.
pub(super) fn get_line(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let prompt = if a[0].is_atom() {
        atom::name(a[0]).unwrap_or("").to_owned()
    } else {
        super::erlang::string_of(a[0]).or_else(|_| {
            binary_bytes(a[0]).map(|b| String::from_utf8_lossy(b).into_owned()).ok_or_else(|| error(atoms::BADARG))
        })?
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(prompt.as_bytes());
    let _ = stdout.flush();
    drop(stdout);
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => Ok(atom::intern("eof").unwrap_or(atoms::UNDEFINED)),
        Ok(_) => Ok(super::erlang::make_string(p, a, &line)),
        Err(_) => Err(error(atoms::BADARG)),
    }
}

fn path_of(term: Term) -> Result<String, Stop> {
    if term.is_atom() {
        return atom::name(term).map(str::to_owned).ok_or_else(|| error(atoms::BADARG));
    }
    if let Some(bytes) = binary_bytes(term) {
        return String::from_utf8(bytes.to_vec()).map_err(|_| error(atoms::BADARG));
    }
    super::binary::iolist_bytes(term)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .or_else(|| super::erlang::string_of(term).ok())
        .ok_or_else(|| error(atoms::BADARG))
}

fn ok_tuple(p: &mut Process, value: Term) -> Result<Term, Stop> {
    let mut roots = [value];
    p.ensure(3, &mut roots);
    Ok(p.heap.tuple(&[atoms::OK, roots[0]]))
}

/// `{error, Reason}` with OTP's POSIX name for the failure.
fn error_tuple(p: &mut Process, e: &std::io::Error) -> Result<Term, Stop> {
    let reason = match e.kind() {
        ErrorKind::NotFound => "enoent",
        ErrorKind::PermissionDenied => "eacces",
        ErrorKind::AlreadyExists => "eexist",
        ErrorKind::IsADirectory => "eisdir",
        ErrorKind::NotADirectory => "enotdir",
        _ => match e.raw_os_error() {
            Some(21) => "eisdir",
            Some(20) => "enotdir",
            Some(39) => "enotempty",
            _ => "eio",
        },
    };
    let reason = atom::intern(reason).unwrap_or(atoms::UNDEFINED);
    p.ensure(3, &mut []);
    Ok(p.heap.tuple(&[atoms::ERROR, reason]))
}

// ------------------------------------------------------------ reading terms

/// The terms of a file, each ended by `.`; `Err(line)` at a syntax error.
fn read_terms(text: &str) -> Result<Vec<Owned>, usize> {
    let (tokens, errors) = lexer::lex(text);
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    if let Some(first) = errors.first() {
        return Err(line_of(first.span.start as usize));
    }
    let mut reader = Reader { tokens: &tokens, at: 0 };
    let mut values = Vec::new();
    while reader.at < tokens.len() {
        let offset = tokens[reader.at].span.start as usize;
        let value = reader.term(0).ok_or(line_of(offset))?;
        match reader.next() {
            Some(Token::Dot | Token::Period) => values.push(value),
            _ => return Err(line_of(offset)),
        }
    }
    Ok(values)
}

struct Reader<'a> {
    tokens: &'a [lexer::Spanned],
    at: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Option<&Token> {
        let token = self.tokens.get(self.at).map(|t| &t.token);
        self.at += 1;
        token
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at).map(|t| &t.token)
    }

    fn term(&mut self, depth: usize) -> Option<Owned> {
        if depth > 1000 {
            return None;
        }
        Some(match self.next()?.clone() {
            Token::Integer(i) => Owned::Integer(i),
            Token::Float(f) => Owned::Float(f),
            Token::Char(c) => Owned::Integer(BigInt::from(c)),
            Token::Atom(name) => Owned::Atom(atom::intern(&name).ok()?),
            Token::String(s) => {
                // Adjacent strings concatenate, as in source.
                let mut text = s;
                while let Some(Token::String(more)) = self.peek() {
                    text.push_str(more);
                    self.at += 1;
                }
                let items: Vec<Owned> = text.chars().map(|c| Owned::Integer(BigInt::from(u32::from(c)))).collect();
                if items.is_empty() {
                    Owned::Nil
                } else {
                    Owned::List(items, Box::new(Owned::Nil))
                }
            }
            Token::Minus => match self.next()?.clone() {
                Token::Integer(i) => Owned::Integer(-i),
                Token::Float(f) => Owned::Float(-f),
                _ => return None,
            },
            Token::LBrace => Owned::Tuple(self.sequence(Token::RBrace, depth)?),
            Token::LBracket => {
                if self.peek() == Some(&Token::RBracket) {
                    self.at += 1;
                    return Some(Owned::Nil);
                }
                let mut items = vec![self.term(depth + 1)?];
                loop {
                    match self.next()? {
                        Token::Comma => items.push(self.term(depth + 1)?),
                        Token::Bar => {
                            let tail = self.term(depth + 1)?;
                            (self.next()? == &Token::RBracket).then_some(())?;
                            return Some(Owned::List(items, Box::new(tail)));
                        }
                        Token::RBracket => return Some(Owned::List(items, Box::new(Owned::Nil))),
                        _ => return None,
                    }
                }
            }
            Token::Hash => {
                (self.next()? == &Token::LBrace).then_some(())?;
                let mut pairs = Vec::new();
                if self.peek() == Some(&Token::RBrace) {
                    self.at += 1;
                    return Some(Owned::Map(pairs));
                }
                loop {
                    let key = self.term(depth + 1)?;
                    (self.next()? == &Token::FatArrow).then_some(())?;
                    pairs.push((key, self.term(depth + 1)?));
                    match self.next()? {
                        Token::Comma => {}
                        Token::RBrace => return Some(Owned::Map(pairs)),
                        _ => return None,
                    }
                }
            }
            Token::LBin => {
                let mut bytes = Vec::new();
                if self.peek() == Some(&Token::RBin) {
                    self.at += 1;
                    return Some(Owned::Binary(bytes));
                }
                loop {
                    match self.next()?.clone() {
                        Token::Integer(i) => bytes.push(u8::try_from(i).ok()?),
                        Token::String(s) => bytes.extend(s.chars().map(|c| c as u32 as u8)),
                        _ => return None,
                    }
                    match self.next()? {
                        Token::Comma => {}
                        Token::RBin => return Some(Owned::Binary(bytes)),
                        _ => return None,
                    }
                }
            }
            _ => return None,
        })
    }

    fn sequence(&mut self, close: Token, depth: usize) -> Option<Vec<Owned>> {
        let mut items = Vec::new();
        if self.peek() == Some(&close) {
            self.at += 1;
            return Some(items);
        }
        loop {
            items.push(self.term(depth + 1)?);
            match self.next()? {
                Token::Comma => {}
                t if *t == close => return Some(items),
                _ => return None,
            }
        }
    }
}
