//! The preprocessor, as Erlang's `epp`, on tokens: splits the token stream
//! into forms (each ending with the `.` token), runs the conditional directives
//! (`-ifdef`, `-ifndef`, `-else`, `-endif`), records `-define`s and expands
//! `?NAME` and `?NAME(Args)`, including `??Arg` and the predefined `?MODULE`,
//! `?MODULE_STRING`, `?FILE`, `?LINE`, `?FUNCTION_NAME`, `?FUNCTION_ARITY`.
//!
//! Tokens a macro produces carry the span of the macro's use, so a later error
//! points where the user wrote `?NAME`. Directives outside the subset
//! (`-include`, `-if`) are refused here with a clear error.

use std::collections::HashMap;

use num_bigint::BigInt;

use crate::ast::Span;
use crate::diagnostic::Diagnostic;
use crate::lexer::{Spanned, Token};

/// Deeper macro expansion than this is taken to be a circular definition.
const MAX_EXPANSION_DEPTH: usize = 64;

/// The forms of a file after preprocessing; each ends with [`Token::Dot`].
#[derive(Debug, Default)]
pub struct Preprocessed {
    pub forms: Vec<Vec<Spanned>>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
struct Macro {
    params: Option<Vec<String>>,
    body: Vec<Spanned>,
}

#[derive(Debug)]
struct Conditional {
    /// Whether the branch being read is taken.
    taking: bool,
    /// Whether the enclosing region was active at the `-ifdef`.
    parent_active: bool,
    seen_else: bool,
    span: Span,
}

struct Preprocessor<'a> {
    source: &'a str,
    file_name: &'a str,
    line_starts: Vec<usize>,
    /// Macros by name, then by arity (`None` for a macro without parentheses).
    macros: HashMap<String, HashMap<Option<usize>, Macro>>,
    conditionals: Vec<Conditional>,
    module: Option<String>,
    /// The function whose clause is being expanded, for `?FUNCTION_NAME`.
    function: Option<(String, usize)>,
    /// Tokens the current form may still grow by through expansion, so that a
    /// macro that doubles at each level cannot exhaust memory.
    budget: usize,
    diagnostics: Vec<Diagnostic>,
}

const PREDEFINED: &[&str] = &["MODULE", "MODULE_STRING", "FILE", "LINE", "FUNCTION_NAME", "FUNCTION_ARITY", "MACHINE"];

pub fn preprocess(tokens: Vec<Spanned>, source: &str, file_name: &str) -> Preprocessed {
    let mut line_starts = vec![0];
    line_starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
    let mut pp = Preprocessor {
        source,
        file_name,
        line_starts,
        macros: HashMap::new(),
        conditionals: Vec::new(),
        module: None,
        function: None,
        budget: 0,
        diagnostics: Vec::new(),
    };
    let mut forms = Vec::new();
    let mut current = Vec::new();
    for token in tokens {
        let is_dot = token.token == Token::Dot;
        current.push(token);
        if is_dot {
            if let Some(form) = pp.form(std::mem::take(&mut current)) {
                forms.push(form);
            }
        }
    }
    if let Some(last) = current.last() {
        // After a bad token (often an unterminated string) that error says it all.
        if pp.active() && last.token != Token::Error {
            pp.diagnostics.push(
                Diagnostic::error("missing-dot", "the last form is not ended by `.`", last.span)
                    .with_label("expected `.` after this")
                    .with_note("every attribute and function ends with a `.` followed by white space"),
            );
        }
    }
    for conditional in &pp.conditionals {
        pp.diagnostics.push(
            Diagnostic::error("missing-endif", "this conditional has no `-endif`", conditional.span)
                .with_label("opened here"),
        );
    }
    Preprocessed { forms, diagnostics: pp.diagnostics }
}

fn macro_name(token: &Token) -> Option<&str> {
    match token {
        Token::Atom(name) | Token::Var(name) => Some(name),
        _ => None,
    }
}

