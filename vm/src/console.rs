//! Where the VM's output goes: standard output and standard error, except
//! while the REPL's line editor is reading a line, when whole lines go to
//! its printer (rustyline's external printer), which shows them above the
//! prompt and redraws the line being typed. `io:format` and the error
//! reports of crashed processes write through here.

use std::io::Write as _;
use std::sync::{Mutex, PoisonError};

/// A place to show text while the line editor reads.
pub trait Printer: Send {
    fn print(&mut self, text: String);
}

/// The two output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Out,
    Err,
}

struct State {
    printer: Option<Box<dyn Printer>>,
    reading: bool,
    /// Output since the last newline, held while reading: the printer shows lines.
    partial: Vec<u8>,
}

static STATE: Mutex<State> = Mutex::new(State { printer: None, reading: false, partial: Vec::new() });

/// Writes `bytes` to `stream`, or hands them to the printer while a line is read.
pub fn write(stream: Stream, bytes: &[u8]) {
    let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
    if state.reading && state.printer.is_some() {
        state.partial.extend_from_slice(bytes);
        if let Some(end) = state.partial.iter().rposition(|&b| b == b'\n') {
            let rest = state.partial.split_off(end + 1);
            let lines = std::mem::replace(&mut state.partial, rest);
            // The printer ends the text with a newline of its own.
            let text = String::from_utf8_lossy(&lines[..lines.len() - 1]).into_owned();
            if let Some(printer) = state.printer.as_mut() {
                printer.print(text);
            }
        }
        return;
    }
    drop(state);
    // A closed stream (a pipe whose reader left) is not the program's error.
    let _ = match stream {
        Stream::Out => std::io::stdout().lock().write_all(bytes),
        Stream::Err => {
            let _ = std::io::stdout().flush();
            std::io::stderr().lock().write_all(bytes)
        }
    };
}

/// Makes `printer` the place for output while a line is read.
pub fn install(printer: Box<dyn Printer>) {
    STATE.lock().unwrap_or_else(PoisonError::into_inner).printer = Some(printer);
}

/// Says whether the line editor is reading now. When it stops, output held
/// for want of a newline is written out.
pub fn set_reading(reading: bool) {
    let mut state = STATE.lock().unwrap_or_else(PoisonError::into_inner);
    state.reading = reading;
    if !reading && !state.partial.is_empty() {
        let partial = std::mem::take(&mut state.partial);
        drop(state);
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&partial);
        let _ = out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct Lines(Arc<Mutex<Vec<String>>>);

    impl Printer for Lines {
        fn print(&mut self, text: String) {
            self.0.lock().unwrap().push(text);
        }
    }

    #[test]
    fn while_reading_whole_lines_go_to_the_printer() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        install(Box::new(Lines(seen.clone())));
        set_reading(true);
        write(Stream::Out, b"one\ntw");
        write(Stream::Err, b"o\nthree\nfo");
        assert_eq!(*seen.lock().unwrap(), ["one", "two\nthree"]);
        set_reading(false);
        assert!(STATE.lock().unwrap().partial.is_empty(), "the unfinished line is written when reading stops");
        STATE.lock().unwrap().printer = None;
    }
}

/// Somewhere other than the VM's own streams that output can go.
pub trait Output: Send + Sync + std::fmt::Debug {
    fn write(&self, bytes: &[u8]);
}

/// Where a process's output goes instead of the VM's standard output (the
/// connection of a remote shell, `control.rs`): erl's group leader. A
/// process inherits its parent's; both of the process's streams go there.
#[derive(Debug)]
pub struct Sink(std::sync::Arc<dyn Output>);

impl Sink {
    pub fn new(output: std::sync::Arc<dyn Output>) -> std::sync::Arc<Sink> {
        std::sync::Arc::new(Sink(output))
    }
}

/// Writes a process's output: to its sink if it has one.
pub fn write_for(sink: Option<&Sink>, stream: Stream, bytes: &[u8]) {
    match sink {
        Some(sink) => sink.0.write(bytes),
        None => write(stream, bytes),
    }
}
