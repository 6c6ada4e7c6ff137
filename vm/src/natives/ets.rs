//! OTP's `ets` built-ins over the tables of `ets.rs`: `new/2`, `insert/2`,
//! `insert_new/2`, `lookup/2`, `lookup_element/3`, `member/2`,
//! `delete/1,2`, `delete_object/2`, `delete_all_objects/1`, `take/2`,
//! `update_counter/3,4`, `update_element/3`, `tab2list/1`, `first/1`,
//! `next/2`, `last/1`, `prev/2`, `match/2`, `match_object/2`, `select/2`,
//! `select_reverse/2`, `select_count/2`, `select_delete/2`,
//! `match_delete/2`, `rename/2`, `give_away/3`, `setopts/2` (`heir`),
//! `info/1,2`, `all/0`, `whereis/1` (`foldl/3` and `foldr/3` are in
//! `stdlib/ets.actor`). A table is named by the atom it was created with
//! (`named_table`) or by the reference `new/2` returned; a table that is
//! gone, an access its protection refuses, or a malformed argument raise
//! `badarg`, as in erl, with erl's `error_info` cause where it gives one.

use std::sync::Arc;

use super::erlang::{boolean, list_items};
use super::NativeFn;
use crate::atom::{self, atoms};
use crate::compare::{compare, exact_eq};
use crate::copy::{self, Message};
use crate::ets::{self, key_of, Access, Options, Table, Type};
use crate::exception::{error, Exception, Stop};
use crate::heap::{integer_value, Heap};
use crate::mailbox::Signal;
use crate::process::Process;
use crate::term::{Kind, Term};
use num_bigint::{BigInt, Sign};
use num_traits::ToPrimitive;
use smallvec::SmallVec;

pub(super) fn lookup(function: &str, arity: u32) -> Option<NativeFn> {
    Some(match (function, arity) {
        ("new", 2) => new,
        ("insert", 2) => |p, a| insert(p, a, false),
        ("insert_new", 2) => |p, a| insert(p, a, true),
        ("lookup", 2) => lookup_objects,
        ("lookup_element", 3) => lookup_element,
        ("member", 2) => |p, a| {
            let table = readable(p, a[0])?;
            let found = !table.read().lookup(a[1], table.options.keypos).is_empty();
            Ok(boolean(found))
        },
        ("delete", 1) => |p, a| {
            let table = writable(p, a[0])?;
            ets::delete(table.id);
            Ok(atoms::TRUE)
        },
        ("delete", 2) => |p, a| {
            writable(p, a[0])?.delete_key(a[1]);
            Ok(atoms::TRUE)
        },
        ("delete_object", 2) => |p, a| {
            writable(p, a[0])?.delete_object(a[1]);
            Ok(atoms::TRUE)
        },
        ("update_counter", 3) => |p, a| update_counter(p, a, None),
        ("update_element", 3) => update_element,
        ("take", 2) => take,
        ("give_away", 3) => give_away,
        ("setopts", 2) => setopts,
        ("rename", 2) => |p, a| {
            let table = writable(p, a[0])?;
            if !a[1].is_atom() || !ets::rename(&table, a[1]) {
                return Err(badarg());
            }
            p.ensure(2, a);
            Ok(identifier(p, &table))
        },
        ("delete_all_objects", 1) => |p, a| {
            writable(p, a[0])?.retain(|_| false);
            Ok(atoms::TRUE)
        },
        ("select_delete", 2) => |p, a| {
            let deleted = select_delete(p, a, Select::Spec)?;
            Term::small(deleted as i64).ok_or_else(badarg)
        },
        ("match_delete", 2) => |p, a| {
            select_delete(p, a, Select::Match)?;
            Ok(atoms::TRUE)
        },
        ("update_counter", 4) => |p, a| update_counter(p, a, Some(a[3])),
        ("tab2list", 1) => |p, a| {
            let table = readable(p, a[0])?;
            let store = table.read();
            Ok(copy_out(p, a, &store.objects()))
        },
        ("first", 1) => |p, a| first(p, a, true),
        ("last", 1) => |p, a| first(p, a, false),
        ("next", 2) => |p, a| next(p, a, true),
        ("prev", 2) => |p, a| next(p, a, false),
        ("match", 2) => |p, a| select(p, a, Select::Match),
        ("match_object", 2) => |p, a| select(p, a, Select::MatchObject),
        ("select", 2) => |p, a| select(p, a, Select::Spec),
        ("select_reverse", 2) => |p, a| select(p, a, Select::Reverse),
        ("select_count", 2) => |p, a| select(p, a, Select::Count),
        ("info", 1) => |p, a| info_all(p, a),
        ("info", 2) => info,
        ("all", 0) => |p, a| {
            let tables = ets::all();
            // A list cell and a reference (2 words each) a table.
            p.ensure(4 * tables.len(), a);
            let ids: Vec<Term> = tables.iter().map(|t| identifier(p, t)).collect();
            Ok(p.heap.list(&ids))
        },
        ("whereis", 1) => |p, a| {
            if !a[0].is_atom() {
                return Err(error(atoms::BADARG));
            }
            match ets::by_name(a[0]) {
                Some(table) => {
                    p.ensure(2, a);
                    Ok(p.heap.reference(table.id))
                }
                None => Ok(atoms::UNDEFINED),
            }
        },
        _ => return None,
    })
}

