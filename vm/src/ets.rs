//! ETS tables: shared term storage outside any process heap (OTP's `ets`).
//! A table holds copies of the tuples inserted into it, each a [`Message`]
//! (a word buffer of its own, sharing big binaries by count), so nothing
//! in a table points into a process heap and no collector ever scans one:
//! objects are copied in on insert and copied out on lookup.
//!
//! A table is behind a read-write lock: readers (`lookup`, `member`,
//! `select`...) share it, writers take it alone; tables do not share locks,
//! so work on different tables never contends. `set` and `bag` tables are
//! ordered by the key's hash (then by insertion), `ordered_set` tables by
//! term order (`==` keys: `1` and `1.0` are one key), so traversal
//! (`first`/`next`, `tab2list`) is deterministic. A table dies with the
//! process that owns it (see `Runtime::exit`).

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::compare::{compare, exact_eq};
use crate::copy::Message;
use crate::term::Term;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Set,
    OrderedSet,
    Bag,
    DuplicateBag,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Protected,
    Private,
}

/// How a table was made (`ets:new/2`'s options).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub kind: Type,
    pub access: Access,
    pub named: bool,
    /// The key's position in an object, from 1.
    pub keypos: usize,
    pub read_concurrency: bool,
    pub write_concurrency: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            kind: Type::Set,
            access: Access::Protected,
            named: false,
            keypos: 1,
            read_concurrency: false,
            write_concurrency: false,
        }
    }
}

#[derive(Debug)]
pub struct Table {
    /// The number in the table's identifier (a reference).
    pub id: u64,
    /// Its name (an atom's word), registered when `named`; `rename/2`
    /// changes it.
    name: AtomicU64,
    pub options: Options,
    /// The owning process: it alone writes a protected table and reads a
    /// private one, and the table ends with it (or passes to the heir).
    owner: AtomicU64,
    /// `{heir, Pid, Data}`: who takes the table when its owner ends, and
    /// the data of the `'ETS-TRANSFER'` message it then gets.
    heir: Mutex<Option<(u64, Message)>>,
    store: RwLock<Store>,
    /// Words of the objects stored, for `info/2` and `erlang:memory/0`.
    words: AtomicUsize,
    /// Set when the table is deleted (a thread's cached handle then misses).
    deleted: AtomicBool,
}

/// A key of an `ordered_set`, ordered as terms are (`compare`).
#[derive(Debug, Clone, Copy)]
#[repr(transparent)]
pub struct OrderedKey(pub Term);

impl PartialEq for OrderedKey {
    fn eq(&self, other: &Self) -> bool {
        compare(self.0, other.0).is_eq()
    }
}
impl Eq for OrderedKey {}
impl PartialOrd for OrderedKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrderedKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        compare(self.0, other.0)
    }
}

/// An `ordered_set` entry's key: the key term inside the entry's object.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredKey(OrderedKey);

impl Borrow<OrderedKey> for StoredKey {
    fn borrow(&self) -> &OrderedKey {
        &self.0
    }
}

/// The objects of a table.
#[derive(Debug)]
pub enum Store {
    /// `set`, `bag`, `duplicate_bag`: buckets by the key's hash, each in
    /// insertion order.
    Hashed(Buckets),
    /// `ordered_set`: by key. The key points into its object's buffer,
    /// which does not move while the entry lives.
    Ordered(BTreeMap<StoredKey, Message>),
}

/// The key of a stored or given object.
pub fn key_of(object: Term, keypos: usize) -> Option<Term> {
    object.tuple_elements().and_then(|t| t.get(keypos - 1)).copied()
}

impl Table {
    pub fn owner(&self) -> u64 {
        self.owner.load(Ordering::Acquire)
    }

    /// Gives the table to `pid` (`give_away/3`; the caller tells the new
    /// owner).
    pub fn set_owner(&self, pid: u64) {
        self.owner.store(pid, Ordering::Release);
    }

