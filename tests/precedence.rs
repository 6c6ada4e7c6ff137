//! Operator precedence and associativity, checked against Erlang itself: each
//! expression below is parsed by our grammar and by `erl_parse`, both trees are
//! printed fully parenthesised, and the two must be identical.

mod support;

use std::fmt::Write as _;
use std::process::Command;

use compiler::ast::*;

const EXPRESSIONS: &[&str] = &[
    "A + B * C - D",
    "A - B - C",
    "A / B / C",
    "A * B div C rem D",
    "A ++ B ++ C",
    "A -- B -- C",
    "A ++ B -- C",
    "A + B ++ C",
    "A == B andalso C",
    "A andalso B andalso C",
    "A orelse B andalso C",
    "A orelse B orelse C",
    "not A or B and C xor D",
    "A band B bor C bxor D bsl 1 bsr 2",
    "- A + B",
    "- - A",
    "bnot A * B",
    "not A == B",
    "A = B = C",
    "A ! B ! C",
    "A = B ! C",
    "A ! B = C",
    "A = catch B + C",
    "A + catch B + C",
    "A orelse catch B orelse C",
    "catch A = B",
    "catch A ! B",
    "A < B + 1",
    "A =:= B orelse A =/= C",
    "A =< B andalso B >= C",
    "A + B < C * D",
    "f(A) + g(B) * m:h(C)",
    "A:B(C) ++ D",
    "{A + B, [C | D ++ A]}",
    "A * (B + C)",
    "A - (B - C)",
    "(A = B) + C",
];

/// Our tree, printed fully parenthesised.
fn ours(expression: &str) -> String {
    let source = format!("-module(p).\nf(A, B, C, D) -> {expression}.\n");
    let compiled = compiler::parse(&source, "p.actor");
    assert!(compiled.diagnostics.is_empty(), "{expression}: {:?}", compiled.diagnostics);
    let Some(Form::Function(function)) = compiled.module.forms.get(1) else { panic!("{expression}: no function") };
    let mut out = String::new();
    expr(&function.clauses[0].body[0], &mut out);
    out
}

fn expr(e: &Expr, out: &mut String) {
    match &e.kind {
        ExprKind::Var(v) => out.push_str(v),
        ExprKind::Literal(Literal::Integer(i)) => write!(out, "{i}").unwrap(),
        ExprKind::Literal(Literal::Atom(a)) => out.push_str(a),
        ExprKind::BinaryOp(op, a, b) => binary(op.text(), a, b, out),
        ExprKind::Match(p, v) => {
            out.push('(');
            pattern(p, out);
            out.push_str(" = ");
            expr(v, out);
            out.push(')');
        }
        ExprKind::Send(a, b) => binary("!", a, b, out),
        ExprKind::UnaryOp(op, a) => {
            let text = match op {
                UnaryOp::Plus => "+",
                UnaryOp::Minus => "-",
                UnaryOp::Bnot => "bnot",
                UnaryOp::Not => "not",
            };
            write!(out, "({text} ").unwrap();
            expr(a, out);
            out.push(')');
        }
        ExprKind::Catch(a) => {
            out.push_str("(catch ");
            expr(a, out);
            out.push(')');
        }
        ExprKind::Call(target, args) => {
            match target {
                CallTarget::Local(name) => out.push_str(&name.name),
                CallTarget::Remote(m, f) => {
                    expr(m, out);
                    out.push(':');
                    expr(f, out);
                }
                CallTarget::Fun(f) => expr(f, out),
            }
            list(args, out);
        }
        ExprKind::Tuple(items) => {
            out.push('{');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                expr(item, out);
            }
            out.push('}');
        }
        ExprKind::Cons(h, t) => {
            out.push('[');
            expr(h, out);
            out.push('|');
            expr(t, out);
            out.push(']');
        }
        ExprKind::Nil => out.push_str("[]"),
        other => panic!("not covered by this test: {other:?}"),
    }
}

fn binary(op: &str, a: &Expr, b: &Expr, out: &mut String) {
    out.push('(');
    expr(a, out);
    write!(out, " {op} ").unwrap();
    expr(b, out);
    out.push(')');
}

fn pattern(p: &Pattern, out: &mut String) {
    match &p.kind {
        PatternKind::Var(v) => out.push_str(v),
        other => panic!("not covered by this test: {other:?}"),
    }
}

fn list(args: &[Expr], out: &mut String) {
    out.push('(');
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        expr(arg, out);
    }
    out.push(')');
}

/// erl_parse's trees for all expressions, printed the same way by a small Erlang function.
fn erlangs(expressions: &[&str]) -> Vec<String> {
    let printer = r#"
        P = fun P({op,_,Op,L,R}) -> "(" ++ P(L) ++ " " ++ atom_to_list(Op) ++ " " ++ P(R) ++ ")";
                P({op,_,Op,E}) -> "(" ++ atom_to_list(Op) ++ " " ++ P(E) ++ ")";
                P({match,_,L,R}) -> "(" ++ P(L) ++ " = " ++ P(R) ++ ")";
                P({'catch',_,E}) -> "(catch " ++ P(E) ++ ")";
                P({var,_,V}) -> atom_to_list(V);
                P({integer,_,I}) -> integer_to_list(I);
                P({atom,_,A}) -> atom_to_list(A);
                P({nil,_}) -> "[]";
                P({cons,_,H,T}) -> "[" ++ P(H) ++ "|" ++ P(T) ++ "]";
                P({tuple,_,Es}) -> "{" ++ lists:join(",", [P(E) || E <- Es]) ++ "}";
                P({call,_,{remote,_,M,F},As}) -> P(M) ++ ":" ++ P(F) ++ "(" ++ lists:join(",", [P(A) || A <- As]) ++ ")";
                P({call,_,F,As}) -> P(F) ++ "(" ++ lists:join(",", [P(A) || A <- As]) ++ ")"
            end,
        {ok, Lines} = file:consult(hd(init:get_plain_arguments())),
        [begin
             {ok, Tokens, _} = erl_scan:string(S ++ "."),
             {ok, [E]} = erl_parse:parse_exprs(Tokens),
             io:format("~s~n", [lists:flatten(P(E))])
         end || S <- Lines],
        halt()."#;
    let dir = std::env::temp_dir().join(format!("vm-precedence-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let terms = dir.join("expressions.txt");
    let text: String = expressions.iter().map(|e| format!("{e:?}.\n")).collect();
    std::fs::write(&terms, text).unwrap();
    let output = Command::new("erl")
        .args(["-noshell", "-eval", printer, "-extra"])
        .arg(&terms)
        .output()
        .unwrap_or_else(|e| panic!("cannot run erl ({e}): install it with apt-get install -y erlang-base"));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(output.status.success(), "erl failed: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn operators_group_exactly_as_erl_parse_groups_them() {
    let theirs = erlangs(EXPRESSIONS);
    assert_eq!(theirs.len(), EXPRESSIONS.len(), "erl printed {theirs:?}");
    for (expression, erl) in EXPRESSIONS.iter().zip(&theirs) {
        let mine = ours(expression);
        // erl_parse keeps `- A` as an operator; so do we, except on literals.
        assert_eq!(&mine, erl, "`{expression}` groups differently");
    }
}
