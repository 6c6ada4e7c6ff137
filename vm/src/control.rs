//! The control socket: how a running VM is reached from outside.
//! `vm run --name NAME` listens on a Unix socket, `NAME.sock` in the
//! user's runtime folder (`$XDG_RUNTIME_DIR/vm`, else `/tmp/vm-UID`, made
//! owner-only); `vm load NAME FILE...` sends compiled modules to load, and
//! `vm remote NAME` evaluates shell commands inside the VM.
//!
//! The wire format (`docs/design/code-loading.md`): frames of a 4-byte
//! big-endian length and a payload of at most [`MAX_FRAME`] bytes; fields
//! are a byte, a 4-byte count, or a 4-byte length and that many bytes.
//! Requests: `L` (load: a flags byte, bit 0 "kill processes running old
//! code"; a module count; per module its name, file, source and module
//! file bytes) and `E` (evaluate: the text of one shell form). Answers:
//! `O` (output of the connection's shell processes: text) and `R` (the
//! result: a status byte and text). Everything from the socket is checked
//! before use: modules go through the bytecode verifier, a malformed frame
//! is answered with an error and the connection is closed; nothing a client
//! sends can stop the VM.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::atom;
use crate::code::Source;
use crate::console::Sink;
use crate::purge::Purged;
use crate::repl::session::{Outcome, Session};
use crate::scheduler::Runtime;

/// The largest frame either side accepts (a module file is far smaller).
pub const MAX_FRAME: usize = 64 << 20;

/// Connections served at once; more are refused.
const MAX_CONNECTIONS: usize = 32;

/// Result statuses.
const OK: u8 = 0;
const ERROR: u8 = 1;
/// A shell command the shell refused (it takes no command number).
const REJECTED: u8 = 2;
/// The VM halted.
const HALTED: u8 = 3;

/// The folder of the control sockets, made owner-only if it is new and
/// refused if someone else could use it.
fn socket_folder() -> Result<PathBuf, String> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    let folder = match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("vm"),
        None => std::env::temp_dir().join(format!("vm-{uid}")),
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&folder) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot make {}: {e}", folder.display())),
    }
    let meta = std::fs::symlink_metadata(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    use std::os::unix::fs::MetadataExt;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(format!("{} is not a folder only this user can use", folder.display()));
    }
    Ok(folder)
}

/// The socket of the VM named `name`.
pub fn socket_path(name: &str) -> Result<PathBuf, String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if !valid {
        return Err(format!("{name:?} is not a VM name (letters, digits, '_', '-', '.'; at most 64)"));
    }
    Ok(socket_folder()?.join(format!("{name}.sock")))
}

// ------------------------------------------------------------------ frames

fn read_frame(stream: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match stream.read_exact(&mut length) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let length = u32::from_be_bytes(length) as usize;
    if length > MAX_FRAME {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("a frame of {length} bytes")));
    }
    let mut payload = vec![0; length];
    stream.read_exact(&mut payload)?;
    Ok(Some(payload))
}

fn write_frame(stream: &mut impl Write, payload: &[u8]) -> std::io::Result<()> {
    let length = u32::try_from(payload.len()).map_err(|_| std::io::ErrorKind::InvalidInput)?;
    let mut frame = Vec::with_capacity(4 + payload.len());
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)?;
    stream.flush()
}

/// Builds a payload.
#[derive(Debug, Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn byte(mut self, b: u8) -> Writer {
        self.0.push(b);
        self
    }

    fn count(mut self, n: usize) -> Writer {
        self.0.extend_from_slice(&(n as u32).to_be_bytes());
        self
    }

    fn bytes(self, bytes: &[u8]) -> Writer {
        let mut w = self.count(bytes.len());
        w.0.extend_from_slice(bytes);
        w
    }
}

/// Reads a payload; every read checks that the bytes are there.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn count(&mut self) -> Option<usize> {
        let bytes = self.0.get(..4)?;
        self.0 = &self.0[4..];
        Some(u32::from_be_bytes(bytes.try_into().ok()?) as usize)
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = self.count()?;
        let bytes = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(bytes)
    }

    fn text(&mut self) -> Option<&'a str> {
        std::str::from_utf8(self.bytes()?).ok()
    }

    fn is_done(&self) -> bool {
        self.0.is_empty()
    }
}