impl Preprocessor<'_> {
    fn active(&self) -> bool {
        self.conditionals.last().is_none_or(|c| c.taking && c.parent_active)
    }

    /// Handles one raw form; returns it expanded when it is for the parser.
    fn form(&mut self, form: Vec<Spanned>) -> Option<Vec<Spanned>> {
        let directive = match (form.first(), form.get(1)) {
            (Some(Spanned { token: Token::Minus, .. }), Some(Spanned { token: Token::Atom(name), .. })) => {
                Some(name.as_str())
            }
            // `-else.` and `-if(...)` lex as keywords.
            (Some(Spanned { token: Token::Minus, .. }), Some(Spanned { token: Token::If, .. })) => Some("if"),
            _ => None,
        };
        let span = form[0].span.to(form[form.len() - 1].span);
        // Diagnostics about a directive point at its name, as epp's do.
        let name_span = form.get(1).map_or(span, |t| t.span);
        match directive {
            Some("ifdef" | "ifndef") => {
                let parent_active = self.active();
                let taking = match self.directive_name(&form) {
                    Some(name) => self.macros.contains_key(&name) == (directive == Some("ifdef")),
                    None => false,
                };
                self.conditionals.push(Conditional { taking, parent_active, seen_else: false, span });
                None
            }
            Some("else") => {
                match self.conditionals.last_mut() {
                    Some(c) if !c.seen_else => {
                        c.taking = !c.taking;
                        c.seen_else = true;
                    }
                    Some(_) => {
                        self.error("unbalanced-conditional", "a second `-else` for the same `-ifdef`", name_span)
                    }
                    None => self.error("unbalanced-conditional", "`-else` without `-ifdef` or `-ifndef`", name_span),
                }
                None
            }
            Some("endif") => {
                if self.conditionals.pop().is_none() {
                    self.error("unbalanced-conditional", "`-endif` without `-ifdef` or `-ifndef`", name_span);
                }
                None
            }
            _ if !self.active() => None,
            Some("define") => {
                self.define(&form, span);
                None
            }
            Some("undef") => {
                if let Some(name) = self.directive_name(&form) {
                    self.macros.remove(&name);
                }
                None
            }
            Some(other @ ("include" | "include_lib" | "if" | "elif" | "feature")) => {
                self.diagnostics.push(
                    Diagnostic::error(
                        "outside-subset",
                        format!("the `-{other}` directive is outside the .actor subset"),
                        span,
                    )
                    .with_label("not supported")
                    .with_note("put shared definitions in the module itself; use -ifdef/-ifndef for conditions"),
                );
                None
            }
            _ => {
                if form.iter().any(|t| t.token == Token::Error) {
                    // Its lexical errors are reported; parsing it would only add noise.
                    return None;
                }
                if directive == Some("module") {
                    if let Some(Spanned { token: Token::Atom(name), .. }) = form.get(3) {
                        self.module = Some(name.clone());
                    }
                }
                self.function = function_head(&form);
                self.budget = crate::parser::MAX_FORM_TOKENS;
                let before = self.diagnostics.len();
                let expanded = self.expand(&form, 0);
                // A form with a failed expansion would only produce confusing syntax errors.
                (self.diagnostics.len() == before).then_some(expanded)
            }
        }
    }

    fn error(&mut self, id: &'static str, message: &str, span: Span) {
        self.diagnostics.push(Diagnostic::error(id, message, span));
    }

    /// The name in `-ifdef(NAME).` and `-undef(NAME).`.
    fn directive_name(&mut self, form: &[Spanned]) -> Option<String> {
        let tokens: Vec<&Token> = form.iter().map(|t| &t.token).collect();
        if let [Token::Minus, _, Token::LParen, name, Token::RParen, Token::Dot] = tokens.as_slice() {
            if let Some(name) = macro_name(name) {
                return Some(name.to_owned());
            }
        }
        let span = form[0].span.to(form[form.len() - 1].span);
        self.error("bad-directive", "expected `-directive(NAME).` with one macro name", span);
        None
    }

    /// `-define(NAME, Body).` or `-define(NAME(P1, P2), Body).`
    fn define(&mut self, form: &[Spanned], span: Span) {
        let bad = |pp: &mut Self, why: &str| {
            pp.diagnostics.push(
                Diagnostic::error("bad-define", format!("bad -define: {why}"), span)
                    .with_note("the forms are -define(NAME, Body). and -define(NAME(Arg, ...), Body)."),
            );
        };
        // - define ( NAME [ ( Params ) ] , Body ) .
        let n = form.len();
        if n < 6 || form[2].token != Token::LParen || form[n - 2].token != Token::RParen {
            return bad(self, "expected `(` after define and `)` before the final `.`");
        }
        let Some(name) = macro_name(&form[3].token).map(str::to_owned) else {
            return bad(self, "the macro name must be an atom or a variable");
        };
        let mut i = 4;
        let mut params = None;
        if form[i].token == Token::LParen {
            let mut names = Vec::new();
            i += 1;
            if form.get(i).map(|t| &t.token) == Some(&Token::RParen) {
                i += 1;
            } else {
                loop {
                    match (form.get(i).map(|t| &t.token), form.get(i + 1).map(|t| &t.token)) {
                        (Some(Token::Var(param)), Some(Token::Comma)) => names.push(param.clone()),
                        (Some(Token::Var(param)), Some(Token::RParen)) => {
                            names.push(param.clone());
                            i += 2;
                            break;
                        }
                        _ => return bad(self, "macro parameters must be variables separated by commas"),
                    }
                    i += 2;
                    if i + 1 >= n {
                        return bad(self, "unterminated parameter list");
                    }
                }
            }
            params = Some(names);
        }
        if form.get(i).map(|t| &t.token) != Some(&Token::Comma) {
            return bad(self, "expected `,` after the macro name");
        }
        if PREDEFINED.contains(&name.as_str()) {
            return self.error("bad-define", &format!("redefining predefined macro '{name}'"), form[3].span);
        }
        let body = form[i + 1..n - 2].to_vec();
        let arity = params.as_ref().map(Vec::len);
        let slot = self.macros.entry(name.clone()).or_default();
        if slot.contains_key(&arity) {
            return self.error("bad-define", &format!("redefining macro '{name}'"), form[3].span);
        }
        slot.insert(arity, Macro { params, body });
    }

    fn line_of(&self, offset: u32) -> usize {
        self.line_starts.partition_point(|&start| start <= offset as usize)
    }

    fn expand(&mut self, tokens: &[Spanned], depth: usize) -> Vec<Spanned> {
        let mut out = Vec::with_capacity(tokens.len());
        let mut i = 0;
        while i < tokens.len() {
            if self.budget == 0 {
                return out;
            }
            self.budget -= 1;
            if self.budget == 0 {
                let span = tokens[i].span;
                self.error("form-too-large", "macro expansion makes this form larger than the compiler accepts", span);
                return out;
            }
            match &tokens[i].token {
                Token::Question => i = self.expand_use(tokens, i, depth, &mut out),
                Token::QuestionQuestion => {
                    self.error("bad-macro", "`??` may only stand before a macro parameter", tokens[i].span);
                    i += 1;
                }
                _ => {
                    out.push(tokens[i].clone());
                    i += 1;
                }
            }
        }
        out
    }

    /// Expands the macro use at `tokens[at]` (a `?`) into `out`; returns the index after it.
    fn expand_use(&mut self, tokens: &[Spanned], at: usize, depth: usize, out: &mut Vec<Spanned>) -> usize {
        let question = tokens[at].span;
        let Some(name) = tokens.get(at + 1).and_then(|t| macro_name(&t.token)).map(str::to_owned) else {
            self.error("bad-macro", "`?` must be followed by a macro name", question);
            return at + 1;
        };
        let name_span = question.to(tokens[at + 1].span);
        // Errors point at the name, as epp's do; expansions take the whole use.
        let name_only = tokens[at + 1].span;
        let after_name = at + 2;
        if depth > MAX_EXPANSION_DEPTH {
            self.error("bad-macro", &format!("macro '{name}' expands without end (circular definition?)"), name_only);
            return tokens.len();
        }
        let definitions = self.macros.get(&name).cloned();
        let Some(definitions) = definitions else {
            if let Some(token) = self.predefined(&name, name_span) {
                out.push(Spanned { token, span: name_span });
            } else {
                self.diagnostics.push(Diagnostic::error(
                    "undefined-macro",
                    format!("undefined macro '{name}'"),
                    name_only,
                ));
            }
            return after_name;
        };
        let has_args = tokens.get(after_name).is_some_and(|t| t.token == Token::LParen);
        let args = if has_args { split_arguments(tokens, after_name) } else { None };
        if let Some((args, end)) = &args {
            if let Some(definition) = definitions.get(&Some(args.len())) {
                let span = question.to(tokens[*end - 1].span);
                let body = substitute(definition, args, span, self.source);
                out.extend(self.expand(&body, depth + 1));
                return *end;
            }
        }
        if let Some(definition) = definitions.get(&None) {
            let body: Vec<Spanned> =
                definition.body.iter().map(|t| Spanned { token: t.token.clone(), span: name_span }).collect();
            out.extend(self.expand(&body, depth + 1));
            return after_name;
        }
        let arities: Vec<String> = definitions.keys().map(|a| a.map_or("no".to_owned(), |n| n.to_string())).collect();
        self.diagnostics.push(
            Diagnostic::error("bad-macro", format!("argument mismatch for macro '{name}'"), name_only)
                .with_note(format!("'{name}' is defined with {} arguments", arities.join(" or "))),
        );
        args.map_or(after_name, |(_, end)| end)
    }

    fn predefined(&mut self, name: &str, span: Span) -> Option<Token> {
        let function = self.function.clone();
        Some(match name {
            "MODULE" => Token::Atom(self.module.clone()?),
            "MODULE_STRING" => Token::String(self.module.clone()?),
            "FILE" => Token::String(self.file_name.to_owned()),
            "LINE" => Token::Integer(BigInt::from(self.line_of(span.start))),
            "MACHINE" => Token::Atom("BEAM".to_owned()),
            "FUNCTION_NAME" => Token::Atom(function?.0),
            "FUNCTION_ARITY" => Token::Integer(BigInt::from(function?.1)),
            _ => return None,
        })
    }
}

