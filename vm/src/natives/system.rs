//! The `erlang` BIFs about the process and the system rather than data:
//! the process dictionary, references and unique integers, hashing, time,
//! `statistics/1`, `system_info/1`, `memory/0,1` and `garbage_collect/0`.
//! (`process_info` is with the other process BIFs, in `process.rs`.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use num_bigint::BigInt;

use super::erlang::{boolean, list_items, make_integer};
use super::NativeFn;
use crate::atom::{self, atoms};
use crate::compare::exact_eq;
use crate::exception::{error, Stop};
use crate::process::Process;
use crate::term::Term;

pub(super) fn lookup(name: &str, arity: u32) -> Option<NativeFn> {
    Some(match (name, arity) {
        ("put", 2) => put,
        ("get", 1) => |p, a| Ok(dictionary_index(p, a[0]).map_or(atoms::UNDEFINED, |i| p.dictionary[i + 1])),
        ("get", 0) => |p, a| {
            p.ensure(5 * (p.dictionary.len() / 2), a);
            Ok(dictionary_list(p))
        },
        ("get_keys", 0) => |p, a| {
            p.ensure(p.dictionary.len(), a);
            let keys: Vec<Term> = p.dictionary.iter().step_by(2).rev().copied().collect();
            Ok(p.heap.list(&keys))
        },
        ("get_keys", 1) => |p, a| {
            p.ensure(p.dictionary.len(), a);
            let keys: Vec<Term> =
                p.dictionary.chunks_exact(2).rev().filter(|kv| exact_eq(kv[1], a[0])).map(|kv| kv[0]).collect();
            Ok(p.heap.list(&keys))
        },
        ("erase", 1) => |p, a| match dictionary_index(p, a[0]) {
            Some(i) => {
                let old = p.dictionary[i + 1];
                p.dictionary.drain(i..i + 2);
                Ok(old)
            }
            None => Ok(atoms::UNDEFINED),
        },
        ("erase", 0) => |p, a| {
            let pairs = p.dictionary.len() / 2;
            p.ensure(5 * pairs, a);
            let old = std::mem::take(&mut p.dictionary);
            let items: Vec<Term> = old.chunks_exact(2).rev().map(|kv| p.heap.tuple(&[kv[0], kv[1]])).collect();
            Ok(p.heap.list(&items))
        },
        ("function_exported", 3) => |_, a| function_exported(a[0], a[1], a[2]),
        ("make_ref", 0) => |p, a| {
            let number = crate::scheduler::new_reference();
            p.ensure(2, a);
            Ok(p.heap.reference(number))
        },
        ("is_reference", 1) => {
            |_, a| Ok(boolean(a[0].is_boxed() && a[0].header().kind() == Some(crate::term::Kind::Reference)))
        }
        ("unique_integer", 0 | 1) => |p, a| {
            static NEXT: AtomicU64 = AtomicU64::new(1);
            let value = NEXT.fetch_add(1, Ordering::Relaxed);
            make_integer(p, a, BigInt::from(value))
        },
        ("phash2", 1) => |_, a| Ok(small(i64::from(crate::hash::phash2(a[0])))),
        ("phash2", 2) => |p, a| {
            let range = range_of(a[1])?;
            let hash = u64::from(crate::hash::make_hash2(a[0]));
            make_integer(p, a, BigInt::from(hash % range))
        },
        ("phash", 2) => |p, a| {
            let range = range_of(a[1])?;
            make_integer(p, a, BigInt::from(crate::hash::phash(a[0], range)))
        },
        ("monotonic_time", 0) => |p, a| make_integer(p, a, BigInt::from(monotonic_nanos())),
        ("monotonic_time", 1) => |p, a| {
            let per_second = unit(a[0])?;
            make_integer(p, a, BigInt::from(monotonic_nanos()) * per_second / 1_000_000_000)
        },
        ("system_time", 0) => |p, a| make_integer(p, a, BigInt::from(system_nanos())),
        ("system_time", 1) => |p, a| {
            let per_second = unit(a[0])?;
            make_integer(p, a, BigInt::from(system_nanos()) * per_second / 1_000_000_000)
        },
        ("time_offset", 0) => |p, a| make_integer(p, a, BigInt::from(system_nanos() - monotonic_nanos())),
        ("convert_time_unit", 3) => |p, a| {
            let (from, to) = (unit(a[1])?, unit(a[2])?);
            let value = crate::heap::integer_value(a[0]).ok_or_else(|| error(atoms::BADARG))?;
            make_integer(p, a, floor_div(value * to, &from))
        },
        ("timestamp", 0) => |p, a| {
            let micros = system_nanos() / 1000;
            p.ensure(4, a);
            let parts = [micros / 1_000_000_000_000, (micros / 1_000_000) % 1_000_000, micros % 1_000_000];
            Ok(p.heap.tuple(&parts.map(small)))
        },
        ("garbage_collect", 0) => |p, a| {
            p.collect_all(a);
            Ok(atoms::TRUE)
        },
        ("memory", 0) => |p, a| {
            let figures = memory_figures(p);
            p.ensure(figures.len() * 5, a);
            let items: Vec<Term> = figures
                .iter()
                .map(|&(name, bytes)| {
                    let key = atom::intern(name).unwrap_or(atoms::UNDEFINED);
                    p.heap.tuple(&[key, small(bytes as i64)])
                })
                .collect();
            Ok(p.heap.list(&items))
        },
        ("memory", 1) => |p, a| {
            let figures = memory_figures(p);
            let figure = |t: Term| {
                let name = atom::name(t).ok_or_else(|| error(atoms::BADARG))?;
                figures.iter().find(|f| f.0 == name).map(|f| small(f.1 as i64)).ok_or_else(|| error(atoms::BADARG))
            };
            if a[0].is_atom() {
                return figure(a[0]);
            }
            let names = list_items(a[0])?;
            let values = names.iter().map(|&n| figure(n)).collect::<Result<Vec<_>, _>>()?;
            p.ensure(5 * names.len(), a);
            let names = list_items(a[0])?;
            let items: Vec<Term> = names.iter().zip(values).map(|(&n, v)| p.heap.tuple(&[n, v])).collect();
            Ok(p.heap.list(&items))
        },
        ("statistics", 1) => statistics,
        ("system_info", 1) => system_info,
        ("system_flag", 2) => system_flag,
        _ => return None,
    })
}