fn badarg() -> Stop {
    error(atoms::BADARG)
}

fn intern(name: &str) -> Term {
    atom::intern(name).unwrap_or(atoms::UNDEFINED)
}

/// `badarg` with an `error_info` cause, as erl gives for tables: `type`
/// (not a table name or reference), `id` (no such table), `access` (its
/// protection refuses), `table_type`, `badkey`, `position`, `keypos`,
/// `already_exists`, `owner`, `not_owner`.
fn badarg_because(cause: &str) -> Stop {
    Stop::Raise(Exception::error_because(atoms::BADARG, intern(cause)))
}

/// The items of an argument that is one item or a list of them (objects,
/// replacements, options); badarg for an improper list.
fn one_or_list(term: Term) -> Result<Vec<Term>, Stop> {
    if term.is_cons() || term.is_nil() {
        list_items(term)
    } else {
        Ok(vec![term])
    }
}

/// The table a term names: its name (an atom) or its reference.
fn table(term: Term) -> Result<Arc<Table>, Stop> {
    let found = if term.is_atom() {
        ets::by_name(term)
    } else if term.is_boxed() && term.header().kind() == Some(Kind::Reference) {
        ets::by_id(term.payload()[0])
    } else {
        return Err(badarg_because("type"));
    };
    found.ok_or_else(|| badarg_because("id"))
}

fn readable(p: &Process, term: Term) -> Result<Arc<Table>, Stop> {
    let table = table(term)?;
    match table.options.access {
        Access::Private if table.owner() != p.pid => Err(badarg_because("access")),
        _ => Ok(table),
    }
}

fn writable(p: &Process, term: Term) -> Result<Arc<Table>, Stop> {
    let table = table(term)?;
    match table.options.access {
        Access::Public => Ok(table),
        _ if table.owner() == p.pid => Ok(table),
        _ => Err(badarg_because("access")),
    }
}

/// How a table is named to Erlang code: its name, or its reference.
fn identifier(p: &mut Process, table: &Table) -> Term {
    if table.options.named {
        table.name()
    } else {
        p.heap.reference(table.id)
    }
}

fn new(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    if !a[0].is_atom() {
        return Err(badarg());
    }
    let mut options = Options::default();
    let mut heir = None;
    for option in list_items(a[1])? {
        match (atom::name(option).filter(|_| option.is_atom()), option.tuple_elements()) {
            (Some("set"), _) => options.kind = Type::Set,
            (Some("ordered_set"), _) => options.kind = Type::OrderedSet,
            (Some("bag"), _) => options.kind = Type::Bag,
            (Some("duplicate_bag"), _) => options.kind = Type::DuplicateBag,
            (Some("public"), _) => options.access = Access::Public,
            (Some("protected"), _) => options.access = Access::Protected,
            (Some("private"), _) => options.access = Access::Private,
            (Some("named_table"), _) => options.named = true,
            (Some("compressed"), _) => {}
            (_, Some(&[key, value])) => match (atom::name(key), value) {
                (Some("keypos"), v) if v.is_small() && v.small_value() >= 1 => {
                    options.keypos = v.small_value() as usize;
                }
                (Some("read_concurrency"), v) if v == atoms::TRUE || v == atoms::FALSE => {
                    options.read_concurrency = v == atoms::TRUE;
                }
                (Some("write_concurrency"), v) if v == atoms::TRUE || v == atoms::FALSE || v == intern("auto") => {
                    options.write_concurrency = v != atoms::FALSE;
                }
                (Some("decentralized_counters"), v) if v == atoms::TRUE || v == atoms::FALSE => {}
                (Some("heir"), v) if v == atoms::NONE => heir = None,
                _ => return Err(badarg()),
            },
            (_, Some(&[key, pid, data])) if key == intern("heir") && pid.is_pid() => heir = Some((pid, data)),
            _ => return Err(badarg()),
        }
    }
    let table = ets::create(a[0], options, p.pid).ok_or_else(|| badarg_because("already_exists"))?;
    table.set_heir(heir.map(|(pid, data)| (pid.pid_number(), Message::new(data))));
    // The table dies with its owner (or passes to the heir).
    p.ties_mut().tables.push(table.id);
    p.ensure(2, a);
    Ok(identifier(p, &table))
}

