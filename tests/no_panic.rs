//! The compiler never panics, whatever it is given: random bytes, random
//! token soup, real programs with random mutations, and pathological nesting.
//! The number of random cases is `PROPTEST_CASES` (default 256; CI uses fewer).

mod support;

use proptest::prelude::*;

/// Checks a source and returns the number of diagnostics; a panic fails the test.
fn check(source: &str) -> usize {
    compiler::check_with_stack(source, "fuzz.actor", &compiler::Options::default(), |c| c.diagnostics.len())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// Fragments that mutations insert: tokens and pieces that stress the
/// preprocessor, the grammar and the checker.
const FRAGMENTS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "<<",
    ">>",
    ",",
    ";",
    ".",
    ". ",
    "->",
    "=",
    "==",
    "|",
    "||",
    "#",
    "?",
    "??",
    ":",
    "::",
    ":=",
    "=>",
    "<-",
    "<=",
    "!",
    "+",
    "-",
    "*",
    "/",
    "++",
    "--",
    "case",
    "of",
    "end",
    "if",
    "receive",
    "after",
    "try",
    "catch",
    "fun",
    "begin",
    "when",
    "andalso",
    "not",
    "X",
    "_",
    "_Y",
    "atom",
    "'q a'",
    "\"str",
    "\"s\"",
    "$",
    "$\\",
    "16#",
    "36#zz",
    "1.5e",
    "1_",
    "-define(M(X), X).",
    "?M(",
    "?MODULE",
    "?LINE",
    "-ifdef(M).",
    "-else.",
    "-endif.",
    "-record(r, {a = 1 :: integer()}).",
    "#r{",
    "#r.a",
    "#{",
    "X#r.a",
    "<<X:8/binary>>",
    "<<1:3>>",
    "-export([f/1]).",
    "-module(m).",
    "%",
    "\n",
    " ",
    "\\",
    "\u{0}",
    "é",
    "fun f/1",
    "fun m:f/",
    "'",
];

fn seeds() -> Vec<String> {
    let root = support::root();
    let mut seeds = Vec::new();
    for dir in ["tests/parse", "tests/compile_errors", "tests/accept", "examples"] {
        for path in support::actor_files(&root.join(dir)) {
            seeds.push(std::fs::read_to_string(path).expect("read a seed program"));
        }
    }
    assert!(!seeds.is_empty());
    seeds
}

/// Applies `(position, length, fragment, kind)` mutations to a program's characters.
fn mutate(seed: &str, mutations: &[(usize, usize, usize, u8)]) -> String {
    let mut chars: Vec<char> = seed.chars().collect();
    for &(position, length, fragment, kind) in mutations {
        let at = if chars.is_empty() { 0 } else { position % (chars.len() + 1) };
        let end = (at + length).min(chars.len());
        match kind {
            0 => {
                chars.drain(at..end);
            }
            1 => {
                let copy: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, copy);
            }
            2 => {
                chars.splice(at..at, FRAGMENTS[fragment % FRAGMENTS.len()].chars());
            }
            _ => {
                chars.splice(at..end, FRAGMENTS[fragment % FRAGMENTS.len()].chars());
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_token_soup(picks in prop::collection::vec(0usize..FRAGMENTS.len(), 0..300)) {
        let source: Vec<&str> = picks.iter().map(|&i| FRAGMENTS[i]).collect();
        check(&source.join(" "));
        check(&source.concat());
    }

    #[test]
    fn mutated_programs(
        seed in any::<prop::sample::Index>(),
        mutations in prop::collection::vec((0usize..100_000, 0usize..40, 0usize..1000, 0u8..4), 1..12),
    ) {
        let seeds = seeds();
        check(&mutate(&seeds[seed.index(seeds.len())], &mutations));
    }
}

#[test]
fn deep_and_long_sources_are_handled() {
    let module = "-module(deep).\n-export([f/1]).\n";
    let parens = format!("{module}f(_) -> {}1{}.\n", "(".repeat(50_000), ")".repeat(50_000));
    let list = format!("{module}f(_) -> [{}].\n", vec!["1"; 200_000].join(","));
    let chain = format!("{module}f(_) -> 1{}.\n", " + 1".repeat(100_000));
    let cases = format!("{module}f(X) -> {}ok{}.\n", "case X of _ -> ".repeat(5_000), " end".repeat(5_000));
    let funs = format!("{module}f(X) -> {}X{}.\n", "fun() -> ".repeat(5_000), " end".repeat(5_000));
    for source in [&parens, &list, &chain, &cases, &funs] {
        let errors =
            compiler::check_with_stack(source, "deep.actor", &compiler::Options::default(), |c| c.has_errors());
        assert!(!errors, "a deep but valid program must check: {}...", &source[..120.min(source.len())]);
    }
}

#[test]
fn runaway_macros_are_refused_not_expanded() {
    let mut source = String::from("-module(bomb).\n-export([f/0]).\n-define(A0, x).\n");
    for i in 0..40 {
        source.push_str(&format!("-define(A{}, ?A{i} ?A{i}).\n", i + 1));
    }
    source.push_str("f() -> ?A40.\n-define(LOOP, ?LOOP).\ng() -> ?LOOP.\n");
    let ids = compiler::check_with_stack(&source, "bomb.actor", &compiler::Options::default(), |c| {
        c.diagnostics.iter().map(|d| d.id).collect::<Vec<_>>()
    });
    assert!(ids.contains(&"form-too-large"), "{ids:?}");
    assert!(ids.contains(&"bad-macro"), "{ids:?}");
}
