//! The REPL's side of the shell: starts the VM with the shell server
//! (`stdlib/shell.actor`) as a process, compiles each form the user enters
//! (`compiler::shell`), loads it as a module of its own, asks the server to
//! run it, and waits for the outcome, which the server hands back through
//! the native `shell:reply/1` already formatted as erl's shell prints it.
//!
//! The REPL's thread is not a process: it talks to the server by putting
//! messages into its mailbox (built on a scratch heap and copied, as any
//! message), and hears back over a channel. A watcher thread turns the end
//! of the VM (`halt/0,1`, `q()`) into an event on that channel too.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};

use crate::atom::{self, atoms};
use crate::code::CodeServer;
use crate::copy::Message;
use crate::exception::Stop;
use crate::heap::Heap;
use crate::mailbox::Signal;
use crate::process::{Process, Resume};
use crate::scheduler::Runtime;
use crate::term::Term;

/// What the REPL hears back.
#[derive(Debug)]
enum Event {
    /// The outcome of a command: its value printed, or the exception as the shell shows it.
    Reply(Outcome),
    /// The VM ended with this status.
    Halted(i32),
}

/// The outcome of one form, as text ending with a newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Value(String),
    Error(String),
    /// A command the shell refused (`v(N)` of an unknown command): as
    /// in erl, it does not take a command number.
    Rejected(String),
    /// The VM halted (`q()`, `halt/1`) with this status.
    Halted(i32),
}

/// Where each shell server's outcomes go, by the server's pid: the REPL's
/// own, and those of remote shells (`control.rs`).
static EVENTS: Mutex<Option<HashMap<u64, Sender<Event>>>> = Mutex::new(None);

/// Numbers the modules commands are compiled into, across every shell of
/// the VM (a remote shell's commands are loaded beside the local one's).
static MODULES: AtomicU32 = AtomicU32::new(0);

