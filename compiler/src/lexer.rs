//! The lexer: `.actor` source text to a vector of spanned tokens, with Erlang's
//! token rules (`erl_scan`): bare and quoted atoms, variables, integers in any
//! base from 2 to 36 with `_` separators, `$c` character literals, floats,
//! strings with Erlang escapes, every operator, `%` comments.
//!
//! A lexical error never stops the scan: it becomes a [`Token::Error`] with a
//! diagnostic, and scanning goes on, so one run reports every bad token. The
//! lexer never panics, whatever bytes it is given.

use logos::Logos;
use num_bigint::BigInt;
use num_traits::Num;

use crate::ast::Span;
use crate::diagnostic::Diagnostic;

/// Longest atom Erlang accepts, in characters (`erl_scan`: "atom too long").
const MAX_ATOM_LENGTH: usize = 255;

/// What went wrong with one token. Turned into a diagnostic by [`LexError::diagnostic`].
#[derive(Debug, Clone, PartialEq, Default)]
pub enum LexError {
    #[default]
    IllegalCharacter,
    UnterminatedString,
    UnterminatedAtom,
    UnterminatedChar,
    BadEscape(String),
    BadNumber(String),
    AtomTooLong,
}

impl LexError {
    fn diagnostic(&self, span: Span, text: &str) -> Diagnostic {
        let (id, message, label) = match self {
            LexError::IllegalCharacter => {
                let shown = text.chars().next().map(|c| format!("{c:?}")).unwrap_or_default();
                ("illegal-character", format!("illegal character {shown}"), "not allowed here")
            }
            LexError::UnterminatedString => {
                ("unterminated-string", "unterminated string".to_owned(), "the string starts here")
            }
            LexError::UnterminatedAtom => {
                ("unterminated-atom", "unterminated quoted atom".to_owned(), "the atom starts here")
            }
            LexError::UnterminatedChar => {
                ("bad-character-literal", "`$` must be followed by a character".to_owned(), "no character after `$`")
            }
            LexError::BadEscape(why) => ("bad-escape", format!("bad escape sequence: {why}"), "in this literal"),
            LexError::BadNumber(why) => ("bad-number", format!("bad number: {why}"), "this number"),
            LexError::AtomTooLong => (
                "atom-too-long",
                format!("atom too long: atoms have at most {MAX_ATOM_LENGTH} characters"),
                "this atom",
            ),
        };
        let span = match self {
            // Point at the opening quote only: the rest of the file is not the problem.
            LexError::UnterminatedString | LexError::UnterminatedAtom => {
                Span { start: span.start, end: span.start + 1 }
            }
            _ => span,
        };
        Diagnostic::error(id, message, span).with_label(label)
    }
}

/// One token of the language. Keywords are Erlang's reserved words.
#[derive(Logos, Debug, Clone, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\n\x0B\x0C]+")]
#[logos(skip(r"%[^\n]*", allow_greedy = true))]
pub enum Token {
    #[regex(r"[a-zß-öø-ÿ][A-Za-z0-9_@À-ÖØ-öø-ÿ]*", bare_atom)]
    #[regex(r"'([^'\\]|\\[\s\S])*'", quoted_atom)]
    #[regex(r"'([^'\\]|\\[\s\S])*", unterminated_atom)]
    Atom(String),
    #[regex(r"[A-Z_À-ÖØ-Þ][A-Za-z0-9_@À-ÖØ-öø-ÿ]*", |lex| lex.slice().to_owned())]
    Var(String),
    #[regex(r"[0-9](_?[0-9])*", decimal)]
    #[regex(r"[0-9](_?[0-9])*#[0-9A-Za-z_]+", based)]
    #[regex(r"[0-9](_?[0-9])*#", no_digits)]
    Integer(BigInt),
    #[regex(r"[0-9](_?[0-9])*\.[0-9](_?[0-9])*([eE][+-]?[0-9](_?[0-9])*)?", float)]
    Float(f64),
    #[regex(r"\$([^\\]|\\[\s\S])", character)]
    #[regex(r"\$\\(x\{[^}]*\}|x[0-9A-Fa-f]{1,2}|[0-7]{1,3}|\^[\s\S])", character)]
    #[token("$", |_| unterminated(LexError::UnterminatedChar))]
    Char(u32),
    #[regex(r#""([^"\\]|\\[\s\S])*""#, string)]
    #[regex(r#""([^"\\]|\\[\s\S])*"#, |_| unterminated(LexError::UnterminatedString))]
    String(String),

