//! `vm repl` (and `vm` alone): an erl-style shell. With a terminal it reads
//! with rustyline (history kept across sessions, multi-line input up to the
//! `.` that ends an expression, colours, bracket matching and Tab
//! completion from [`editor`]); output of other processes appears above
//! the prompt through the external printer (see `crate::console`). With
//! standard input from a pipe or file, it reads expressions from it and
//! prints each result, with no prompt, so that it can be scripted.
//!
//! Evaluation happens in the VM, in processes ([`session`]).

pub mod editor;
mod interrupt;
pub mod session;

use std::io::{BufRead, IsTerminal, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use rustyline::error::ReadlineError;
use rustyline::history::{FileHistory, History as _};
use rustyline::{Config, Editor};

use crate::code::CodeServer;
use crate::natives::NativeFn;
use session::{Outcome, Session};

/// What the line reader talks to: the VM's own shell, or a shell in another
/// VM over its control socket (`vm remote`).
trait Shell {
    /// Evaluates one form; `color` is for compile errors.
    fn eval(&mut self, form: &str, color: bool) -> Outcome;
    /// The number of the next command.
    fn command(&self) -> u32;
    /// The variables bound so far (for completion).
    fn bound(&self) -> Vec<String>;
    /// The terminal's width, for printing results.
    fn set_width(&self, columns: usize);
    /// The modules known (for completion).
    fn code(&self) -> &'static CodeServer;
}

impl Shell for Session {
    fn eval(&mut self, form: &str, color: bool) -> Outcome {
        Session::eval(self, form, color)
    }

    fn command(&self) -> u32 {
        Session::command(self)
    }

    fn bound(&self) -> Vec<String> {
        Session::bound(self).to_vec()
    }

    fn set_width(&self, columns: usize) {
        Session::set_width(self, columns);
    }

    fn code(&self) -> &'static CodeServer {
        Session::code(self)
    }
}

/// A shell inside a running VM, reached through its control socket.
struct RemoteShell {
    remote: crate::control::Remote,
    command: u32,
    /// The standard library, for completion (the remote VM's own modules
    /// are not known here).
    code: &'static CodeServer,
}

impl Shell for RemoteShell {
    fn eval(&mut self, form: &str, _color: bool) -> Outcome {
        let outcome = self
            .remote
            .eval(form, &mut |bytes| crate::console::write(crate::console::Stream::Out, bytes))
            .unwrap_or_else(|why| Outcome::Error(format!("* {why}\n")));
        if matches!(outcome, Outcome::Value(_) | Outcome::Error(_)) {
            self.command += 1;
        }
        outcome
    }

    fn command(&self) -> u32 {
        self.command
    }

    fn bound(&self) -> Vec<String> {
        Vec::new()
    }

    fn set_width(&self, _columns: usize) {}

    fn code(&self) -> &'static CodeServer {
        self.code
    }
}

/// `vm remote NAME`: a shell evaluating in the VM started with
/// `vm run --name NAME`; the exit status. Leaving (Ctrl-D, end of input)
/// leaves the VM running; `q()` stops it, as in erl's remote shell.
pub fn remote(name: &str) -> i32 {
    let remote = match crate::control::Remote::connect(name) {
        Ok(remote) => remote,
        Err(why) => {
            eprintln!("vm remote: {why}");
            return 1;
        }
    };
    let code: &'static CodeServer = Box::leak(Box::new(CodeServer::new()));
    crate::stdlib::register(code);
    let mut shell = RemoteShell { remote, command: 1, code };
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        println!("connected to the VM named {name}");
        interactive(&mut shell)
    } else {
        piped(&mut shell)
    }
}

/// The natives of module `shell` that the shell server calls.
pub fn lookup_shell(function: &str, arity: u32) -> Option<NativeFn> {
    match (function, arity) {
        ("reply", 1) => Some(session::reply),
        ("notify", 1) => Some(session::notify),
        _ => None,
    }
}