fn small(value: i64) -> Term {
    Term::small(value).unwrap_or(Term::NIL)
}

/// The process dictionary as a list of `{Key, Value}`, newest first. Needs
/// 5 words a pair.
fn dictionary_list(p: &mut Process) -> Term {
    let pairs: Vec<(Term, Term)> = p.dictionary.chunks_exact(2).rev().map(|kv| (kv[0], kv[1])).collect();
    let items: Vec<Term> = pairs.into_iter().map(|(k, v)| p.heap.tuple(&[k, v])).collect();
    p.heap.list(&items)
}

fn dictionary_index(p: &Process, key: Term) -> Option<usize> {
    p.dictionary.chunks_exact(2).position(|kv| exact_eq(kv[0], key)).map(|i| 2 * i)
}

fn put(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match dictionary_index(p, a[0]) {
        Some(i) => {
            let old = p.dictionary[i + 1];
            p.dictionary[i + 1] = a[1];
            Ok(old)
        }
        None => {
            p.dictionary.extend_from_slice(&[a[0], a[1]]);
            Ok(atoms::UNDEFINED)
        }
    }
}

/// A hash range: 1..=2^32.
fn range_of(term: Term) -> Result<u64, Stop> {
    let value = crate::heap::integer_value(term).ok_or_else(|| error(atoms::BADARG))?;
    u64::try_from(value).ok().filter(|r| (1..=1 << 32).contains(r)).ok_or_else(|| error(atoms::BADARG))
}

fn start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Nanoseconds of monotonic time. The native unit is the nanosecond, as on
/// erl for Linux.
fn monotonic_nanos() -> i64 {
    // Offset so that values look like erl's (large negative numbers are legal there).
    start().elapsed().as_nanos() as i64 - 576_460_752_303_423_488
}

fn system_nanos() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// Parts per second of a time unit.
fn unit(term: Term) -> Result<BigInt, Stop> {
    if term.is_small() && term.small_value() > 0 {
        return Ok(BigInt::from(term.small_value()));
    }
    let per_second: i64 = match atom::name(term) {
        Some("second" | "seconds") => 1,
        Some("millisecond" | "milli_seconds") => 1_000,
        Some("microsecond" | "micro_seconds") => 1_000_000,
        Some("nanosecond" | "nano_seconds" | "native" | "perf_counter") => 1_000_000_000,
        _ => return Err(error(atoms::BADARG)),
    };
    Ok(BigInt::from(per_second))
}

fn floor_div(a: BigInt, b: &BigInt) -> BigInt {
    let quotient = &a / b;
    let exact = &quotient * b == a;
    if !exact && ((a < BigInt::from(0)) != (*b < BigInt::from(0))) {
        quotient - 1
    } else {
        quotient
    }
}

/// `erlang:memory/0`'s figures in bytes, in erl's order. `processes` is
/// this process's memory and every other's.
fn memory_figures(p: &Process) -> Vec<(&'static str, usize)> {
    let others = crate::scheduler::current().map_or(0, |runtime| runtime.memory_of_others(p.pid));
    let processes = p.memory_bytes() + others;
    let atom_bytes = crate::atom::memory_bytes();
    let binary = crate::heap::binary_memory();
    let code = crate::module::code_memory();
    let ets = crate::ets::memory_bytes();
    let system = atom_bytes + binary + code + ets;
    vec![
        ("total", processes + system),
        ("processes", processes),
        ("processes_used", processes),
        ("system", system),
        ("atom", atom_bytes),
        ("atom_used", atom_bytes),
        ("binary", binary),
        ("code", code),
        ("ets", ets),
    ]
}