fn routes() -> std::sync::MutexGuard<'static, Option<HashMap<u64, Sender<Event>>>> {
    EVENTS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The column width results are pretty-printed to (the terminal's).
static WIDTH: AtomicUsize = AtomicUsize::new(80);

/// How deep results are printed (erl's shell: 30).
const DEPTH: i64 = 30;

/// The most characters of a result on one line (erl's shell: 60).
const LINE_MAX_CHARS: usize = 60;

/// A running VM with its shell.
#[derive(Debug)]
pub struct Session {
    runtime: &'static Runtime,
    server: u64,
    events: Receiver<Event>,
    /// The variables bound at the prompt, as the server holds them.
    bound: Vec<String>,
    /// The number of the next command (erl's prompt `N>`).
    command: u32,
    halted: Option<i32>,
}

impl Session {
    /// Starts the VM with `schedulers` threads, its modules found in the
    /// current folder and the standard library.
    pub fn start(schedulers: usize) -> Result<Session, String> {
        let code = CodeServer::new();
        crate::stdlib::register(&code);
        crate::runner::add_folder(&code, std::path::Path::new("."), None);
        let runtime = Runtime::start(code, schedulers).map_err(|e| format!("cannot start the schedulers: {e}"))?;
        let session = Session::attach(runtime, None)?;
        let sender = routes().as_ref().and_then(|e| e.get(&session.server).cloned());
        std::thread::Builder::new()
            .name("halt-watcher".to_owned())
            .spawn(move || {
                let status = runtime.wait();
                if let Some(sender) = sender {
                    let _ = sender.send(Event::Halted(status));
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(session)
    }

    /// A shell of its own in a running VM (`vm remote`): its processes'
    /// output goes to `output` when given.
    pub fn attach(runtime: &'static Runtime, output: Option<Arc<crate::console::Sink>>) -> Result<Session, String> {
        let (sender, events) = mpsc::channel();
        let (shell, start) = (atom_of("shell"), atom_of("start"));
        let mut process = Process::new(runtime.new_pid());
        process.resume = Some(Resume::Start { module: shell, function: start });
        process.output = output;
        // Registered before the server can answer.
        routes().get_or_insert_with(HashMap::new).insert(process.pid, sender);
        let place = runtime.reserve_process().ok_or("no room in the process table for the shell")?;
        let server = runtime.spawn(place, process);
        Ok(Session { runtime, server, events, bound: Vec::new(), command: 1, halted: None })
    }

    /// Ends this shell: its server and evaluator (a remote shell whose
    /// connection closed).
    pub fn stop(self) {
        self.send(&[atom_of("stop")]);
        if let Some(routes) = routes().as_mut() {
            routes.remove(&self.server);
        }
    }

    /// The number the next command gets.
    pub fn command(&self) -> u32 {
        self.command
    }

    /// The variables bound at the prompt, in the order they were bound.
    pub fn bound(&self) -> &[String] {
        &self.bound
    }

    pub fn code(&self) -> &'static CodeServer {
        &self.runtime.code
    }

    /// Sets the width results are printed to.
    pub fn set_width(&self, columns: usize) {
        WIDTH.store(columns.clamp(20, 1000), Ordering::Relaxed);
    }

    /// Evaluates the first form of `text` (which ends with its `.`).
    /// `color` is for compile errors.
    pub fn eval(&mut self, text: &str, color: bool) -> Outcome {
        if let Some(status) = self.halted {
            return Outcome::Halted(status);
        }
        let mut name = || format!("{}{}", compiler::shell::MODULE_PREFIX, MODULES.fetch_add(1, Ordering::Relaxed) + 1);
        let steps = match compiler::shell::compile(text, &self.bound, &mut name) {
            Ok(steps) => steps,
            Err(errors) => return Outcome::Error(compiler::diagnostic::render("shell", text, &errors, color)),
        };
        let number = self.command;
        self.command += 1;
        let mut outcome = Outcome::Value("ok\n".to_owned());
        for step in steps {
            outcome = match step {
                compiler::shell::Step::Eval { module, binds } => {
                    let name = module.atom(module.name).to_owned();
                    if let Err(error) = self.runtime.code.load(*module) {
                        return Outcome::Error(format!("* cannot load the command: {error:?}\n"));
                    }
                    let number = Term::small(i64::from(number)).unwrap_or(Term::NIL);
                    self.send(&[atom_of("eval"), atom_of(&name), number]);
                    let outcome = self.wait();
                    if matches!(outcome, Outcome::Value(_)) {
                        for bind in binds {
                            if !self.bound.contains(&bind) {
                                self.bound.push(bind);
                            }
                        }
                    }
                    outcome
                }
                compiler::shell::Step::ForgetAll => {
                    self.bound.clear();
                    self.send(&[atom_of("forget"), atom_of("all")]);
                    self.wait()
                }
                compiler::shell::Step::Forget(name) => {
                    self.bound.retain(|b| *b != name);
                    self.send(&[atom_of("forget"), atom_of(&name)]);
                    self.wait()
                }
            };
            if !matches!(outcome, Outcome::Value(_)) {
                break;
            }
        }
        if matches!(outcome, Outcome::Rejected(_)) {
            self.command -= 1;
        }
        outcome
    }

    /// What stops the running command: asks the server to kill the
    /// evaluator (ignored when no command runs). Callable from any thread.
    pub fn interrupter(&self) -> impl Fn() + Send + 'static {
        let (runtime, server) = (self.runtime, self.server);
        move || {
            let _ = runtime.signal(server, Signal::Message(Message::new(atom_of("interrupt"))));
        }
    }

    /// Sends the tuple of `elements` (immediates) to the server.
    fn send(&self, elements: &[Term]) {
        let mut heap = Heap::with_young_words(elements.len() + 1);
        let tuple = heap.tuple(elements);
        let _ = self.runtime.signal(self.server, Signal::Message(Message::new(tuple)));
    }

    fn wait(&mut self) -> Outcome {
        match self.events.recv() {
            Ok(Event::Reply(outcome)) => outcome,
            Ok(Event::Halted(status)) => {
                self.halted = Some(status);
                Outcome::Halted(status)
            }
            // The watcher holds a sender until the VM ends, and it says so first.
            Err(_) => Outcome::Halted(1),
        }
    }
}

fn atom_of(name: &str) -> Term {
    atom::intern(name).unwrap_or(atoms::UNDEFINED)
}

/// Whether frames of `module` are the shell's own, left out of stack traces.
fn is_shell_code(module: Term) -> bool {
    atom::name(module).is_some_and(|name| name == "shell" || compiler::shell::is_evaluation_module(name))
}

/// The text of `{value, V}` or `{raised, Class, Reason, Stack}`.
fn outcome_of(term: Term) -> Option<Outcome> {
    match *term.tuple_elements()? {
        [tag, value] if tag == atom_of("value") => Some(Outcome::Value(format!(
            "{}\n",
            crate::pretty::pretty_with(value, 1, WIDTH.load(Ordering::Relaxed), DEPTH, Some(LINE_MAX_CHARS))
        ))),
        [tag, class, reason, stack] if tag == atom_of("raised") => {
            if let Some(&[what, n]) = reason.tuple_elements() {
                if what == atom_of("shell_command_not_found") {
                    return Some(Outcome::Rejected(format!("* {}: command not found\n", crate::print::print(n))));
                }
            }
            Some(Outcome::Error(crate::runner::describe_caught(class, reason, stack, &is_shell_code)))
        }
        _ => None,
    }
}

/// `shell:reply/1`: the outcome of the command the REPL (or a remote
/// shell) waits for; called by the shell's server.
pub(crate) fn reply(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let outcome = outcome_of(a[0]).ok_or_else(|| Stop::Raise(crate::exception::Exception::error(atoms::BADARG)))?;
    if let Some(events) = routes().as_ref().and_then(|e| e.get(&p.pid)) {
        let _ = events.send(Event::Reply(outcome));
    }
    Ok(atoms::OK)
}

/// `shell:notify/1`: an outcome nobody waits for (the evaluator killed
/// between commands), shown at once.
pub(crate) fn notify(p: &mut Process, a: &mut [Term]) -> Result<Term, Stop> {
    let outcome = outcome_of(a[0]).ok_or_else(|| Stop::Raise(crate::exception::Exception::error(atoms::BADARG)))?;
    if let Outcome::Value(text) | Outcome::Error(text) | Outcome::Rejected(text) = outcome {
        crate::console::write_for(p.output.as_deref(), crate::console::Stream::Out, text.as_bytes());
    }
    Ok(atoms::OK)
}