    /// The heir's pid, if the table has one.
    pub fn heir(&self) -> Option<u64> {
        self.heir.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(pid, _)| *pid)
    }

    /// Sets (or, with `None`, clears) the heir and its data.
    pub fn set_heir(&self, heir: Option<(u64, Message)>) {
        *self.heir.lock().unwrap_or_else(|p| p.into_inner()) = heir;
    }

    /// The `{'ETS-TRANSFER', Tab, From, Data}` message for a table passed
    /// on by `from`: `Tab` is its name or its reference.
    pub fn transfer_message(&self, from: u64, data: Term) -> Message {
        let mut scratch = crate::heap::Heap::with_young_words(2 + 5);
        let tab = if self.options.named { self.name() } else { scratch.reference(self.id) };
        let tag = crate::atom::intern("ETS-TRANSFER").unwrap_or(crate::atom::atoms::UNDEFINED);
        let message = scratch.tuple(&[tag, tab, Term::pid(from), data]);
        Message::new(message)
    }

    /// Its name (an atom).
    pub fn name(&self) -> Term {
        // SAFETY: the word is an atom's, written at creation or by `rename`.
        unsafe { Term::from_raw(self.name.load(Ordering::Relaxed)) }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn words(&self) -> usize {
        self.words.load(Ordering::Relaxed)
    }

    fn key(&self, object: Term) -> Term {
        key_of(object, self.options.keypos).unwrap_or(Term::NIL)
    }

    /// Inserts objects (tuples with the key; checked by the caller). With
    /// `only_new`, nothing is inserted if any key is there already; returns
    /// the words copied in, or `None` if nothing went in.
    pub fn insert(&self, objects: &[Term], only_new: bool) -> Option<usize> {
        let mut store = self.write();
        if only_new && objects.iter().any(|&o| !store.lookup(self.key(o), self.options.keypos).is_empty()) {
            return None;
        }
        let mut copied = 0;
        for &object in objects {
            let message = Message::new(object);
            let added = message.words();
            copied += added;
            let removed = store.insert(message, self.options.kind, self.options.keypos);
            self.words.fetch_add(added, Ordering::Relaxed);
            self.words.fetch_sub(removed, Ordering::Relaxed);
        }
        Some(copied)
    }

    /// Removes the objects with `key`.
    pub fn delete_key(&self, key: Term) {
        self.take(key);
    }

    /// Removes the objects with `key` and returns them, oldest first.
    pub fn take(&self, key: Term) -> Vec<Message> {
        let taken = self.write().remove(key, self.options.keypos, |_| true);
        self.words.fetch_sub(taken.iter().map(Message::words).sum(), Ordering::Relaxed);
        taken
    }

    /// Removes the objects exactly equal to `object`.
    pub fn delete_object(&self, object: Term) {
        let key = self.key(object);
        let removed = self.write().remove(key, self.options.keypos, |stored| exact_eq(stored, object));
        self.words.fetch_sub(removed.iter().map(Message::words).sum(), Ordering::Relaxed);
    }

    /// Keeps the objects `keep` accepts, under one write lock; returns how
    /// many went.
    pub fn retain(&self, keep: impl FnMut(Term) -> bool) -> usize {
        let (words, count) = self.write().retain(keep);
        self.words.fetch_sub(words, Ordering::Relaxed);
        count
    }

    /// Replaces the object with `key` (sets and ordered sets) by the one
    /// `make` builds from it, under one write lock: `update_element`.
    /// `Ok(false)`, changing nothing, when there is no object with the key.
    pub fn replace_object<E>(&self, key: Term, make: impl FnOnce(Term) -> Result<Term, E>) -> Result<bool, E> {
        let keypos = self.options.keypos;
        let mut store = self.write();
        let hash = store.key_hash(key);
        let Some(current) = store.lookup_mut(key, hash, keypos).map(|m| m.term()) else { return Ok(false) };
        // `current` points into its message, which stays in the store
        // until the new object replaces it.
        let object = make(current)?;
        self.store_under(&mut store, key, hash, object);
        Ok(true)
    }

    /// Copies `object` (whose key is `key`, hashed `hash`) into the store
    /// held locked, in place of the object there, and counts its words.
    fn store_under(&self, store: &mut Store, key: Term, hash: u32, object: Term) {
        let keypos = self.options.keypos;
        debug_assert!(key_of(object, keypos).is_some_and(|k| exact_eq(k, key)), "store_under: the key changed");
        let message = Message::new(object);
        let added = message.words();
        let removed = store.insert_hashed(message, hash, self.options.kind, keypos);
        self.words.fetch_add(added, Ordering::Relaxed);
        self.words.fetch_sub(removed, Ordering::Relaxed);
    }

    /// `update_counter`'s read-modify-write (sets and ordered sets), under
    /// one write lock and one hash of the key. The object with `key` is
    /// given to `in_place`, which returns the (0-based position, new small
    /// integer) writes to make in it and its result, or `None` when a
    /// counter is or becomes a bignum. Then (or when there is no object)
    /// `replace` gets the current object (or `None`) and returns the object
    /// to store in its place (a term it built) and its result. Either may
    /// fail, and the table is left as it was.
    pub fn update_counters<W, R, E>(
        &self,
        key: Term,
        in_place: impl FnOnce(&[Term]) -> Result<Option<(W, R)>, E>,
        replace: impl FnOnce(Option<Term>) -> Result<(Term, R), E>,
    ) -> Result<R, E>
    where
        W: IntoIterator<Item = (usize, Term)>,
    {
        let keypos = self.options.keypos;
        let mut store = self.write();
        let hash = store.key_hash(key);
        let current = match store.lookup_mut(key, hash, keypos) {
            Some(message) => {
                let elements = message.term().tuple_elements().unwrap_or(&[]);
                if let Some((writes, result)) = in_place(elements)? {
                    for (index, value) in writes {
                        let written = message.set_small_element(index, value);
                        debug_assert!(written, "update_counters: element {index} is not a small integer");
                    }
                    return Ok(result);
                }
                Some(message.term())
            }
            None => None,
        };
        // `current` points into its message, which stays in the store
        // until the new object replaces it.
        let (object, result) = replace(current)?;
        self.store_under(&mut store, key, hash, object);
        Ok(result)
    }
}