    #[token("after")]
    After,
    #[token("and")]
    And,
    #[token("andalso")]
    Andalso,
    #[token("band")]
    Band,
    #[token("begin")]
    Begin,
    #[token("bnot")]
    Bnot,
    #[token("bor")]
    Bor,
    #[token("bsl")]
    Bsl,
    #[token("bsr")]
    Bsr,
    #[token("bxor")]
    Bxor,
    #[token("case")]
    Case,
    #[token("catch")]
    Catch,
    #[token("cond")]
    Cond,
    #[token("div")]
    Div,
    #[token("end")]
    End,
    #[token("fun")]
    Fun,
    #[token("if")]
    If,
    #[token("let")]
    Let,
    #[token("not")]
    Not,
    #[token("of")]
    Of,
    #[token("or")]
    Or,
    #[token("orelse")]
    Orelse,
    #[token("receive")]
    Receive,
    #[token("rem")]
    Rem,
    #[token("try")]
    Try,
    #[token("when")]
    When,
    #[token("xor")]
    Xor,

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("<<")]
    LBin,
    #[token(">>")]
    RBin,
    #[token(",")]
    Comma,
    #[token(";")]
    Semicolon,
    #[token(":")]
    Colon,
    #[token("::")]
    ColonColon,
    /// `.` inside a form (record field access). See [`Token::Dot`].
    #[token(".")]
    Period,
    /// The `.` that ends a form: a period followed by white space, a comment or
    /// the end of the file. The lexer emits [`Token::Period`]; [`lex`] reclassifies.
    Dot,
    #[token("..")]
    DotDot,
    #[token("...")]
    Ellipsis,
    #[token("->")]
    Arrow,
    #[token("<-")]
    LeftArrow,
    #[token("<=")]
    DoubleLeftArrow,
    #[token("=>")]
    FatArrow,
    #[token(":=")]
    ColonEq,
    #[token("|")]
    Bar,
    #[token("||")]
    BarBar,
    #[token("#")]
    Hash,
    #[token("?")]
    Question,
    #[token("??")]
    QuestionQuestion,
    #[token("!")]
    Bang,
    #[token("=")]
    Eq,
    #[token("==")]
    EqEq,
    #[token("/=")]
    SlashEq,
    #[token("=:=")]
    EqColonEq,
    #[token("=/=")]
    EqSlashEq,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("=<")]
    LtEq,
    #[token(">=")]
    GtEq,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("++")]
    PlusPlus,
    #[token("--")]
    MinusMinus,

    /// A token that did not lex; its diagnostic has been reported.
    Error,
}

impl Token {
    /// How the token reads in a message such as `syntax error before: 'end'`.
    pub fn describe(&self) -> String {
        match self {
            Token::Atom(a) => format!("'{a}'"),
            Token::Var(v) => v.clone(),
            Token::Integer(i) => i.to_string(),
            Token::Float(f) => format!("{f}"),
            Token::Char(c) => format!("${}", char::from_u32(*c).unwrap_or('?')),
            Token::String(s) => format!("{s:?}"),
            Token::Dot => "'.'".to_owned(),
            Token::Error => "a bad token".to_owned(),
            other => format!("'{}'", other.text()),
        }
    }

    /// The source text of a keyword or punctuation token.
    pub fn text(&self) -> &'static str {
        match self {
            Token::After => "after",
            Token::And => "and",
            Token::Andalso => "andalso",
            Token::Band => "band",
            Token::Begin => "begin",
            Token::Bnot => "bnot",
            Token::Bor => "bor",
            Token::Bsl => "bsl",
            Token::Bsr => "bsr",
            Token::Bxor => "bxor",
            Token::Case => "case",
            Token::Catch => "catch",
            Token::Cond => "cond",
            Token::Div => "div",
            Token::End => "end",
            Token::Fun => "fun",
            Token::If => "if",
            Token::Let => "let",
            Token::Not => "not",
            Token::Of => "of",
            Token::Or => "or",
            Token::Orelse => "orelse",
            Token::Receive => "receive",
            Token::Rem => "rem",
            Token::Try => "try",
            Token::When => "when",
            Token::Xor => "xor",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::LBin => "<<",
            Token::RBin => ">>",
            Token::Comma => ",",
            Token::Semicolon => ";",
            Token::Colon => ":",
            Token::ColonColon => "::",
            Token::Period | Token::Dot => ".",
            Token::DotDot => "..",
            Token::Ellipsis => "...",
            Token::Arrow => "->",
            Token::LeftArrow => "<-",
            Token::DoubleLeftArrow => "<=",
            Token::FatArrow => "=>",
            Token::ColonEq => ":=",
            Token::Bar => "|",
            Token::BarBar => "||",
            Token::Hash => "#",
            Token::Question => "?",
            Token::QuestionQuestion => "??",
            Token::Bang => "!",
            Token::Eq => "=",
            Token::EqEq => "==",
            Token::SlashEq => "/=",
            Token::EqColonEq => "=:=",
            Token::EqSlashEq => "=/=",
            Token::Lt => "<",
            Token::Gt => ">",
            Token::LtEq => "=<",
            Token::GtEq => ">=",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::PlusPlus => "++",
            Token::MinusMinus => "--",
            Token::Atom(_)
            | Token::Var(_)
            | Token::Integer(_)
            | Token::Float(_)
            | Token::Char(_)
            | Token::String(_)
            | Token::Error => "",
        }
    }
}