/// The state `statistics/1` reports "since the last call" against.
struct Last {
    wall_ms: u64,
    runtime_ms: u64,
    reductions: u64,
}

fn last() -> &'static Mutex<Last> {
    static LAST: OnceLock<Mutex<Last>> = OnceLock::new();
    LAST.get_or_init(|| Mutex::new(Last { wall_ms: 0, runtime_ms: 0, reductions: 0 }))
}

/// CPU time used by the VM (user and system), in milliseconds, from
/// `/proc/self/stat` (clock ticks of 1/100 s, as on every Linux we run on).
fn cpu_ms() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; fields count from after it.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the name.
    (ticks(11) + ticks(12)) * 10
}

fn statistics(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let mut last = last().lock().unwrap_or_else(|e| e.into_inner());
    let (total, since) = match atom::name(a[0]) {
        Some("wall_clock") => {
            let now = start().elapsed().as_millis() as u64;
            let since = now - last.wall_ms.min(now);
            last.wall_ms = now;
            (now, since)
        }
        Some("runtime") => {
            let now = cpu_ms();
            let since = now - last.runtime_ms.min(now);
            last.runtime_ms = now;
            (now, since)
        }
        Some("reductions") => {
            // Every process's, counted at the end of each time slice, and
            // this one's in the slice it runs.
            let running = p.reductions - p.slice_start;
            let now = crate::scheduler::current().map_or(p.reductions, |r| r.reductions() + running);
            let since = now - last.reductions.min(now);
            last.reductions = now;
            (now, since)
        }
        Some("garbage_collection") => {
            let stats = p.heap.stats();
            drop(last);
            p.ensure(4, a);
            let count = small(i64::from(stats.minor_collections) + i64::from(stats.major_collections));
            return Ok(p.heap.tuple(&[count, small(8 * stats.words_copied as i64), small(0)]));
        }
        _ => return Err(error(atoms::BADARG)),
    };
    drop(last);
    p.ensure(3, a);
    Ok(p.heap.tuple(&[small(total as i64), small(since as i64)]))
}

fn system_info(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    let runtime = crate::scheduler::current();
    match atom::name(a[0]) {
        Some("schedulers" | "schedulers_online") => Ok(small(runtime.map_or(1, |r| r.schedulers()) as i64)),
        Some("logical_processors" | "logical_processors_available") => Ok(small(cores)),
        Some("process_count") => Ok(small(runtime.map_or(1, |r| r.process_count()) as i64)),
        Some("process_limit") => {
            Ok(small(runtime.map_or(crate::scheduler::DEFAULT_MAX_PROCESSES, |r| r.max_processes()) as i64))
        }
        Some("atom_count") => Ok(small(crate::atom::count() as i64)),
        Some("atom_limit") => Ok(small(crate::atom::MAX_ATOMS as i64)),
        Some("wordsize") => Ok(small(8)),
        Some("machine") => Ok(super::erlang::make_string(p, a, "VM")),
        Some("version") => Ok(super::erlang::make_string(p, a, env!("CARGO_PKG_VERSION"))),
        Some("system_version") => {
            let text = format!("vm {} [{cores} schedulers]\n", env!("CARGO_PKG_VERSION"));
            Ok(super::erlang::make_string(p, a, &text))
        }
        _ => Err(error(atoms::BADARG)),
    }
}

/// `erlang:system_flag/2`: `backtrace_depth` (0 to 10000, as BEAM caps
/// it), returning the old value. The VM's other settings are fixed at
/// start, so other flags are badarg.
fn system_flag(_: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    match atom::name(a[0]) {
        Some("backtrace_depth") if a[1].is_small() && a[1].small_value() >= 0 => {
            let depth = a[1].small_value().min(10_000) as usize;
            Ok(small(crate::interp::set_backtrace_depth(depth) as i64))
        }
        _ => Err(error(atoms::BADARG)),
    }
}

/// `erlang:function_exported/3`: whether `module` exports `function/arity`,
/// natively or in its current version (the library modules count as
/// loaded, as erl has loaded them at boot).
fn function_exported(module: Term, function: Term, arity: Term) -> Result<Term, Stop> {
    if !module.is_atom() || !function.is_atom() || !arity.is_small() || arity.small_value() < 0 {
        return Err(error(atoms::BADARG));
    }
    let arity = arity.small_value() as u32;
    let (Some(module_name), Some(function_name)) = (atom::name(module), atom::name(function)) else {
        return Err(error(atoms::BADARG));
    };
    let native = super::lookup(module_name, function_name, arity).is_some();
    let code = crate::scheduler::current().map(|runtime| &runtime.code);
    let exported = native || code.and_then(|c| c.current(module)).is_some_and(|m| m.export(function, arity).is_some());
    Ok(boolean(exported))
}