impl Store {
    /// What a hashed store files `key` under (ordered sets use none).
    fn key_hash(&self, key: Term) -> u32 {
        match self {
            Store::Hashed(_) => crate::hash::phash2(key),
            Store::Ordered(_) => 0,
        }
    }

    /// The object with `key` (whose [`Store::key_hash`] is `hash`) of a set
    /// or ordered set, to change in place.
    fn lookup_mut(&mut self, key: Term, hash: u32, keypos: usize) -> Option<&mut Message> {
        match self {
            Store::Hashed(buckets) => {
                let index = buckets.index(hash);
                buckets.slots[index].iter_mut().find(|m| key_of(m.term(), keypos).is_some_and(|k| exact_eq(k, key)))
            }
            Store::Ordered(tree) => tree.get_mut(&OrderedKey(key)),
        }
    }

    fn new(options: Options) -> Store {
        match options.kind {
            Type::OrderedSet => Store::Ordered(BTreeMap::new()),
            _ => Store::Hashed(Buckets::new(options.keypos)),
        }
    }

    /// The objects with `key`, oldest first.
    pub fn lookup(&self, key: Term, keypos: usize) -> Vec<&Message> {
        match self {
            Store::Hashed(buckets) => buckets
                .bucket(crate::hash::phash2(key))
                .iter()
                .filter(|m| key_of(m.term(), keypos).is_some_and(|k| exact_eq(k, key)))
                .collect(),
            Store::Ordered(tree) => tree.get(&OrderedKey(key)).into_iter().collect(),
        }
    }

    /// Adds an object; returns the words of what it replaced.
    fn insert(&mut self, message: Message, kind: Type, keypos: usize) -> usize {
        let key = key_of(message.term(), keypos).unwrap_or(Term::NIL);
        let hash = self.key_hash(key);
        self.insert_hashed(message, hash, kind, keypos)
    }

    /// [`Store::insert`] for an object whose key's [`Store::key_hash`] is `hash`.
    fn insert_hashed(&mut self, message: Message, hash: u32, kind: Type, keypos: usize) -> usize {
        let object = message.term();
        let key = key_of(object, keypos).unwrap_or(Term::NIL);
        match self {
            Store::Hashed(buckets) => {
                let bucket = buckets.entry(hash);
                let same_key = |m: &Message| key_of(m.term(), keypos).is_some_and(|k| exact_eq(k, key));
                match kind {
                    Type::Set => {
                        if let Some(slot) = bucket.iter_mut().find(|m| same_key(m)) {
                            let old = std::mem::replace(slot, message);
                            return old.words();
                        }
                    }
                    Type::Bag if bucket.iter().any(|m| exact_eq(m.term(), object)) => return message.words(),
                    _ => {}
                }
                bucket.push(message);
                buckets.len += 1;
                0
            }
            Store::Ordered(tree) => {
                let stored = StoredKey(OrderedKey(key));
                tree.insert(stored, message).map_or(0, |old| old.words())
            }
        }
    }