fn insert(p: &mut Process, a: &mut [Term], only_new: bool) -> Result<Term, Stop> {
    let table = writable(p, a[0])?;
    let objects = one_or_list(a[1])?;
    if objects.iter().any(|&o| key_of(o, table.options.keypos).is_none()) {
        return Err(badarg());
    }
    let inserted = table.insert(&objects, only_new);
    // Charged once the table is unlocked: the charge may suspend.
    p.charge((inserted.unwrap_or(0) / 64) as u64);
    Ok(if only_new { boolean(inserted.is_some()) } else { atoms::TRUE })
}

/// Copies objects out of a table into the process: a list of them.
fn copy_out(p: &mut Process, a: &mut [Term], objects: &[&Message]) -> Term {
    let words: usize = objects.iter().map(|m| m.words()).sum::<usize>() + 2 * objects.len();
    p.ensure(words, a);
    let items: Vec<Term> = objects.iter().map(|m| copy::copy(m.term(), &mut p.heap)).collect();
    p.reductions += (words / 64) as u64;
    p.heap.list(&items)
}

fn lookup_objects(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let table = readable(p, a[0])?;
    let store = table.read();
    let found = store.lookup(a[1], table.options.keypos);
    Ok(copy_out(p, a, &found))
}

fn lookup_element(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let table = readable(p, a[0])?;
    if !a[2].is_small() || a[2].small_value() < 1 {
        return Err(badarg());
    }
    let position = a[2].small_value() as usize;
    let store = table.read();
    let found = store.lookup(a[1], table.options.keypos);
    let elements: Vec<Term> = found
        .iter()
        .map(|m| m.term().tuple_elements().and_then(|t| t.get(position - 1)).copied())
        .collect::<Option<_>>()
        .ok_or_else(badarg)?;
    if elements.is_empty() {
        return Err(badarg_because("badkey"));
    }
    let words: usize = elements.iter().map(|&e| copy::size(e)).sum::<usize>() + 2 * elements.len();
    p.ensure(words, a);
    let copies: Vec<Term> = elements.iter().map(|&e| copy::copy(e, &mut p.heap)).collect();
    Ok(match table.options.kind {
        Type::Set | Type::OrderedSet => copies[0],
        _ => p.heap.list(&copies),
    })
}

fn first(p: &mut Process, a: &mut [Term], forward: bool) -> Result<Term, Stop> {
    let table = readable(p, a[0])?;
    let store = table.read();
    Ok(match store.first(table.options.keypos, forward) {
        Some(key) => copy_key(p, a, key),
        None => intern("$end_of_table"),
    })
}

fn next(p: &mut Process, a: &mut [Term], forward: bool) -> Result<Term, Stop> {
    let table = readable(p, a[0])?;
    let store = table.read();
    // A hashed table has no order of its own: prev is next, as in erl.
    let forward = forward || table.options.kind != Type::OrderedSet;
    match store.next(a[1], table.options.keypos, forward) {
        Ok(Some(key)) => Ok(copy_key(p, a, key)),
        Ok(None) => Ok(intern("$end_of_table")),
        Err(ets::NotFound) => Err(badarg()),
    }
}

fn copy_key(p: &mut Process, a: &mut [Term], key: Term) -> Term {
    p.ensure(copy::size(key), a);
    copy::copy(key, &mut p.heap)
}

/// One update of `update_counter`: the position (1-based, checked
/// against the object when it is applied), the increment, and the
/// threshold with the value to set when it is passed (integers, small or
/// big, as erl allows).
struct Update {
    position: i64,
    increment: Term,
    threshold: Option<(Term, Term)>,
}

/// An update's form (a bare increment counts the element after the key).
fn parse_update(op: Term, keypos: usize) -> Option<Update> {
    let int = |t: Term| integer_value(t).map(|_| t);
    let pos = |t: Term| t.is_small().then(|| t.small_value());
    if int(op).is_some() {
        return Some(Update { position: keypos as i64 + 1, increment: op, threshold: None });
    }
    Some(match *op.tuple_elements()? {
        [p, incr] => Update { position: pos(p)?, increment: int(incr)?, threshold: None },
        [p, incr, threshold, set] => {
            Update { position: pos(p)?, increment: int(incr)?, threshold: Some((int(threshold)?, int(set)?)) }
        }
        _ => return None,
    })
}

/// A counter's value: a small integer (a term) or a bignum, built in a
/// heap only once it is known where it goes.
#[derive(Clone)]
enum Count {
    Small(Term),
    Big(BigInt),
}

impl Count {
    fn of(term: Term) -> Option<Count> {
        if term.is_small() {
            Some(Count::Small(term))
        } else {
            integer_value(term).map(Count::Big)
        }
    }

    fn value(&self) -> BigInt {
        match self {
            Count::Small(t) => BigInt::from(t.small_value()),
            Count::Big(big) => big.clone(),
        }
    }

    /// Heap words its term needs.
    fn words(&self) -> usize {
        match self {
            Count::Small(_) => 0,
            Count::Big(big) => 1 + big.magnitude().iter_u64_digits().len(),
        }
    }