fn result_payload(status: u8, text: &str) -> Vec<u8> {
    Writer::default().byte(b'R').byte(status).bytes(text.as_bytes()).0
}

// ------------------------------------------------------------------ server

/// The listening socket of a named VM; the socket file goes with it.
#[derive(Debug)]
pub struct Control {
    path: PathBuf,
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Control {
    /// Listens as `name`: refused if a live VM has the name (a socket left
    /// by a VM that died is replaced).
    pub fn listen(runtime: &'static Runtime, name: &str) -> Result<Control, String> {
        let path = socket_path(name)?;
        if path.exists() {
            if UnixStream::connect(&path).is_ok() {
                return Err(format!("a VM named {name} is already running ({})", path.display()));
            }
            std::fs::remove_file(&path).map_err(|e| format!("cannot remove the stale {}: {e}", path.display()))?;
        }
        let listener = UnixListener::bind(&path).map_err(|e| format!("cannot listen on {}: {e}", path.display()))?;
        let control = Control { path: path.clone() };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::thread::Builder::new()
            .name("control".to_owned())
            .spawn(move || accept(runtime, listener))
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        Ok(control)
    }
}

fn accept(runtime: &'static Runtime, listener: UnixListener) {
    static OPEN: AtomicUsize = AtomicUsize::new(0);
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        if OPEN.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            OPEN.fetch_sub(1, Ordering::SeqCst);
            let _ = write_frame(&mut stream, &result_payload(ERROR, "too many connections\n"));
            continue;
        }
        let spawned = std::thread::Builder::new().name("control-connection".to_owned()).spawn(move || {
            serve(runtime, stream);
            OPEN.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            OPEN.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Where a connection's shell processes write: `O` frames on its socket.
#[derive(Debug)]
struct SocketSink(Mutex<UnixStream>);

impl crate::console::Output for SocketSink {
    fn write(&self, bytes: &[u8]) {
        let payload = Writer::default().byte(b'O').bytes(bytes).0;
        let mut stream = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = write_frame(&mut *stream, &payload);
    }
}

/// Serves one connection until it closes or sends something malformed.
fn serve(runtime: &'static Runtime, stream: UnixStream) {
    let Ok(writer) = stream.try_clone() else { return };
    // A client that stops reading cannot hold a scheduler for long.
    let _ = writer.set_write_timeout(Some(std::time::Duration::from_secs(10)));
    let writer = Arc::new(SocketSink(Mutex::new(writer)));
    let mut reader = stream;
    let mut shell: Option<Session> = None;
    loop {
        let frame = match read_frame(&mut reader) {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(why) => {
                let payload = result_payload(ERROR, &format!("malformed request: {why}\n"));
                let _ = write_frame(&mut *writer.0.lock().unwrap_or_else(PoisonError::into_inner), &payload);
                break;
            }
        };
        let answer = request(runtime, &frame, &mut shell, &writer);
        let (status, text) = answer.clone().unwrap_or((ERROR, "malformed request\n".to_owned()));
        let payload = result_payload(status, &text);
        // A malformed request is answered, then the connection closed.
        if write_frame(&mut *writer.0.lock().unwrap_or_else(PoisonError::into_inner), &payload).is_err()
            || answer.is_none()
        {
            break;
        }
    }
    if let Some(shell) = shell {
        shell.stop();
    }
}

/// Handles one request; `None` if it is malformed.
fn request(
    runtime: &'static Runtime,
    frame: &[u8],
    shell: &mut Option<Session>,
    sink: &Arc<SocketSink>,
) -> Option<(u8, String)> {
    let mut r = Reader(frame);
    match r.byte()? {
        b'L' => {
            let kill = r.byte()? & 1 == 1;
            let count = r.count()?;
            let mut uploads = Vec::new();
            for _ in 0..count {
                let (name, file, source, code) = (r.text()?, r.text()?, r.text()?, r.bytes()?);
                match checked(name, file, code) {
                    Ok(module) => uploads.push(Upload {
                        name: name.to_owned(),
                        file: file.to_owned(),
                        source: source.to_owned(),
                        module,
                    }),
                    // Nothing is loaded if one module is bad.
                    Err(why) => return Some((ERROR, why)),
                }
            }
            if !r.is_done() {
                return None;
            }
            let (ok, text) = load(runtime, uploads, kill);
            Some((if ok { OK } else { ERROR }, text))
        }
        b'E' => {
            let text = r.text()?;
            if !r.is_done() {
                return None;
            }
            if shell.is_none() {
                let output: Arc<dyn crate::console::Output> = sink.clone();
                match Session::attach(runtime, Some(Sink::new(output))) {
                    Ok(session) => *shell = Some(session),
                    Err(why) => return Some((ERROR, format!("{why}\n"))),
                }
            }
            let session = shell.as_mut()?;
            Some(match session.eval(text, false) {
                Outcome::Value(text) => (OK, text),
                Outcome::Error(text) => (ERROR, text),
                Outcome::Rejected(text) => (REJECTED, text),
                Outcome::Halted(status) => (HALTED, format!("{status}")),
            })
        }
        _ => None,
    }
}

/// A module to load, verified (from the socket) or just compiled (`--watch`).
#[derive(Debug)]
pub struct Upload {
    pub name: String,
    pub file: String,
    pub source: String,
    pub module: compiler::bytecode::Module,
}

/// A module file from the socket, decoded and verified, which must hold
/// module `name`; the error to answer otherwise.
fn checked(name: &str, file: &str, code: &[u8]) -> Result<compiler::bytecode::Module, String> {
    let module = compiler::bytecode::format::decode(code)
        .map_err(|why| format!("{why}"))
        .and_then(|m| compiler::bytecode::verify::verify(&m).map(|()| m).map_err(|why| format!("{why}")))
        .map_err(|why| format!("{file}: not a valid module: {why}\n"))?;
    if module.atom(module.name) != name {
        return Err(format!("{file}: holds module {}, not {name}\n", module.atom(module.name)));
    }
    Ok(module)
}

/// Loads modules into the running VM: the old version of each is purged
/// first (`kill`: killing the processes that run it; otherwise refused
/// while any does), then each is published, on the code server thread, so
/// that this load and the VM's own purges and loads are serialized.
/// Whether all loaded, and what to tell the user.
pub fn load(runtime: &'static Runtime, uploads: Vec<Upload>, kill: bool) -> (bool, String) {
    crate::purge::on_code_server(move || load_now(runtime, uploads, kill))
        .unwrap_or_else(|| (false, "the VM's code server is not running\n".to_owned()))
}

fn load_now(runtime: &Runtime, uploads: Vec<Upload>, kill: bool) -> (bool, String) {
    let mut checked = Vec::new();
    for upload in uploads {
        let Ok(name) = atom::intern(&upload.name) else {
            return (false, format!("{}: bad module name\n", upload.file));
        };
        checked.push((name, upload));
    }
    let mut text = String::new();
    for (name, upload) in &checked {
        match crate::purge::purge(runtime, *name, !kill, 0) {
            Purged::NothingOld => {}
            Purged::Done { killed } if !killed.is_empty() => {
                text += &format!(
                    "{}: killed {} running its old code: {}\n",
                    upload.name,
                    plural(killed.len()),
                    pids(&killed)
                );
            }
            Purged::Done { .. } => {}
            Purged::InUse { users } => {
                text += &format!(
                    "{}: not loaded: its old version is still run by {} (`vm load --purge` kills them)\n",
                    upload.name,
                    pids(&users)
                );
                return (false, text);
            }
        }
    }
    for (name, upload) in checked {
        match runtime.code.load(upload.module) {
            Ok(_) => {
                let source = Source { file_name: upload.file.clone(), text: upload.source };
                runtime.code.add_source(&upload.name, source);
                text += &format!("loaded {} from {}\n", atom::name(name).unwrap_or_default(), upload.file);
            }
            Err(why) => {
                text += &format!("{}: not loaded: {why}\n", upload.name);
                return (false, text);
            }
        }
    }
    (true, text)
}

fn plural(n: usize) -> String {
    if n == 1 {
        "1 process".to_owned()
    } else {
        format!("{n} processes")
    }
}

fn pids(pids: &[u64]) -> String {
    let shown: Vec<String> = pids.iter().take(10).map(|&p| format!("<0.{p}.0>")).collect();
    let more = if pids.len() > 10 { format!(" and {} more", pids.len() - 10) } else { String::new() };
    format!("{}{more}", shown.join(", "))
}

// ------------------------------------------------------------------ clients

fn connect(name: &str) -> Result<UnixStream, String> {
    let path = socket_path(name)?;
    UnixStream::connect(&path).map_err(|e| format!("no VM named {name} is running ({}: {e})", path.display()))
}

/// Reads answers until a result: output is printed as it comes.
fn result(stream: &mut UnixStream, output: &mut dyn FnMut(&[u8])) -> Result<(u8, String), String> {
    loop {
        let frame =
            read_frame(stream).map_err(|e| format!("the VM sent {e}"))?.ok_or("the VM closed the connection")?;
        let mut r = Reader(&frame);
        match r.byte() {
            Some(b'O') => output(r.bytes().ok_or("the VM sent a malformed frame")?),
            Some(b'R') => {
                let status = r.byte().ok_or("the VM sent a malformed frame")?;
                return Ok((status, r.text().ok_or("the VM sent a malformed frame")?.to_owned()));
            }
            _ => return Err("the VM sent a malformed frame".to_owned()),
        }
    }
}

/// Compiles `file`: its module's name, and the module file's bytes; the
/// compiler's messages go to stderr.
fn compile(file: &Path, color: bool) -> Result<(String, String, Vec<u8>), ()> {
    let file_name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| eprintln!("{file_name}: cannot read: {e}"))?;
    let name =
        file.file_stem().and_then(|s| s.to_str()).ok_or_else(|| eprintln!("{file_name}: not a module file name"))?;
    let options = compiler::Options { expected_module: Some(name.to_owned()) };
    let (module, diagnostics) = compiler::compile_with_stack(&text, &file_name, &options);
    if !diagnostics.is_empty() {
        eprint!("{}", compiler::diagnostic::render(&file_name, &text, &diagnostics, color));
    }
    let module = module.ok_or(())?;
    Ok((name.to_owned(), text, compiler::bytecode::format::encode(&module)))
}

/// `vm load NAME FILE...`: the exit status.
pub fn load_files(name: &str, files: &[PathBuf], kill: bool, color: bool) -> i32 {
    let mut payload = Writer::default().byte(b'L').byte(u8::from(kill)).count(files.len());
    for file in files {
        let Ok((module, text, code)) = compile(file, color) else { return 1 };
        // The VM reads the file again for `l/1` and `--watch`: a full path.
        let path = std::fs::canonicalize(file).unwrap_or_else(|_| file.clone());
        payload = payload.bytes(module.as_bytes()).bytes(path.display().to_string().as_bytes());
        payload = payload.bytes(text.as_bytes()).bytes(&code);
    }
    let outcome = connect(name).and_then(|mut stream| {
        write_frame(&mut stream, &payload.0).map_err(|e| format!("cannot send: {e}"))?;
        result(&mut stream, &mut |bytes| {
            let _ = std::io::stdout().write_all(bytes);
        })
    });
    match outcome {
        Ok((OK, text)) => {
            print!("{text}");
            0
        }
        Ok((_, text)) => {
            eprint!("{text}");
            1
        }
        Err(why) => {
            eprintln!("vm load: {why}");
            1
        }
    }
}

/// A connection to a VM's shell, for `vm remote`.
#[derive(Debug)]
pub struct Remote {
    stream: UnixStream,
}

impl Remote {
    pub fn connect(name: &str) -> Result<Remote, String> {
        Ok(Remote { stream: connect(name)? })
    }

    /// Evaluates one form in the VM; what its processes print goes to
    /// `output` as it comes.
    pub fn eval(&mut self, form: &str, output: &mut dyn FnMut(&[u8])) -> Result<Outcome, String> {
        let payload = Writer::default().byte(b'E').bytes(form.as_bytes()).0;
        write_frame(&mut self.stream, &payload).map_err(|e| format!("cannot send: {e}"))?;
        let (status, text) = result(&mut self.stream, output)?;
        Ok(match status {
            OK => Outcome::Value(text),
            REJECTED => Outcome::Rejected(text),
            HALTED => Outcome::Halted(text.trim().parse().unwrap_or(0)),
            _ => Outcome::Error(text),
        })
    }
}