    /// Removes the objects with `key` that `which` accepts; returns them,
    /// oldest first.
    fn remove(&mut self, key: Term, keypos: usize, which: impl Fn(Term) -> bool) -> Vec<Message> {
        match self {
            Store::Hashed(buckets) => {
                let index = buckets.index(crate::hash::phash2(key));
                let (gone, kept): (Vec<Message>, Vec<Message>) = std::mem::take(&mut buckets.slots[index])
                    .into_vec()
                    .into_iter()
                    .partition(|m| key_of(m.term(), keypos).is_some_and(|k| exact_eq(k, key)) && which(m.term()));
                buckets.slots[index] = Bucket::from_vec(kept);
                buckets.len -= gone.len();
                buckets.shrink();
                gone
            }
            Store::Ordered(tree) => {
                let goes = tree.get(&OrderedKey(key)).is_some_and(|m| which(m.term()));
                if goes {
                    tree.remove(&OrderedKey(key)).into_iter().collect()
                } else {
                    Vec::new()
                }
            }
        }
    }

    /// Keeps the objects `keep` accepts; returns the words of the others
    /// and how many they were.
    fn retain(&mut self, mut keep: impl FnMut(Term) -> bool) -> (usize, usize) {
        let mut removed = (0, 0);
        let mut count = |m: &Message| {
            let stays = keep(m.term());
            if !stays {
                removed = (removed.0 + m.words(), removed.1 + 1);
            }
            stays
        };
        match self {
            Store::Hashed(buckets) => {
                for bucket in &mut buckets.slots {
                    bucket.retain(&mut count);
                }
                buckets.len -= removed.1;
                buckets.shrink();
            }
            Store::Ordered(tree) => tree.retain(|_, m| count(m)),
        }
        removed
    }