    fn term(&self, heap: &mut Heap) -> Term {
        match self {
            Count::Small(t) => *t,
            Count::Big(big) => heap.integer(big),
        }
    }
}

/// `current` plus the update's increment, and past the threshold (above it
/// for an increment of zero or more, below it otherwise) the value to set.
fn bump(current: &Count, update: &Update) -> Count {
    if let (Count::Small(c), true) = (current, update.increment.is_small()) {
        // Two 60-bit integers: the sum fits in an i64.
        let value = c.small_value() + update.increment.small_value();
        let small_threshold = match update.threshold {
            None => Some(None),
            Some((t, set)) if t.is_small() && set.is_small() => Some(Some((t.small_value(), set))),
            Some(_) => None,
        };
        if let Some(threshold) = small_threshold {
            let up = update.increment.small_value() >= 0;
            match threshold {
                Some((t, set)) if (up && value > t) || (!up && value < t) => return Count::Small(set),
                _ => {}
            }
            if let Some(term) = Term::small(value) {
                return Count::Small(term);
            }
            return Count::Big(BigInt::from(value));
        }
    }
    let increment = integer_value(update.increment).unwrap_or_default();
    let value = current.value() + &increment;
    let up = increment.sign() != Sign::Minus;
    if let Some((t, set)) = update.threshold {
        let t = integer_value(t).unwrap_or_default();
        if (up && value > t) || (!up && value < t) {
            return Count::of(set).unwrap_or(Count::Small(set));
        }
    }
    match value.to_i64().and_then(Term::small) {
        Some(term) => Count::Small(term),
        None => Count::Big(value),
    }
}

/// One entry per update, kept inline for the usual single update.
type PerUpdate<T> = SmallVec<[T; 1]>;

/// The positions updates wrote with their new values, and each update's result.
type Applied = (PerUpdate<(usize, Count)>, PerUpdate<Count>);

/// The updates `ops` run in order over `elements`, each reading what the
/// ones before it wrote: the new value of each position written (last
/// write last) and each update's result. Each is checked as it comes, as
/// erl does: badarg for a malformed one or a position whose element is not
/// an integer, with the cause `position` for a position outside the
/// object, `keypos` for the key's.
fn apply_updates(elements: &[Term], ops: &[Term], keypos: usize) -> Result<Applied, Stop> {
    let mut written: PerUpdate<(usize, Count)> = SmallVec::with_capacity(ops.len());
    let mut results = SmallVec::with_capacity(ops.len());
    for &op in ops {
        let update = parse_update(op, keypos).ok_or_else(badarg)?;
        if update.position < 1 || update.position as usize > elements.len() {
            return Err(badarg_because("position"));
        }
        let index = update.position as usize - 1;
        if index + 1 == keypos {
            return Err(badarg_because("keypos"));
        }
        let current = match written.iter().rev().find(|(i, _)| *i == index) {
            Some((_, count)) => count.clone(),
            None => Count::of(elements[index]).ok_or_else(badarg)?,
        };
        let value = bump(&current, &update);
        written.push((index, value.clone()));
        results.push(value);
    }
    Ok((written, results))
}

/// `update_counter(Tab, Key, Op[, Default])`.
fn update_counter(p: &mut Process, a: &mut [Term], default: Option<Term>) -> Result<Term, Stop> {
    let table = writable(p, a[0])?;
    if !matches!(table.options.kind, Type::Set | Type::OrderedSet) {
        return Err(badarg_because("table_type"));
    }
    let keypos = table.options.keypos;
    let (key, op) = (a[1], a[2]);
    let many = op.is_cons() || op.is_nil();
    // A malformed list of updates is found once the object is (erl looks
    // the key up first: `badkey` comes before it).
    let ops: Option<PerUpdate<Term>> =
        if many { list_items(op).ok().map(PerUpdate::from_vec) } else { Some(smallvec::smallvec![op]) };
    let ops = || ops.as_deref().ok_or_else(badarg);
    if let Some(d) = default {
        if key_of(d, keypos).is_none() {
            return Err(badarg());
        }
    }
    // An object there already whose counters stay small integers: they
    // change in place (no copy of the object). Otherwise (no object, or a
    // bignum on either side) a new object is stored.
    let (values, _scratch) = table.update_counters(
        key,
        |elements| {
            let (written, results) = apply_updates(elements, ops()?, keypos)?;
            let small = |&(i, ref count): &(usize, Count)| match count {
                Count::Small(t) if elements[i].is_small() => Some((i, *t)),
                _ => None,
            };
            let writes: Option<PerUpdate<(usize, Term)>> = written.iter().map(small).collect();
            Ok::<_, Stop>(writes.map(|writes| (writes, (results, None))))
        },
        |current| {
            let base = current.or(default).ok_or_else(|| badarg_because("badkey"))?;
            let mut elements = base.tuple_elements().ok_or_else(badarg)?.to_vec();
            // A default object takes the key it is stored under.
            elements[keypos - 1] = key;
            let (written, results) = apply_updates(&elements, ops()?, keypos)?;
            // The new object is built in a heap of its own, handed back with
            // the results so that it lives until the table has copied it in
            // (moving a heap moves no words).
            let words = 1 + elements.len() + written.iter().map(|(_, c)| c.words()).sum::<usize>();
            let mut scratch = Heap::with_young_words(words);
            for (index, count) in &written {
                elements[*index] = count.term(&mut scratch);
            }
            Ok((scratch.tuple(&elements), (results, Some(scratch))))
        },
    )?;
    let words = values.iter().map(Count::words).sum::<usize>() + if many { 2 * values.len() } else { 0 };
    if words > 0 {
        p.ensure(words, a);
    }
    let terms: PerUpdate<Term> = values.iter().map(|v| v.term(&mut p.heap)).collect();
    Ok(if many { p.heap.list(&terms) } else { terms[0] })
}

