//! The line editor's helper for rustyline: input is complete at the `.`
//! that ends an expression (so Enter before it continues on a new line),
//! atoms, variables, strings and numbers are coloured with the compiler's
//! own lexer, the bracket matching the one at the cursor is shown, and Tab
//! completes module names, `module:function` with the arities, the shell
//! commands and the bound variables.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::{Arc, Mutex, PoisonError};

use compiler::lexer::{self, Token};
use rustyline::completion::{Completer, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use crate::atom;
use crate::code::CodeServer;

/// The shell commands a local call reaches, as completed at the prompt.
const COMMANDS: &[&str] = &[
    "b()", "c(", "f()", "f(", "flush()", "h(", "help()", "i()", "l(", "lm()", "m()", "m(", "pid(", "q()", "regs()",
    "v(",
];

/// What completion and highlighting need from the session.
#[derive(Debug)]
pub struct ShellHelper {
    pub code: &'static CodeServer,
    /// The variables bound now, kept up to date by the REPL loop.
    pub bound: Arc<Mutex<Vec<String>>>,
    pub color: bool,
    /// The byte offset of the bracket at the cursor, whose match is shown.
    bracket: Cell<Option<usize>>,
}

impl ShellHelper {
    pub fn new(code: &'static CodeServer, bound: Arc<Mutex<Vec<String>>>, color: bool) -> ShellHelper {
        ShellHelper { code, bound, color, bracket: Cell::new(None) }
    }
}

impl Helper for ShellHelper {}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        // An empty line gives a new prompt, as erl's does.
        if input.trim().is_empty() || compiler::shell::is_complete(input) {
            Ok(ValidationResult::Valid(None))
        } else {
            Ok(ValidationResult::Incomplete)
        }
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, _: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .take_while(|&(_, c)| c.is_alphanumeric() || c == '_' || c == '@' || c == ':')
            .last()
            .map_or(pos, |(i, _)| i);
        Ok((start, self.candidates(&before[start..])))
    }
}

impl ShellHelper {
    /// Completions of `word` (the text before the cursor back to a
    /// character that cannot be in a name).
    pub fn candidates(&self, word: &str) -> Vec<Pair> {
        let pair = |display: String, replacement: String| Pair { display, replacement };
        let mut found: Vec<Pair> = Vec::new();
        if let Some((module, prefix)) = word.split_once(':') {
            let Ok(name) = atom::intern(module) else { return found };
            // Loads the module if it is not yet: its exports are what completes.
            let Some(loaded) = self.code.current(name) else { return found };
            let mut exports: Vec<(String, u32)> = loaded
                .exports
                .keys()
                .filter_map(|&(f, arity)| atom::name(f).map(|f| (f.to_owned(), arity)))
                .filter(|(f, _)| f.starts_with(prefix) && !f.starts_with('$'))
                .collect();
            exports.sort();
            let mut names: Vec<&str> = exports.iter().map(|(f, _)| f.as_str()).collect();
            names.dedup();
            for f in names {
                let arities: Vec<String> = exports.iter().filter(|(g, _)| g == f).map(|(_, a)| a.to_string()).collect();
                found.push(pair(format!("{f}/{}", arities.join(",")), format!("{module}:{f}(")));
            }
        } else if word.starts_with(|c: char| c.is_uppercase() || c == '_') {
            let bound = self.bound.lock().unwrap_or_else(PoisonError::into_inner);
            let mut vars: Vec<&String> = bound.iter().filter(|v| v.starts_with(word)).collect();
            vars.sort();
            found.extend(vars.into_iter().map(|v| pair(v.clone(), v.clone())));
        } else if !word.is_empty() {
            for command in COMMANDS.iter().filter(|c| c.starts_with(word)) {
                found.push(pair((*command).to_owned(), (*command).to_owned()));
            }
            for module in self.code.known_modules().into_iter().filter(|m| m.starts_with(word)) {
                if !module.starts_with('$') {
                    found.push(pair(format!("{module}:"), format!("{module}:")));
                }
            }
        }
        found
    }
}

