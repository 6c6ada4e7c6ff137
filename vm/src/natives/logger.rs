//! OTP's `logger` primary level (`set_primary_config/2`,
//! `get_primary_config/0`) and the logging calls that print reports to
//! standard error: `logger:error/1,2` and its siblings, and the older
//! `error_logger:error_msg/1,2`, `warning_msg/1,2`, `info_msg/1,2` and
//! `error_report/1,2` (`crash_report` and `supervisor_report` get their
//! own headings, as in erl).

use super::erlang::{boolean, list_items};
use super::io::{chardata, format_text};
use super::NativeFn;
use crate::atom::{self, atoms};
use crate::exception::{error, Stop};
use crate::process::Process;
use crate::report::{self, LEVELS};
use crate::term::Term;

pub(super) fn lookup(function: &str, arity: u32) -> Option<NativeFn> {
    Some(match (function, arity) {
        ("set_primary_config", 2) => set_primary_config,
        ("get_primary_config", 0) => get_primary_config,
        ("allow", 2) => |_, a| {
            let level = level_index(a[0]).ok_or_else(|| error(atoms::BADARG))?;
            Ok(boolean(report::allows(level)))
        },
        ("emergency", 1 | 2) => |_, a| log(0, "EMERGENCY", a),
        ("alert", 1 | 2) => |_, a| log(1, "ALERT", a),
        ("critical", 1 | 2) => |_, a| log(2, "CRITICAL", a),
        ("error", 1 | 2) => |_, a| log(3, "ERROR", a),
        ("warning", 1 | 2) => |_, a| log(4, "WARNING", a),
        ("notice", 1 | 2) => |_, a| log(5, "NOTICE", a),
        ("info", 1 | 2) => |_, a| log(6, "INFO", a),
        ("debug", 1 | 2) => |_, a| log(7, "DEBUG", a),
        _ => return None,
    })
}

pub(super) fn lookup_error_logger(function: &str, arity: u32) -> Option<NativeFn> {
    Some(match (function, arity) {
        ("error_report", 1) => |_, a| report_term(3, "ERROR", a[0]),
        // The kinds OTP's reports have their own headings.
        ("error_report", 2) => |_, a| {
            let kind = match atom::name(a[0]).filter(|_| a[0].is_atom()) {
                Some("crash_report") => "CRASH",
                Some("supervisor_report") => "SUPERVISOR",
                _ => "ERROR",
            };
            report_term(3, kind, a[1])
        },
        ("error_msg", 1 | 2) => |_, a| log(3, "ERROR", a),
        ("warning_msg", 1 | 2) => |_, a| log(4, "WARNING", a),
        ("info_msg", 1 | 2) => |_, a| log(6, "INFO", a),
        _ => return None,
    })
}

/// A report that is text (chardata) or a term, printed as `~p` prints it.
fn report_term(level: usize, kind: &str, report: Term) -> Result<Term, Stop> {
    let text = chardata(report).unwrap_or_else(|| crate::pretty::pretty(report, 1, crate::pretty::LINE_LENGTH));
    report::write(level, kind, &text);
    Ok(atoms::OK)
}

fn level_index(level: Term) -> Option<usize> {
    let name = atom::name(level)?;
    LEVELS.iter().position(|&l| l == name)
}

/// A report: `Format` or `Format, Args`, formatted as `io:format` does.
fn log(level: usize, kind: &str, a: &mut [Term]) -> Result<Term, Stop> {
    let badarg = || error(atoms::BADARG);
    let control = match atom::name(a[0]) {
        Some(name) if a[0].is_atom() => name.to_owned(),
        _ => chardata(a[0]).ok_or_else(badarg)?,
    };
    let args = match a.get(1) {
        Some(&args) => list_items(args)?,
        None => Vec::new(),
    };
    let text = format_text(&control, &args).ok_or_else(badarg)?;
    report::write(level, kind, &text);
    Ok(atoms::OK)
}

fn set_primary_config(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let intern = |name: &str| atom::intern(name).map_err(|_| error(atoms::BADARG));
    let level = intern("level")?;
    if a[0] == level && a[1].is_atom() && atom::name(a[1]).is_some_and(report::set_level) {
        return Ok(atoms::OK);
    }
    let tag = intern(if a[0] == level { "invalid_level" } else { "invalid_primary_config" })?;
    p.ensure(3 + 3, a);
    let detail = if a[0] == level {
        p.heap.tuple(&[tag, a[1]])
    } else {
        let pair = p.heap.tuple(&[a[0], a[1]]);
        p.heap.tuple(&[tag, pair])
    };
    Ok(p.heap.tuple(&[atoms::ERROR, detail]))
}

fn get_primary_config(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let key = |name: &str| atom::intern(name).map_err(|_| error(atoms::BADARG));
    let (filter_default, filters, level, metadata) =
        (key("filter_default")?, key("filters")?, key("level")?, key("metadata")?);
    let (log, current) = (key("log")?, key(report::level())?);
    p.ensure(1 + 1 + 2 * 4, a);
    let empty = p.heap.map(&[]);
    let mut pairs = [(filter_default, log), (filters, Term::NIL), (level, current), (metadata, empty)];
    pairs.sort_by(|x, y| crate::compare::compare(x.0, y.0));
    Ok(p.heap.map(&pairs))
}