/// `update_element(Tab, Key, {Pos, Value} | [{Pos, Value}])` (sets and
/// ordered sets): false when there is no object with the key; the
/// replacements are checked in order against the object (`keypos` for the
/// key's position, plain badarg for one outside it or malformed).
fn update_element(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let table = writable(p, a[0])?;
    if !matches!(table.options.kind, Type::Set | Type::OrderedSet) {
        return Err(badarg());
    }
    let keypos = table.options.keypos;
    let (key, spec) = (a[1], a[2]);
    // A malformed list is found once the object is: a missing key is `false`.
    let replacements = one_or_list(spec).ok();
    let mut scratch = None;
    let replaced = table.replace_object(key, |object| {
        let mut elements = object.tuple_elements().ok_or_else(badarg)?.to_vec();
        for replacement in replacements.as_deref().ok_or_else(badarg)? {
            let &[position, value] = replacement.tuple_elements().ok_or_else(badarg)? else { return Err(badarg()) };
            let position = if position.is_small() { position.small_value() } else { return Err(badarg()) };
            if position == keypos as i64 {
                return Err(badarg_because("keypos"));
            }
            if position < 1 || position as usize > elements.len() {
                return Err(badarg());
            }
            elements[position as usize - 1] = value;
        }
        // The new tuple points at the values where they are (in this
        // process's heap); the table copies it all in.
        let heap = scratch.insert(Heap::with_young_words(1 + elements.len()));
        Ok(heap.tuple(&elements))
    })?;
    Ok(boolean(replaced))
}

/// `give_away(Tab, Pid, Gift)`: the owner makes `Pid` the owner, which
/// gets `{'ETS-TRANSFER', Tab, Owner, Gift}`.
fn give_away(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let table = table(a[0])?;
    if table.owner() != p.pid {
        return Err(badarg_because("not_owner"));
    }
    if !a[1].is_pid() {
        return Err(badarg());
    }
    let new_owner = a[1].pid_number();
    if new_owner == p.pid {
        return Err(badarg_because("owner"));
    }
    let runtime = crate::scheduler::current().ok_or_else(badarg)?;
    // The owner changes first: if the new owner ends once its inbox took
    // the table, its exit deletes the table (or passes it on); if its inbox
    // was closed already, the table stays here.
    table.set_owner(new_owner);
    let transfer = table.transfer_message(p.pid, a[2]);
    if runtime.signal(new_owner, Signal::Table { id: table.id, transfer }).is_err() {
        table.set_owner(p.pid);
        return Err(badarg());
    }
    p.ties_mut().tables.retain(|&id| id != table.id);
    Ok(atoms::TRUE)
}

/// `setopts(Tab, Opts)`: the owner sets `{heir, Pid, Data}` or `{heir, none}`.
fn setopts(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let table = table(a[0])?;
    let options = one_or_list(a[1])?;
    let heir_key = intern("heir");
    let mut heirs = Vec::new();
    for option in options {
        match option.tuple_elements() {
            Some(&[key, none]) if key == heir_key && none == atoms::NONE => heirs.push(None),
            Some(&[key, pid, data]) if key == heir_key && pid.is_pid() => heirs.push(Some((pid, data))),
            _ => return Err(badarg()),
        }
    }
    if table.owner() != p.pid {
        return Err(badarg());
    }
    if let Some(heir) = heirs.pop() {
        table.set_heir(heir.map(|(pid, data)| (pid.pid_number(), Message::new(data))));
    }
    Ok(atoms::TRUE)
}

/// `take(Tab, Key)`: the objects with the key, removed from the table.
fn take(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let table = writable(p, a[0])?;
    let mut taken = table.take(a[1]);
    // erl gives a bag's objects newest first (a duplicate bag's oldest first).
    if table.options.kind == Type::Bag {
        taken.reverse();
    }
    let objects: Vec<&Message> = taken.iter().collect();
    Ok(copy_out(p, a, &objects))
}