    /// Every object, in traversal order.
    pub fn objects(&self) -> Vec<&Message> {
        match self {
            Store::Hashed(buckets) => buckets.slots.iter().flat_map(|b| b.iter()).collect(),
            Store::Ordered(tree) => tree.values().collect(),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Store::Hashed(buckets) => buckets.len,
            Store::Ordered(tree) => tree.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first key (`forward`) or the last, if any.
    pub fn first(&self, keypos: usize, forward: bool) -> Option<Term> {
        match self {
            Store::Ordered(tree) => {
                let entry = if forward { tree.keys().next() } else { tree.keys().next_back() };
                entry.map(|k| (k.0).0)
            }
            // A hashed table has no last key: `last` is `first`, as in erl.
            Store::Hashed(buckets) => buckets
                .slots
                .iter()
                .flat_map(|b| b.iter())
                .next()
                .map(|m| key_of(m.term(), keypos).unwrap_or(Term::NIL)),
        }
    }

    /// The key after `key` (`forward`) or before it; `Err` if `key` is not
    /// in the table (a hashed table, whose order needs the key).
    pub fn next(&self, key: Term, keypos: usize, forward: bool) -> Result<Option<Term>, NotFound> {
        match self {
            Store::Ordered(tree) => {
                use std::ops::Bound::{Excluded, Unbounded};
                let probe = OrderedKey(key);
                let found = if forward {
                    tree.range::<OrderedKey, _>((Excluded(&probe), Unbounded)).next()
                } else {
                    tree.range::<OrderedKey, _>((Unbounded, Excluded(&probe))).next_back()
                };
                Ok(found.map(|(k, _)| (k.0).0))
            }
            // Within the key's bucket, then the buckets after it.
            Store::Hashed(buckets) => {
                let index = buckets.index(crate::hash::phash2(key));
                let keys = bucket_keys(&buckets.slots[index], keypos);
                let at = keys.iter().position(|&k| exact_eq(k, key)).ok_or(NotFound)?;
                if let Some(&next) = keys.get(at + 1) {
                    return Ok(Some(next));
                }
                let after = buckets.slots[index + 1..].iter().flat_map(|b| b.iter()).next();
                Ok(after.map(|m| key_of(m.term(), keypos).unwrap_or(Term::NIL)))
            }
        }
    }
}

/// The objects of one bucket, oldest first. Most buckets hold one object,
/// kept in the bucket array itself: a lookup then reads the array and the
/// object's buffer, not a vector in between.
#[derive(Debug, Default)]
pub enum Bucket {
    #[default]
    Empty,
    One(Message),
    Many(Vec<Message>),
}

impl std::ops::Deref for Bucket {
    type Target = [Message];

    fn deref(&self) -> &[Message] {
        match self {
            Bucket::Empty => &[],
            Bucket::One(message) => std::slice::from_ref(message),
            Bucket::Many(messages) => messages,
        }
    }
}

impl std::ops::DerefMut for Bucket {
    fn deref_mut(&mut self) -> &mut [Message] {
        match self {
            Bucket::Empty => &mut [],
            Bucket::One(message) => std::slice::from_mut(message),
            Bucket::Many(messages) => messages,
        }
    }
}

impl Bucket {
    fn push(&mut self, message: Message) {
        *self = match std::mem::take(self) {
            Bucket::Empty => Bucket::One(message),
            Bucket::One(first) => Bucket::Many(vec![first, message]),
            Bucket::Many(mut messages) => {
                messages.push(message);
                Bucket::Many(messages)
            }
        };
    }

    fn retain(&mut self, keep: impl FnMut(&Message) -> bool) {
        let mut messages = std::mem::take(self).into_vec();
        messages.retain(keep);
        *self = Bucket::from_vec(messages);
    }

    fn from_vec(mut messages: Vec<Message>) -> Bucket {
        if messages.len() > 1 {
            Bucket::Many(messages)
        } else {
            messages.pop().map_or(Bucket::Empty, Bucket::One)
        }
    }

    fn into_vec(self) -> Vec<Message> {
        match self {
            Bucket::Empty => Vec::new(),
            Bucket::One(message) => vec![message],
            Bucket::Many(messages) => messages,
        }
    }
}

/// The buckets of a hashed table: a power-of-two array indexed by the low
/// bits of the key's hash, grown when it holds more objects than buckets
/// and shrunk when it holds under a quarter (traversal goes bucket by
/// bucket, so the order changes when the table is resized, as in erl).
#[derive(Debug)]
pub struct Buckets {
    slots: Vec<Bucket>,
    len: usize,
    /// Where the key is in an object.
    keypos: usize,
}

const MIN_BUCKETS: usize = 16;

impl Buckets {
    fn new(keypos: usize) -> Buckets {
        Buckets { slots: (0..MIN_BUCKETS).map(|_| Bucket::Empty).collect(), len: 0, keypos }
    }

    fn index(&self, hash: u32) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    fn bucket(&self, hash: u32) -> &[Message] {
        &self.slots[self.index(hash)]
    }

    /// The bucket for `hash`, growing the array first if it is full.
    fn entry(&mut self, hash: u32) -> &mut Bucket {
        if self.len >= self.slots.len() {
            self.resize(self.slots.len() * 2);
        }
        let index = self.index(hash);
        &mut self.slots[index]
    }

    /// Halves the array while it holds under a quarter as many objects as
    /// buckets (once after a removal; as often as needed after `retain`).
    fn shrink(&mut self) {
        let mut size = self.slots.len();
        while size > MIN_BUCKETS && self.len < size / 4 {
            size /= 2;
        }
        if size < self.slots.len() {
            self.resize(size);
        }
    }

    fn resize(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.slots, (0..size).map(|_| Bucket::Empty).collect());
        for message in old.into_iter().flat_map(Bucket::into_vec) {
            let key = key_of(message.term(), self.keypos).unwrap_or(Term::NIL);
            let index = self.index(crate::hash::phash2(key));
            self.slots[index].push(message);
        }
    }
}

/// A key that `next` cannot step from: it is not in the (hashed) table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotFound;

/// The keys of a bucket's objects, each once, in the order they first appear.
fn bucket_keys(bucket: &[Message], keypos: usize) -> Vec<Term> {
    let mut keys: Vec<Term> = Vec::new();
    for object in bucket {
        let key = key_of(object.term(), keypos).unwrap_or(Term::NIL);
        if !keys.iter().any(|&k| exact_eq(k, key)) {
            keys.push(key);
        }
    }
    keys
}

/// Every table, by identifier and by name.
#[derive(Debug, Default)]
struct Tables {
    by_id: HashMap<u64, Arc<Table>>,
    by_name: HashMap<Term, u64>,
}

fn tables() -> &'static RwLock<Tables> {
    static TABLES: OnceLock<RwLock<Tables>> = OnceLock::new();
    TABLES.get_or_init(RwLock::default)
}