/// A token with its byte span in the source.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned {
    pub token: Token,
    pub span: Span,
}

/// Lexes a whole source text. Every lexical error is reported in the returned
/// diagnostics and stands in the token stream as [`Token::Error`].
pub fn lex(source: &str) -> (Vec<Spanned>, Vec<Diagnostic>) {
    let mut tokens = Vec::new();
    let mut diagnostics = Vec::new();
    let mut lexer = Token::lexer(source);
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(range.start, range.end);
        let token = match result {
            Ok(Token::Period) if ends_form(&source[range.end..]) => Token::Dot,
            Ok(token) => token,
            Err(error) => {
                diagnostics.push(error.diagnostic(span, lexer.slice()));
                Token::Error
            }
        };
        tokens.push(Spanned { token, span });
    }
    (tokens, diagnostics)
}

/// Erlang's rule: a period ends a form when white space, a comment or the end
/// of input follows it.
fn ends_form(rest: &str) -> bool {
    match rest.chars().next() {
        None => true,
        Some(c) => c.is_whitespace() || c == '%',
    }
}

fn unterminated<T>(error: LexError) -> Result<T, LexError> {
    Err(error)
}

fn unterminated_atom(_: &mut logos::Lexer<Token>) -> Result<String, LexError> {
    Err(LexError::UnterminatedAtom)
}

fn no_digits(lex: &mut logos::Lexer<Token>) -> Result<BigInt, LexError> {
    Err(LexError::BadNumber(format!("no digits after `{}`", lex.slice())))
}

fn bare_atom(lex: &mut logos::Lexer<Token>) -> Result<String, LexError> {
    let atom = lex.slice();
    if atom.chars().count() > MAX_ATOM_LENGTH {
        return Err(LexError::AtomTooLong);
    }
    Ok(atom.to_owned())
}

fn quoted_atom(lex: &mut logos::Lexer<Token>) -> Result<String, LexError> {
    let slice = lex.slice();
    let atom = unescape(&slice[1..slice.len() - 1])?;
    if atom.chars().count() > MAX_ATOM_LENGTH {
        return Err(LexError::AtomTooLong);
    }
    Ok(atom)
}

fn string(lex: &mut logos::Lexer<Token>) -> Result<String, LexError> {
    let slice = lex.slice();
    unescape(&slice[1..slice.len() - 1])
}

fn character(lex: &mut logos::Lexer<Token>) -> Result<u32, LexError> {
    let decoded = unescape(&lex.slice()[1..])?;
    let mut chars = decoded.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c as u32),
        _ => Err(LexError::BadEscape(format!("`{}` is not one character", lex.slice()))),
    }
}

fn decimal(lex: &mut logos::Lexer<Token>) -> Result<BigInt, LexError> {
    let digits: String = lex.slice().chars().filter(|&c| c != '_').collect();
    BigInt::from_str_radix(&digits, 10).map_err(|_| LexError::BadNumber(lex.slice().to_owned()))
}

fn based(lex: &mut logos::Lexer<Token>) -> Result<BigInt, LexError> {
    let text = lex.slice();
    let (base, digits) = text.split_once('#').unwrap_or((text, ""));
    let base: u32 = base
        .chars()
        .filter(|&c| c != '_')
        .collect::<String>()
        .parse()
        .map_err(|_| LexError::BadNumber(format!("bad base in `{text}`")))?;
    if !(2..=36).contains(&base) {
        return Err(LexError::BadNumber(format!("base {base} in `{text}` is not between 2 and 36")));
    }
    if digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return Err(LexError::BadNumber(format!("misplaced `_` in `{text}`")));
    }
    let digits: String = digits.chars().filter(|&c| c != '_').collect();
    if let Some(bad) = digits.chars().find(|c| !c.is_digit(base)) {
        return Err(LexError::BadNumber(format!("`{bad}` is not a digit in base {base}")));
    }
    BigInt::from_str_radix(&digits, base).map_err(|_| LexError::BadNumber(text.to_owned()))
}

fn float(lex: &mut logos::Lexer<Token>) -> Result<f64, LexError> {
    let text: String = lex.slice().chars().filter(|&c| c != '_').collect();
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(LexError::BadNumber(format!("`{}` is not a representable float", lex.slice()))),
    }
}