/// `select_delete/2` (`how` is `Spec`) and `match_delete/2` (`Match`: a
/// pattern): removes the objects for which the spec gives `true` (every
/// object the pattern matches); returns how many.
fn select_delete(p: &mut Process, a: &mut [Term], how: Select) -> Result<usize, Stop> {
    let table = writable(p, a[0])?;
    let clauses = match how {
        Select::Match => vec![Clause { pattern: a[1], guards: Vec::new(), body: vec![atoms::TRUE] }],
        _ => clauses(a[1]).ok_or_else(badarg)?,
    };
    let mut visited = 0;
    let deleted = table.retain(|object| {
        visited += 1;
        run_spec(&clauses, object).and_then(|r| r.term()) != Some(atoms::TRUE)
    });
    p.charge((visited / 16) as u64);
    Ok(deleted)
}

// ---------------------------------------------------------------------
// Match patterns and match specifications

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Select {
    /// `match/2`: the bindings of each match, as a list.
    Match,
    /// `match_object/2`: the objects.
    MatchObject,
    /// `select/2`: what each clause's body gives.
    Spec,
    /// `select_reverse/2`: as `select/2`, an ordered set's last object first.
    Reverse,
    /// `select_count/2`: how many objects the spec gives `true` for.
    Count,
}

/// A value a match spec's body computes: a term (from the table, the
/// spec or an immediate), or a tuple or list it builds.
#[derive(Debug, Clone)]
enum Built {
    Term(Term),
    Tuple(Vec<Built>),
    List(Vec<Built>),
}

impl Built {
    fn words(&self) -> usize {
        match self {
            Built::Term(t) => copy::size(*t),
            Built::Tuple(items) => 1 + items.len() + items.iter().map(Built::words).sum::<usize>(),
            Built::List(items) => 2 * items.len() + items.iter().map(Built::words).sum::<usize>(),
        }
    }

    fn build(&self, heap: &mut Heap) -> Term {
        match self {
            Built::Term(t) => copy::copy(*t, heap),
            Built::Tuple(items) => {
                let built: Vec<Term> = items.iter().map(|b| b.build(heap)).collect();
                heap.tuple(&built)
            }
            Built::List(items) => {
                let built: Vec<Term> = items.iter().map(|b| b.build(heap)).collect();
                heap.list(&built)
            }
        }
    }

    fn term(&self) -> Option<Term> {
        match self {
            Built::Term(t) => Some(*t),
            _ => None,
        }
    }
}

/// The number of a match variable (`'$1'`...).
fn variable(term: Term) -> Option<usize> {
    if !term.is_atom() {
        return None;
    }
    let name = atom::name(term)?;
    let digits = name.strip_prefix('$')?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}

/// Matches `object` against `pattern`, binding variables.
fn matches(pattern: Term, object: Term, bindings: &mut Vec<Option<Term>>) -> bool {
    if pattern == intern("_") {
        return true;
    }
    if let Some(n) = variable(pattern) {
        if bindings.len() <= n {
            bindings.resize(n + 1, None);
        }
        return match bindings[n] {
            Some(bound) => exact_eq(bound, object),
            None => {
                bindings[n] = Some(object);
                true
            }
        };
    }
    if pattern.is_cons() {
        return object.is_cons()
            && matches(pattern.head(), object.head(), bindings)
            && matches(pattern.tail(), object.tail(), bindings);
    }
    if let Some(elements) = pattern.tuple_elements() {
        return object.tuple_elements().is_some_and(|o| {
            o.len() == elements.len() && elements.iter().zip(o).all(|(&pe, &oe)| matches(pe, oe, bindings))
        });
    }
    if let Some(words) = pattern.map_words() {
        return object.map_words().is_some_and(|found| {
            crate::map::pairs(words)
                .iter()
                .all(|&(key, value)| crate::map::get(found, key).is_some_and(|inner| matches(value, inner, bindings)))
        });
    }
    exact_eq(pattern, object)
}

/// Evaluates a match spec expression (a guard or a body element).
fn evaluate(expr: Term, object: Term, bindings: &[Option<Term>]) -> Option<Built> {
    if let Some(n) = variable(expr) {
        return bindings.get(n).copied().flatten().map(Built::Term);
    }
    if expr.is_atom() {
        return match atom::name(expr) {
            Some("$_") => Some(Built::Term(object)),
            Some("$$") => Some(Built::List(bindings.iter().flatten().map(|&t| Built::Term(t)).collect())),
            _ => Some(Built::Term(expr)),
        };
    }
    if expr.is_cons() || expr.is_nil() {
        let items = list_items(expr).ok()?;
        return items.iter().map(|&e| evaluate(e, object, bindings)).collect::<Option<_>>().map(Built::List);
    }
    let Some(elements) = expr.tuple_elements() else { return Some(Built::Term(expr)) };
    match elements {
        // {{A, B}}: a tuple built of the evaluated elements.
        &[inner] if inner.tuple_elements().is_some() => {
            let items = inner.tuple_elements()?;
            items.iter().map(|&e| evaluate(e, object, bindings)).collect::<Option<_>>().map(Built::Tuple)
        }
        &[tag, value] if atom::name(tag) == Some("const") => Some(Built::Term(value)),
        &[op, ..] => {
            let name = atom::name(op)?;
            let args: Vec<Built> =
                elements[1..].iter().map(|&e| evaluate(e, object, bindings)).collect::<Option<_>>()?;
            call(name, &args).map(Built::Term)
        }
        [] => Some(Built::Term(expr)),
    }
}

