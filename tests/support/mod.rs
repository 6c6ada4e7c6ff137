//! Helpers shared by the end-to-end tests: where things are, checking a file
//! exactly as `vm check` does, and asking `erlc` (the reference) for its verdict.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use compiler::diagnostic::{render, Severity};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("vm/ has a parent").to_path_buf()
}

/// The `.actor` files directly in `dir`, sorted.
pub fn actor_files(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "actor"))
        .collect();
    files.sort();
    files
}

pub struct Checked {
    pub source: String,
    pub diagnostics: Vec<compiler::diagnostic::Diagnostic>,
    /// The diagnostics as `vm check` prints them when piped (no colour).
    pub rendered: String,
    /// The syntax tree, printed with `{:#?}`.
    pub ast: String,
}

impl Checked {
    /// `(line, is_warning)` of each diagnostic, 1-based lines.
    pub fn lines(&self) -> Vec<(usize, bool)> {
        let mut lines: Vec<(usize, bool)> = self
            .diagnostics
            .iter()
            .map(|d| (line_of(&self.source, d.span.start as usize), d.severity == Severity::Warning))
            .collect();
        lines.sort();
        lines.dedup();
        lines
    }
}

pub fn line_of(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())].matches('\n').count() + 1
}

/// Checks a file as `vm check` does: the module must be named after the file.
pub fn check_file(path: &Path) -> Checked {
    let source = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
    let options = compiler::Options { expected_module: path.file_stem().map(|s| s.to_string_lossy().into_owned()) };
    let (diagnostics, rendered, ast) = compiler::check_with_stack(&source, &name, &options, |compiled| {
        let rendered = render(&name, &source, &compiled.diagnostics, false);
        (compiled.diagnostics.clone(), rendered, format!("{:#?}", compiled.module))
    });
    Checked { source, diagnostics, rendered, ast }
}

/// What `erlc` said about a file.
#[derive(Debug)]
pub struct Erlc {
    pub succeeded: bool,
    /// `(line, is_warning)` of each diagnostic.
    pub lines: Vec<(usize, bool)>,
    pub output: String,
}

/// Compiles a copy of `path` as a `.erl` file with `erlc`. Panics when erlc is
/// missing: the tests that need it must not pass without it.
pub fn erlc(path: &Path) -> Erlc {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "vm-tests-erlc-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create a temporary folder");
    let stem = path.file_stem().expect("a file stem").to_string_lossy().into_owned();
    let erl = dir.join(format!("{stem}.erl"));
    std::fs::copy(path, &erl).expect("copy the source");
    let output = Command::new("erlc").arg("-o").arg(&dir).arg(&erl).current_dir(&dir).output().unwrap_or_else(|e| {
        panic!("cannot run erlc ({e}): these tests compare with Erlang/OTP; install it with apt-get install -y erlang-base")
    });
    let text = String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    let prefix = format!("{}:", erl.display());
    let short_prefix = format!("{stem}.erl:");
    let mut lines: Vec<(usize, bool)> = text
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix).or_else(|| line.strip_prefix(&short_prefix)))
        .filter_map(|rest| {
            let mut parts = rest.splitn(3, ':');
            let line: usize = parts.next()?.parse().ok()?;
            let _column = parts.next()?;
            Some((line, parts.next()?.trim_start().starts_with("Warning:")))
        })
        .collect();
    lines.sort();
    lines.dedup();
    let _ = std::fs::remove_dir_all(&dir);
    Erlc { succeeded: output.status.success(), lines, output: text }
}

/// `vm run FLAGS PATH`, killed if it runs longer than `bound`; its standard
/// output, after checking that it exited 0 and printed no Rust panic.
pub fn run_clean(path: &Path, flags: &[&str], bound: std::time::Duration) -> String {
    let started = std::time::Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vm"))
        .arg("run")
        .args(flags)
        .arg(path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vm");
    // The pipes are read as the child runs, so that a full pipe cannot stall it.
    let (mut stdout, mut stderr) = (child.stdout.take().expect("stdout"), child.stderr.take().expect("stderr"));
    let out = std::thread::spawn(move || std::io::read_to_string(&mut stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut stderr).unwrap_or_default());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for vm") {
            break status;
        }
        if started.elapsed() > bound {
            let _ = child.kill();
            panic!("{}: still running after {bound:?}", path.display());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let (stdout, stderr) = (out.join().expect("stdout reader"), err.join().expect("stderr reader"));
    assert!(!stderr.contains("panicked"), "{}: a Rust panic:\n{stderr}", path.display());
    assert!(status.success(), "{}: exit {:?}\n{stderr}", path.display(), status.code());
    stdout
}