/// Makes a table; `None` if `options.named` and the name is taken.
pub fn create(name: Term, options: Options, owner: u64) -> Option<Arc<Table>> {
    let mut all = tables().write().unwrap_or_else(|p| p.into_inner());
    if options.named && all.by_name.contains_key(&name) {
        return None;
    }
    let id = crate::scheduler::new_reference();
    let table = Arc::new(Table {
        id,
        name: AtomicU64::new(name.raw()),
        options,
        owner: AtomicU64::new(owner),
        heir: Mutex::new(None),
        store: RwLock::new(Store::new(options)),
        words: AtomicUsize::new(0),
        deleted: AtomicBool::new(false),
    });
    all.by_id.insert(id, table.clone());
    if options.named {
        all.by_name.insert(name, id);
    }
    Some(table)
}

thread_local! {
    /// The table this thread used last, by id and by name: most code works
    /// one table at a time, and this spares it the global lock and a
    /// shared reference count per operation.
    static LAST: RefCell<Option<Arc<Table>>> = const { RefCell::new(None) };
}

/// The live table `matches` picks, from this thread's cache or the registry.
fn cached(matches: impl Fn(&Table) -> bool, find: impl FnOnce(&Tables) -> Option<Arc<Table>>) -> Option<Arc<Table>> {
    let hit =
        LAST.with(|last| last.borrow().as_ref().filter(|t| matches(t) && !t.deleted.load(Ordering::Acquire)).cloned());
    if hit.is_some() {
        return hit;
    }
    let found = find(&tables().read().unwrap_or_else(|p| p.into_inner()))?;
    LAST.with(|last| *last.borrow_mut() = Some(found.clone()));
    Some(found)
}

pub fn by_id(id: u64) -> Option<Arc<Table>> {
    cached(|t| t.id == id, |all| all.by_id.get(&id).cloned())
}

pub fn by_name(name: Term) -> Option<Arc<Table>> {
    cached(
        |t| t.options.named && t.name() == name,
        |all| all.by_name.get(&name).and_then(|id| all.by_id.get(id)).cloned(),
    )
}

/// Renames a table (`rename/2`); `false` if it is named and another
/// named table (or itself) has the name already. An unnamed table takes
/// any name: it is not registered under it.
pub fn rename(table: &Table, name: Term) -> bool {
    let mut all = tables().write().unwrap_or_else(|p| p.into_inner());
    if table.options.named {
        if all.by_name.contains_key(&name) {
            return false;
        }
        all.by_name.remove(&table.name());
        all.by_name.insert(name, table.id);
    }
    table.name.store(name.raw(), Ordering::Relaxed);
    true
}

/// Every live table's identifier and name.
pub fn all() -> Vec<Arc<Table>> {
    let all = tables().read().unwrap_or_else(|p| p.into_inner());
    let mut list: Vec<_> = all.by_id.values().cloned().collect();
    list.sort_by_key(|t| t.id);
    list
}

/// Deletes a table (its objects are freed when the last reader lets go).
pub fn delete(id: u64) {
    let mut all = tables().write().unwrap_or_else(|p| p.into_inner());
    if let Some(table) = all.by_id.remove(&id) {
        table.deleted.store(true, Ordering::Release);
        if table.options.named {
            all.by_name.remove(&table.name());
        }
    }
}

/// The owner `pid` of table `id` has ended: the table is deleted, unless
/// it has an heir other than `pid`, which then owns it: the heir and its
/// `'ETS-TRANSFER'` message are returned, for the caller to send (and to
/// delete the table if the heir is gone). A table `pid` gave away is
/// left alone.
pub fn owner_exited(id: u64, pid: u64) -> Option<(u64, Message)> {
    let table = tables().read().unwrap_or_else(|p| p.into_inner()).by_id.get(&id).cloned()?;
    if table.owner() != pid {
        return None;
    }
    let heir = table.heir.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|(h, data)| (*h, data.term()));
    match heir {
        Some((heir, data)) if heir != pid => {
            let transfer = table.transfer_message(pid, data);
            table.set_owner(heir);
            Some((heir, transfer))
        }
        _ => {
            delete(id);
            None
        }
    }
}