/// Runs the shell until its input ends or the VM halts; the exit status.
pub fn run(schedulers: usize) -> i32 {
    let terminal = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
    // On a terminal Ctrl-C stops the running command, not the VM; the
    // signal is blocked before the VM's threads start, so they inherit that.
    let interruptible = terminal && interrupt::block();
    let mut session = match Session::start(schedulers) {
        Ok(session) => session,
        Err(why) => {
            eprintln!("vm: {why}");
            return 1;
        }
    };
    if interruptible {
        if let Err(why) = interrupt::watch(session.interrupter()) {
            eprintln!("vm: cannot start a thread: {why}");
            return 1;
        }
    }
    if terminal {
        interactive(&mut session)
    } else {
        piped(&mut session)
    }
}

/// Prints an outcome; the exit status if the VM halted.
fn show(outcome: Outcome) -> Option<i32> {
    match outcome {
        Outcome::Value(text) | Outcome::Error(text) | Outcome::Rejected(text) => {
            crate::console::write(crate::console::Stream::Out, text.as_bytes());
            None
        }
        Outcome::Halted(status) => Some(status),
    }
}

/// Evaluates every form of `input`, in order; the exit status if the VM halted.
fn eval_all(session: &mut dyn Shell, input: &str, color: bool) -> Option<i32> {
    for form in compiler::shell::forms(input) {
        if let Some(status) = show(session.eval(&input[form], color)) {
            return Some(status);
        }
    }
    None
}

fn piped(session: &mut dyn Shell) -> i32 {
    let mut input = String::new();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        input.push_str(&line);
        input.push('\n');
        if compiler::shell::is_complete(&input) {
            if let Some(status) = eval_all(session, &input, false) {
                return status;
            }
            input.clear();
        }
    }
    // What is left never ended with a `.`: say so, as the compiler would.
    let (tokens, _) = compiler::lexer::lex(&input);
    if !tokens.is_empty() {
        show(session.eval(&input, false));
    }
    let _ = std::io::stdout().flush();
    0
}

/// Where the history is kept: `$XDG_DATA_HOME/vm/history`, or
/// `~/.local/share/vm/history`.
fn history_file() -> Option<PathBuf> {
    let data = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")))?;
    Some(data.join("vm").join("history"))
}

struct Printer<P>(P);

impl<P: rustyline::ExternalPrinter + Send> crate::console::Printer for Printer<P> {
    fn print(&mut self, text: String) {
        let _ = self.0.print(text);
    }
}

fn interactive(session: &mut dyn Shell) -> i32 {
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(10_000)
        .and_then(|builder| builder.history_ignore_dups(true))
        .map(|builder| builder.build())
        .unwrap_or_default();
    let mut editor: Editor<editor::ShellHelper, FileHistory> = match Editor::with_config(config) {
        Ok(editor) => editor,
        Err(why) => {
            eprintln!("vm: cannot use the terminal: {why}");
            return 1;
        }
    };
    let color = std::env::var_os("NO_COLOR").is_none();
    let bound = Arc::new(Mutex::new(Vec::new()));
    editor.set_helper(Some(editor::ShellHelper::new(session.code(), bound.clone(), color)));
    let history = history_file();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    if let Ok(printer) = editor.create_external_printer() {
        crate::console::install(Box::new(Printer(printer)));
    }
    println!("vm {} shell (leave with q(). or Ctrl-D; help(). lists the commands)", env!("CARGO_PKG_VERSION"));
    let status = loop {
        if let Some((columns, _)) = editor.dimensions() {
            session.set_width(usize::from(columns));
        }
        crate::console::set_reading(true);
        let line = editor.readline(&format!("{}> ", session.command()));
        crate::console::set_reading(false);
        match line {
            Ok(input) => {
                if input.trim().is_empty() {
                    continue;
                }
                let _ = editor.history_mut().add(input.trim_end());
                if let Some(status) = eval_all(session, &input, color) {
                    break status;
                }
                *bound.lock().unwrap_or_else(PoisonError::into_inner) = session.bound();
            }
            // Ctrl-C drops the line being typed.
            Err(ReadlineError::Interrupted) => continue,
            // Ctrl-D on an empty line leaves.
            Err(ReadlineError::Eof) => break 0,
            Err(why) => {
                eprintln!("vm: cannot read the terminal: {why}");
                break 1;
            }
        }
    };
    if let Some(path) = &history {
        if let Some(folder) = path.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        let _ = editor.save_history(path);
    }
    status
}