/// A guard function of a match spec on evaluated arguments.
fn call(name: &str, args: &[Built]) -> Option<Term> {
    let terms: Option<Vec<Term>> = args.iter().map(Built::term).collect();
    let terms = terms?;
    let small = |t: Term| t.is_small().then(|| t.small_value());
    let truth = |t: Term| {
        if t == atoms::TRUE {
            Some(true)
        } else if t == atoms::FALSE {
            Some(false)
        } else {
            None
        }
    };
    let result = match (name, terms.as_slice()) {
        ("==", &[x, y]) => boolean(compare(x, y).is_eq()),
        ("/=", &[x, y]) => boolean(!compare(x, y).is_eq()),
        ("=:=", &[x, y]) => boolean(exact_eq(x, y)),
        ("=/=", &[x, y]) => boolean(!exact_eq(x, y)),
        ("<", &[x, y]) => boolean(compare(x, y).is_lt()),
        (">", &[x, y]) => boolean(compare(x, y).is_gt()),
        ("=<", &[x, y]) => boolean(compare(x, y).is_le()),
        (">=", &[x, y]) => boolean(compare(x, y).is_ge()),
        ("andalso" | "and", &[x, y]) => boolean(truth(x)? && truth(y)?),
        ("orelse" | "or", &[x, y]) => boolean(truth(x)? || truth(y)?),
        ("xor", &[x, y]) => boolean(truth(x)? ^ truth(y)?),
        ("not", &[x]) => boolean(!truth(x)?),
        ("+", &[x, y]) => Term::small(small(x)?.checked_add(small(y)?)?)?,
        ("-", &[x, y]) => Term::small(small(x)?.checked_sub(small(y)?)?)?,
        ("*", &[x, y]) => Term::small(small(x)?.checked_mul(small(y)?)?)?,
        ("div", &[x, y]) => Term::small(small(x)?.checked_div(small(y)?)?)?,
        ("rem", &[x, y]) => Term::small(small(x)?.checked_rem(small(y)?)?)?,
        ("-", &[x]) => Term::small(small(x)?.checked_neg()?)?,
        ("abs", &[x]) => Term::small(small(x)?.checked_abs()?)?,
        ("is_integer", &[x]) => boolean(x.is_integer()),
        ("is_atom", &[x]) => boolean(x.is_atom()),
        ("is_list", &[x]) => boolean(x.is_cons() || x.is_nil()),
        ("is_tuple", &[x]) => boolean(x.tuple_elements().is_some()),
        ("is_pid", &[x]) => boolean(x.is_pid()),
        ("is_binary", &[x]) => boolean(crate::heap::binary_bytes(x).is_some()),
        ("is_map", &[x]) => boolean(x.map_words().is_some()),
        ("is_float", &[x]) => boolean(x.float_value().is_some()),
        ("is_number", &[x]) => boolean(x.is_number()),
        ("element", &[n, t]) => *t.tuple_elements()?.get(usize::try_from(small(n)?).ok()?.checked_sub(1)?)?,
        ("hd", &[x]) if x.is_cons() => x.head(),
        ("tl", &[x]) if x.is_cons() => x.tail(),
        ("tuple_size" | "size", &[x]) => Term::small(x.tuple_elements()?.len() as i64)?,
        ("length", &[x]) => Term::small(list_items(x).ok()?.len() as i64)?,
        ("map_size", &[m]) => Term::small(crate::map::size(m.map_words()?) as i64)?,
        ("map_get", &[k, m]) => crate::map::get(m.map_words()?, k)?,
        ("is_map_key", &[k, m]) => boolean(crate::map::get(m.map_words()?, k).is_some()),
        _ => return None,
    };
    Some(result)
}

/// One clause of a match spec, read: pattern, guards, body.
struct Clause {
    pattern: Term,
    guards: Vec<Term>,
    body: Vec<Term>,
}

fn clauses(spec: Term) -> Option<Vec<Clause>> {
    list_items(spec)
        .ok()?
        .into_iter()
        .map(|clause| match clause.tuple_elements()? {
            &[pattern, guards, body] => {
                Some(Clause { pattern, guards: list_items(guards).ok()?, body: list_items(body).ok()? })
            }
            _ => None,
        })
        .collect()
}