/// Decodes Erlang's escape sequences: `\b \d \e \f \n \r \s \t \v`, octal
/// `\NNN`, `\xHH`, `\x{H...}`, control characters `\^c`, and any other
/// character standing for itself.
pub fn unescape(text: &str) -> Result<String, LexError> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(escape) = chars.next() else {
            return Err(LexError::BadEscape("a lone `\\` at the end".to_owned()));
        };
        let code = match escape {
            'b' => 8,
            'd' => 127,
            'e' => 27,
            'f' => 12,
            'n' => 10,
            'r' => 13,
            's' => 32,
            't' => 9,
            'v' => 11,
            '0'..='7' => {
                let mut value = escape.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match chars.peek().and_then(|d| d.to_digit(8)) {
                        Some(digit) => {
                            value = value * 8 + digit;
                            chars.next();
                        }
                        None => break,
                    }
                }
                value
            }
            'x' => {
                let mut hex = String::new();
                if chars.peek() == Some(&'{') {
                    chars.next();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(d) if d.is_ascii_hexdigit() => hex.push(d),
                            _ => return Err(LexError::BadEscape("`\\x{` needs hex digits and `}`".to_owned())),
                        }
                    }
                } else {
                    for _ in 0..2 {
                        match chars.peek() {
                            Some(d) if d.is_ascii_hexdigit() => {
                                hex.push(*d);
                                chars.next();
                            }
                            _ => break,
                        }
                    }
                }
                if hex.is_empty() || hex.len() > 8 {
                    return Err(LexError::BadEscape("`\\x` needs 1 to 8 hex digits".to_owned()));
                }
                u32::from_str_radix(&hex, 16).map_err(|_| LexError::BadEscape("bad hex digits".to_owned()))?
            }
            '^' => match chars.next() {
                Some(control) => (control as u32) & 31,
                None => return Err(LexError::BadEscape("`\\^` needs a character".to_owned())),
            },
            other => other as u32,
        };
        match char::from_u32(code) {
            Some(decoded) => out.push(decoded),
            None => return Err(LexError::BadEscape(format!("{code} is not a Unicode code point"))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(source: &str) -> Vec<Token> {
        let (tokens, diagnostics) = lex(source);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        tokens.into_iter().map(|t| t.token).collect()
    }

    #[test]
    fn numbers_in_every_form() {
        assert_eq!(
            tokens("16#FF 2#1010 1_000 36#z"),
            vec![
                Token::Integer(255.into()),
                Token::Integer(10.into()),
                Token::Integer(1000.into()),
                Token::Integer(35.into()),
            ]
        );
        assert_eq!(tokens("1.5e3 2.0"), vec![Token::Float(1500.0), Token::Float(2.0)]);
        // `1.` followed by white space is an integer and the end of a form.
        assert_eq!(tokens("1. "), vec![Token::Integer(1.into()), Token::Dot]);
    }

    #[test]
    fn characters_and_escapes() {
        assert_eq!(
            tokens(r"$a $\n $\\ $\x41 $\x{263A} $\101 $\^A $ "),
            vec![
                Token::Char(97),
                Token::Char(10),
                Token::Char(92),
                Token::Char(65),
                Token::Char(0x263A),
                Token::Char(65),
                Token::Char(1),
                Token::Char(32),
            ]
        );
        assert_eq!(tokens(r#""a\tb\"c\s""#), vec![Token::String("a\tb\"c ".to_owned())]);
        assert_eq!(
            tokens(r"'hello world' 'a\'b'"),
            vec![Token::Atom("hello world".to_owned()), Token::Atom("a'b".to_owned())]
        );
    }

    #[test]
    fn keywords_atoms_and_variables() {
        assert_eq!(
            tokens("case casex X _ _Y"),
            vec![
                Token::Case,
                Token::Atom("casex".to_owned()),
                Token::Var("X".to_owned()),
                Token::Var("_".to_owned()),
                Token::Var("_Y".to_owned()),
            ]
        );
    }

    #[test]
    fn period_inside_a_form_is_not_a_dot() {
        assert_eq!(
            tokens("R#r.f."),
            vec![
                Token::Var("R".to_owned()),
                Token::Hash,
                Token::Atom("r".to_owned()),
                Token::Period,
                Token::Atom("f".to_owned()),
                Token::Dot,
            ]
        );
    }

    #[test]
    fn errors_do_not_stop_the_scan() {
        let (tokens, diagnostics) = lex("a \u{1} b 37#1 c \"open");
        assert_eq!(diagnostics.len(), 3, "{diagnostics:?}");
        assert!(tokens.iter().any(|t| t.token == Token::Atom("c".to_owned())));
    }
}