/// Bytes held by every table, for `erlang:memory/0`.
pub fn memory_bytes() -> usize {
    let all = tables().read().unwrap_or_else(|p| p.into_inner());
    all.by_id.values().map(|t| 8 * t.words() + std::mem::size_of::<Table>()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::Heap;

    fn small(i: i64) -> Term {
        Term::small(i).unwrap()
    }

    /// The keys as `first/1` and `next/2` visit them.
    fn keys(store: &Store) -> Vec<Term> {
        let mut keys = Vec::new();
        let mut key = store.first(1, true);
        while let Some(k) = key {
            keys.push(k);
            key = store.next(k, 1, true).unwrap();
        }
        keys
    }

    #[test]
    fn retain_removes_in_one_pass_and_shrinks_the_buckets_to_fit() {
        let mut heap = Heap::with_young_words(8_192);
        let table = create(Term::NIL, Options::default(), 1).unwrap();
        let objects: Vec<Term> = (0..1000).map(|k| heap.tuple(&[small(k)])).collect();
        table.insert(&objects, false);
        let words = table.words();
        assert_eq!(table.retain(|o| o.tuple_elements().unwrap()[0].small_value() < 10), 990);
        assert_eq!(table.words(), words / 100, "the words of what went are uncounted");
        let store = table.read();
        let Store::Hashed(buckets) = &*store else { panic!("a set is hashed") };
        // From 1024 buckets at once to the fewest holding 10 objects at a quarter full or more.
        assert_eq!(buckets.slots.len(), 32);
        assert_eq!(keys(&store).len(), 10);
        drop(store);
        assert_eq!(table.retain(|_| false), 10);
        assert!(table.read().is_empty());
        delete(table.id);
    }

    #[test]
    fn hashed_tables_grow_shrink_and_keep_every_object() {
        let mut heap = Heap::with_young_words(16_384);
        let table = create(Term::NIL, Options { kind: Type::DuplicateBag, ..Options::default() }, 1).unwrap();
        let objects: Vec<Term> = (0..1000).flat_map(|k| [0, 1].map(|v| heap.tuple(&[small(k), small(v)]))).collect();
        table.insert(&objects, false);
        assert_eq!(table.read().len(), 2000);
        for k in 0..990 {
            if k % 2 == 0 {
                table.delete_key(small(k));
            } else {
                let one = heap.tuple(&[small(k), small(0)]);
                table.delete_object(one);
                table.delete_key(small(k));
            }
        }
        let store = table.read();
        assert_eq!(store.len(), 20, "the table shrank and kept the rest");
        for k in 990..1000 {
            assert_eq!(store.lookup(small(k), 1).len(), 2);
        }
        assert_eq!(keys(&store).len(), 10, "next/2 visits every key once");
        drop(store);
        delete(table.id);
    }

    #[test]
    fn sets_replace_bags_add_and_ordered_sets_sort() {
        let mut heap = Heap::with_young_words(256);
        let set = create(Term::NIL, Options::default(), 1).unwrap();
        let a = heap.tuple(&[small(1), small(10)]);
        let b = heap.tuple(&[small(1), small(20)]);
        assert_eq!(set.insert(&[a, b], false), Some(6));
        let store = set.read();
        let found = store.lookup(small(1), 1);
        assert_eq!(found.len(), 1);
        assert!(exact_eq(found[0].term(), b));
        drop(store);
        let bag = create(Term::NIL, Options { kind: Type::Bag, ..Options::default() }, 1).unwrap();
        bag.insert(&[a, b, a], false);
        assert_eq!(bag.read().lookup(small(1), 1).len(), 2, "a bag keeps distinct objects once");
        let ordered = create(Term::NIL, Options { kind: Type::OrderedSet, ..Options::default() }, 1).unwrap();
        let objects: Vec<Term> = [5, 1, 3].iter().map(|&k| heap.tuple(&[small(k)])).collect();
        ordered.insert(&objects, false);
        let store = ordered.read();
        assert_eq!(keys(&store).iter().map(|k| k.small_value()).collect::<Vec<_>>(), [1, 3, 5]);
        assert_eq!(store.next(small(3), 1, true), Ok(Some(small(5))));
        assert_eq!(store.next(small(3), 1, false).map(|k| k.map(|k| k.small_value())), Ok(Some(1)));
        assert_eq!(store.first(1, false).map(|k| k.small_value()), Some(5));
        drop(store);
        ordered.delete_key(small(3));
        assert_eq!(ordered.read().len(), 2);
        assert_eq!(ordered.words(), 2 * 2);
        for table in [set, bag, ordered] {
            delete(table.id);
            assert!(by_id(table.id).is_none());
        }
    }
}
