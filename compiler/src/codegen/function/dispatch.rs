//! Decision code for clauses keyed by literals: when every clause of a
//! function (or `case`) has an atom or small integer at the same argument,
//! one `SelectValue` jumps straight to the first clause that can match, and
//! a clause that fails goes on to the next clause with the same key, never
//! to clauses whose key already told them apart. Clauses that match any
//! value there (a variable or `_`) may follow the keyed ones: values with no
//! key of their own, and keyed clauses that fail, go on to them. Clause
//! order (and so which clause wins) is unchanged.

use std::collections::HashMap;

use super::FunctionCompiler;
use crate::ast::*;
use crate::bytecode::{Instruction as I, Label, Src};

/// Fewer clauses than this are tested one after another: two tests cost
/// no more than a table.
const MIN_CLAUSES: usize = 3;

/// How a set of clauses is entered after a dispatch on one column.
pub(super) struct Dispatch {
    /// The argument position the dispatch decided.
    pub column: usize,
    /// Where each clause starts.
    pub entries: Vec<Label>,
    /// Where each clause goes when it fails: the next clause with its key.
    pub fails: Vec<Label>,
    /// Where a value that no clause has goes (after the last clause).
    pub no_match: Label,
    /// Whether each clause's key was matched by the dispatch (the others
    /// match the column themselves).
    pub keyed: Vec<bool>,
}

impl FunctionCompiler<'_> {
    /// Starts clause `index`: places its entry when dispatched; returns
    /// where the clause goes when it fails.
    pub(super) fn clause_start(&mut self, dispatch: Option<&Dispatch>, index: usize) -> Label {
        match dispatch {
            Some(d) => {
                self.g.place(d.entries[index]);
                d.fails[index]
            }
            None => self.g.new_label(),
        }
    }

    /// Ends a clause: without a dispatch, the next clause is tried next.
    pub(super) fn clause_end(&mut self, dispatch: Option<&Dispatch>, next: Label) {
        if dispatch.is_none() {
            self.g.place(next);
        }
    }

    /// After the last clause: where a value no clause has lands.
    pub(super) fn clauses_end(&mut self, dispatch: Option<&Dispatch>) {
        if let Some(d) = dispatch {
            self.g.place(d.no_match);
        }
    }

    /// The constant operand of a pattern that is an atom or a small integer.
    fn key_of(&mut self, pattern: &Pattern) -> Option<Src> {
        let PatternKind::Literal(literal @ (Literal::Atom(_) | Literal::Integer(_) | Literal::Char(_))) = &pattern.kind
        else {
            return None;
        };
        let value = self.literal_value(literal);
        match self.constant_src(value) {
            src @ (Src::Atom(_) | Src::Int(_)) => Some(src),
            _ => None,
        }
    }

    /// Emits the dispatch for `clauses` when one column keys them all;
    /// `args` are where the clauses' arguments are.
    pub(super) fn literal_dispatch(&mut self, clauses: &[Clause], args: &[Src]) -> Option<Dispatch> {
        if clauses.len() < MIN_CLAUSES {
            return None;
        }
        let catch_all = |p: &Pattern| matches!(p.kind, PatternKind::Var(_) | PatternKind::Wildcard);
        // A column with a literal in every clause up to a (possibly empty)
        // tail of clauses that take anything there.
        let column = (0..args.len()).find(|&c| {
            let keyed = clauses
                .iter()
                .take_while(|cl| cl.patterns.get(c).is_some_and(|p| matches!(p.kind, PatternKind::Literal(_))))
                .count();
            keyed >= MIN_CLAUSES && clauses[keyed..].iter().all(|cl| cl.patterns.get(c).is_some_and(catch_all))
        })?;
        let keyed_count =
            clauses.iter().take_while(|cl| matches!(cl.patterns[column].kind, PatternKind::Literal(_))).count();
        let keys: Vec<Src> =
            clauses[..keyed_count].iter().map(|clause| self.key_of(&clause.patterns[column])).collect::<Option<_>>()?;
        let entries: Vec<Label> = clauses.iter().map(|_| self.g.new_label()).collect();
        let no_match = self.g.new_label();
        // After the keyed clauses: the first catch-all clause, if any.
        let rest = entries.get(keyed_count).copied().unwrap_or(no_match);
        let mut fails = vec![no_match; clauses.len()];
        for (i, fail) in fails.iter_mut().enumerate().skip(keyed_count) {
            *fail = entries.get(i + 1).copied().unwrap_or(no_match);
        }
        // Each keyed clause fails over to the next clause with its key.
        let mut later: HashMap<Src, Label> = HashMap::new();
        for i in (0..keyed_count).rev() {
            fails[i] = later.get(&keys[i]).copied().unwrap_or(rest);
            later.insert(keys[i], entries[i]);
        }
        let mut cases: Vec<(Src, Label)> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if !cases.iter().any(|(k, _)| k == key) {
                cases.push((*key, entries[i]));
            }
        }
        self.emit(I::SelectValue { src: args[column], fail: rest, cases });
        let keyed = (0..clauses.len()).map(|i| i < keyed_count).collect();
        Some(Dispatch { column, entries, fails, no_match, keyed })
    }
}