/// For a form that starts a function clause, `name(Args...)`: its name and arity.
fn function_head(form: &[Spanned]) -> Option<(String, usize)> {
    let Token::Atom(name) = &form.first()?.token else { return None };
    if form.get(1)?.token != Token::LParen {
        return None;
    }
    let (args, _) = split_arguments(form, 1)?;
    Some((name.clone(), args.len()))
}

/// Splits `( A, B, ... )` starting at `tokens[open]` into its top-level
/// arguments; returns them and the index after the closing parenthesis.
fn split_arguments(tokens: &[Spanned], open: usize) -> Option<(Vec<Vec<Spanned>>, usize)> {
    let mut depth = 0usize;
    let mut args = Vec::new();
    let mut current = Vec::new();
    for (i, t) in tokens.iter().enumerate().skip(open + 1) {
        match t.token {
            Token::LParen | Token::LBracket | Token::LBrace | Token::LBin => depth += 1,
            Token::Begin | Token::Case | Token::If | Token::Receive | Token::Try => depth += 1,
            Token::Fun if tokens.get(i + 1).is_some_and(|n| n.token == Token::LParen) => depth += 1,
            Token::RParen if depth == 0 => {
                if !current.is_empty() || !args.is_empty() {
                    args.push(current);
                }
                return Some((args, i + 1));
            }
            Token::RParen | Token::RBracket | Token::RBrace | Token::RBin | Token::End => {
                depth = depth.saturating_sub(1)
            }
            Token::Comma if depth == 0 => {
                args.push(std::mem::take(&mut current));
                continue;
            }
            Token::Dot => return None,
            _ => {}
        }
        current.push(t.clone());
    }
    None
}

/// A macro's body with its parameters replaced by the arguments; `??P` becomes
/// the source text of the argument as a string.
fn substitute(definition: &Macro, args: &[Vec<Spanned>], use_span: Span, source: &str) -> Vec<Spanned> {
    let params = definition.params.as_deref().unwrap_or(&[]);
    let param_index = |token: &Token| match token {
        Token::Var(v) => params.iter().position(|p| p == v),
        _ => None,
    };
    let mut out = Vec::new();
    let mut body = definition.body.iter().peekable();
    while let Some(t) = body.next() {
        if t.token == Token::QuestionQuestion {
            if let Some(index) = body.peek().and_then(|next| param_index(&next.token)) {
                body.next();
                let arg = &args[index];
                let text = match (arg.first(), arg.last()) {
                    (Some(first), Some(last)) => source[first.span.start as usize..last.span.end as usize].to_owned(),
                    _ => String::new(),
                };
                out.push(Spanned { token: Token::String(text), span: use_span });
                continue;
            }
        }
        match param_index(&t.token) {
            Some(index) => out.extend(args[index].iter().cloned()),
            None => out.push(Spanned { token: t.token.clone(), span: use_span }),
        }
    }
    out
}