impl Highlighter for ShellHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if !self.color || line.is_empty() {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight(line, self.bracket.get()))
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        if kind == CmdKind::ForcedRefresh {
            self.bracket.set(None);
            return self.color;
        }
        // The bracket under the cursor, or just before it.
        let at = |i: usize| line.as_bytes().get(i).is_some_and(|b| b"()[]{}".contains(b));
        let bracket = if at(pos) { Some(pos) } else { pos.checked_sub(1).filter(|&i| at(i)) };
        self.bracket.set(bracket);
        // Colours change with every edit: redraw the line each time.
        self.color
    }
}

/// `line` with ANSI colours: atoms cyan, variables yellow, strings and
/// characters green, numbers magenta, and the bracket matching the one at
/// byte `bracket` (if that is a bracket token) bold blue.
pub fn highlight(line: &str, bracket: Option<usize>) -> String {
    let (tokens, _) = lexer::lex(line);
    let partner = bracket.and_then(|at| matching_bracket(&tokens, at));
    let mut out = String::with_capacity(line.len() * 2);
    let mut copied = 0;
    for (i, token) in tokens.iter().enumerate() {
        let colour = match token.token {
            _ if Some(i) == partner => "1;34",
            Token::Atom(_) => "36",
            Token::Var(_) => "33",
            Token::String(_) | Token::Char(_) => "32",
            Token::Integer(_) | Token::Float(_) => "35",
            _ => continue,
        };
        let range = token.span.range();
        out.push_str(&line[copied..range.start]);
        out.push_str(&format!("\x1b[{colour}m{}\x1b[0m", &line[range.clone()]));
        copied = range.end;
    }
    out.push_str(&line[copied..]);
    out
}

/// The index of the token that matches the bracket token starting at byte `at`.
fn matching_bracket(tokens: &[lexer::Spanned], at: usize) -> Option<usize> {
    let index = tokens.iter().position(|t| t.span.start as usize == at)?;
    let opens = |t: &Token| matches!(t, Token::LParen | Token::LBracket | Token::LBrace);
    let closes = |t: &Token| matches!(t, Token::RParen | Token::RBracket | Token::RBrace);
    let token = &tokens[index].token;
    let mut depth = 0i32;
    if opens(token) {
        for (i, t) in tokens.iter().enumerate().skip(index) {
            depth += i32::from(opens(&t.token)) - i32::from(closes(&t.token));
            if depth == 0 {
                return Some(i);
            }
        }
    } else if closes(token) {
        for i in (0..=index).rev() {
            let t = &tokens[i].token;
            depth += i32::from(closes(t)) - i32::from(opens(t));
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_get_their_colours() {
        let shown = highlight("X = {ok, \"s\", 42}.", None);
        assert_eq!(shown, "\x1b[33mX\x1b[0m = {\x1b[36mok\x1b[0m, \x1b[32m\"s\"\x1b[0m, \x1b[35m42\x1b[0m}.");
    }

    #[test]
    fn the_matching_bracket_is_shown_ignoring_brackets_in_strings() {
        let line = "f([a, \")\"], (b)).";
        // The `(` at byte 1 matches the `)` at byte 15, not the one in the string.
        let shown = highlight(line, Some(1));
        assert!(shown.contains("\x1b[1;34m)\x1b[0m."), "{shown:?}");
        let tokens = lexer::lex(line).0;
        let partner = matching_bracket(&tokens, 15).unwrap();
        assert_eq!(tokens[partner].span.start, 1);
    }

    #[test]
    fn completion_offers_modules_functions_commands_and_variables() {
        let code: &'static CodeServer = Box::leak(Box::new(CodeServer::new()));
        crate::stdlib::register(code);
        let bound = Arc::new(Mutex::new(vec!["Xs".to_owned(), "Count".to_owned(), "X".to_owned()]));
        let helper = ShellHelper::new(code, bound, false);
        let shown = |word: &str| helper.candidates(word).into_iter().map(|p| p.display).collect::<Vec<_>>();
        assert_eq!(shown("X"), ["X", "Xs"]);
        assert!(shown("lis").contains(&"lists:".to_owned()));
        assert_eq!(shown("fl"), ["flush()"]);
        let reverse = helper.candidates("lists:rev");
        assert_eq!(reverse[0].display, "reverse/1,2");
        assert_eq!(reverse[0].replacement, "lists:reverse(");
    }
}