/// What a spec gives for an object: the first clause whose pattern and
/// guards hold, its body's last value.
fn run_spec(clauses: &[Clause], object: Term) -> Option<Built> {
    for clause in clauses {
        let mut bindings = Vec::new();
        if !matches(clause.pattern, object, &mut bindings) {
            continue;
        }
        // A guard that fails or cannot be computed is false.
        let passes =
            clause.guards.iter().all(|&g| evaluate(g, object, &bindings).and_then(|b| b.term()) == Some(atoms::TRUE));
        if !passes {
            continue;
        }
        return clause.body.last().and_then(|&e| evaluate(e, object, &bindings));
    }
    None
}

fn select(p: &mut Process, a: &mut [Term], how: Select) -> Result<Term, Stop> {
    let table = readable(p, a[0])?;
    // The spec is copied out of the heap first: the results may point into
    // it, and making room for them may move the heap.
    let spec = Message::new(a[1]);
    let clauses = match how {
        Select::Match | Select::MatchObject => {
            vec![Clause { pattern: spec.term(), guards: Vec::new(), body: vec![intern("$_")] }]
        }
        Select::Spec | Select::Reverse | Select::Count => clauses(spec.term()).ok_or_else(badarg)?,
    };
    let store = table.read();
    let mut objects = store.objects();
    if how == Select::Reverse && table.options.kind == Type::OrderedSet {
        objects.reverse();
    }
    let mut results = Vec::new();
    for object in &objects {
        let object = object.term();
        match how {
            Select::Match => {
                let mut bindings = Vec::new();
                if matches(clauses[0].pattern, object, &mut bindings) {
                    results.push(Built::List(bindings.iter().flatten().map(|&t| Built::Term(t)).collect()));
                }
            }
            _ => {
                if let Some(result) = run_spec(&clauses, object) {
                    results.push(result);
                }
            }
        }
    }
    // Charged, not suspended: the table stays locked until the copy is made.
    p.reductions += (objects.len() / 16) as u64;
    if how == Select::Count {
        let count = results.iter().filter(|r| r.term() == Some(atoms::TRUE)).count();
        return Term::small(count as i64).ok_or_else(badarg);
    }
    let list = Built::List(results);
    p.ensure(list.words(), a);
    Ok(list.build(&mut p.heap))
}

// ---------------------------------------------------------------------
// info

const INFO_ITEMS: [&str; 15] = [
    "id",
    "decentralized_counters",
    "read_concurrency",
    "write_concurrency",
    "compressed",
    "memory",
    "owner",
    "heir",
    "name",
    "size",
    "node",
    "named_table",
    "type",
    "keypos",
    "protection",
];

/// One item of `info/2` (the id needs room made for it first).
fn info_value(p: &mut Process, table: &Table, item: &str) -> Option<Term> {
    let options = &table.options;
    Some(match item {
        "id" => p.heap.reference(table.id),
        "decentralized_counters" | "compressed" => atoms::FALSE,
        "read_concurrency" => boolean(options.read_concurrency),
        "write_concurrency" => boolean(options.write_concurrency),
        "memory" => Term::small((table.words() + 2 * table.read().len()) as i64)?,
        "owner" => Term::pid(table.owner()),
        "heir" => table.heir().map_or(atoms::NONE, Term::pid),
        "name" => table.name(),
        "size" => Term::small(table.read().len() as i64)?,
        "node" => atoms::NONODE,
        "named_table" => boolean(options.named),
        "type" => intern(match options.kind {
            Type::Set => "set",
            Type::OrderedSet => "ordered_set",
            Type::Bag => "bag",
            Type::DuplicateBag => "duplicate_bag",
        }),
        "keypos" => Term::small(options.keypos as i64)?,
        "protection" => intern(match options.access {
            Access::Public => "public",
            Access::Protected => "protected",
            Access::Private => "private",
        }),
        _ => return None,
    })
}

fn info(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let item = atom::name(a[1]).filter(|_| a[1].is_atom()).ok_or_else(badarg)?;
    let Ok(table) = table(a[0]) else {
        return if a[0].is_atom() || a[0].is_boxed() { Ok(atoms::UNDEFINED) } else { Err(badarg()) };
    };
    if !INFO_ITEMS.contains(&item) {
        return Err(badarg());
    }
    p.ensure(2, a);
    info_value(p, &table, item).ok_or_else(badarg)
}

fn info_all(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let Ok(table) = table(a[0]) else {
        return if a[0].is_atom() || a[0].is_boxed() { Ok(atoms::UNDEFINED) } else { Err(badarg()) };
    };
    p.ensure(INFO_ITEMS.len() * (3 + 2 + 2), a);
    let items: Vec<Term> = INFO_ITEMS
        .iter()
        .map(|&item| {
            let value = info_value(p, &table, item).unwrap_or(atoms::UNDEFINED);
            p.heap.tuple(&[intern(item), value])
        })
        .collect();
    Ok(p.heap.list(&items))
}
