//! Hot code loading seen from outside: each program of
//! `tests/hot_loading/` writes new versions of a module's source while it
//! runs and loads them (`code:load_file/1`, `purge/1`, `soft_purge/1`), so
//! each runs in a folder of its own; its standard output must be the
//! `.out` file beside it. (These cannot be recorded from erl, which loads
//! `.beam` files: `code_semantics`, `purge_supervised` and
//! `gen_server_upgrade` were checked against erl 25 with the module written
//! as `.erl` and compiled before each load.) The control socket (`vm run --name`, `vm load`,
//! `vm remote`) is tested end to end with a VM as a child process.

mod support;

use std::path::PathBuf;
use std::process::Command;

/// A fresh folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vm-hot-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("make a scratch folder");
    dir
}

/// Runs `tests/hot_loading/NAME.actor` in a folder of its own and checks
/// its output; each of `compiled` (modules of `tests/hot_loading/`) is
/// there only as a module file made by `vm compile`.
fn run_program(name: &str, compiled: &[&str]) {
    let folder = support::root().join("tests/hot_loading");
    let source = folder.join(format!("{name}.actor"));
    let dir = scratch(name);
    let program = dir.join(format!("{name}.actor"));
    std::fs::copy(&source, &program).expect("copy the program");
    for module in compiled {
        let status = Command::new(env!("CARGO_BIN_EXE_vm"))
            .arg("compile")
            .arg(folder.join(format!("{module}.actor")))
            .arg("-o")
            .arg(dir.join(format!("{module}.actb")))
            .status()
            .expect("run vm compile");
        assert!(status.success(), "vm compile {module}");
    }
    let output =
        Command::new(env!("CARGO_BIN_EXE_vm")).arg("run").arg(&program).current_dir(&dir).output().expect("run vm");
    let expected = std::fs::read_to_string(source.with_extension("out")).expect("read the expected output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout, expected, "{name}: stderr:\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "{name} exited with {:?}", output.status);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn code_module_semantics_are_otps() {
    run_program("code_semantics", &[]);
}

#[test]
fn a_million_messages_across_twenty_reloads_arrive_exactly_once_in_order() {
    run_program("reload_under_load", &[]);
}

#[test]
fn purge_kills_lingering_processes_and_their_supervisor_restarts_them_on_new_code() {
    run_program("purge_supervised", &[]);
}

#[test]
fn load_binary_takes_module_files_and_refuses_damaged_ones() {
    run_program("load_binary", &["shape"]);
}

#[test]
fn a_gen_server_is_upgraded_in_place_with_code_change() {
    run_program("gen_server_upgrade", &[]);
}

#[test]
fn concurrent_loads_of_many_modules_while_processes_call_them() {
    run_program("concurrent_loads", &[]);
}

/// A VM started as a child process with a control socket, its standard
/// output read line by line; killed when dropped.
struct NamedVm {
    child: std::process::Child,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    runtime_dir: PathBuf,
}

impl Drop for NamedVm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.runtime_dir);
    }
}

impl NamedVm {
    fn start(name: &str, program: &str, args: &[&str]) -> NamedVm {
        let runtime_dir = scratch(&format!("run-{name}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_vm"))
            .args(["run", "--name", name, program, "--"])
            .args(args)
            .current_dir(support::root())
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run vm");
        let stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        NamedVm { child, stdout, runtime_dir }
    }

    fn line(&mut self) -> String {
        use std::io::BufRead;
        let mut line = String::new();
        self.stdout.read_line(&mut line).expect("read a line");
        assert!(!line.is_empty(), "the VM ended");
        line
    }

    /// Runs `vm ARGS...` against this VM (same runtime folder).
    fn vm(&self, args: &[&str], stdin: &str) -> std::process::Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_vm"))
            .args(args)
            .current_dir(support::root())
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run vm");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("wait for vm")
    }

    fn socket(&self, name: &str) -> PathBuf {
        self.runtime_dir.join("vm").join(format!("{name}.sock"))
    }
}

/// The request number in a line of `examples/hot_reload/service.actor`.
fn request_number(line: &str) -> u64 {
    let rest = line.strip_prefix("request ").unwrap_or_else(|| panic!("not a reply: {line:?}"));
    rest.trim_end().split(',').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("no number in {line:?}"))
}

/// Sends one raw frame payload (or raw bytes when `raw`) and reads the
/// answer: (status byte, text) of an `R` frame, or `None` if the VM closed
/// the connection without one.
fn exchange(socket: &std::path::Path, bytes: &[u8], raw: bool) -> Option<(u8, String)> {
    use std::io::{Read, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    if raw {
        stream.write_all(bytes).expect("send");
    } else {
        let mut frame = (bytes.len() as u32).to_be_bytes().to_vec();
        frame.extend_from_slice(bytes);
        stream.write_all(&frame).expect("send");
    }
    let mut length = [0u8; 4];
    stream.read_exact(&mut length).ok()?;
    let mut payload = vec![0; u32::from_be_bytes(length) as usize];
    stream.read_exact(&mut payload).ok()?;
    assert_eq!(payload[0], b'R', "a result frame");
    Some((payload[1], String::from_utf8_lossy(&payload[6..]).into_owned()))
}

fn field(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

#[test]
fn a_running_vm_takes_new_code_through_its_control_socket() {
    use std::os::unix::fs::PermissionsExt;
    let name = format!("hot{}", std::process::id());
    let mut vm = NamedVm::start(&name, "examples/hot_reload/service.actor", &["20"]);
    assert_eq!(vm.line(), "request 1\n");
    let socket = vm.socket(&name);
    let mode = std::fs::metadata(&socket).expect("the socket").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the socket is the owner's only");
    let folder_mode = std::fs::metadata(socket.parent().unwrap()).unwrap().permissions().mode();
    assert_eq!(folder_mode & 0o777, 0o700, "the socket folder is the owner's only");

    // The name is taken while the VM lives.
    let taken = vm.vm(&["run", "--name", &name, "examples/hello.actor"], "");
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("already running"));

    // A module that does not compile: the compiler's diagnostics, nothing sent.
    let broken_dir = scratch("broken");
    let broken = broken_dir.join("counter.actor");
    std::fs::write(&broken, "-module(counter).\nloop(Count) -> Count +.\n").unwrap();
    let refused = vm.vm(&["load", &name, broken.to_str().unwrap()], "");
    assert!(!refused.status.success());
    let diagnostics = String::from_utf8_lossy(&refused.stderr).into_owned();
    assert!(diagnostics.contains("counter.actor:2:"), "diagnostics with file and line: {diagnostics}");

    // Malformed and hostile requests are refused; the VM goes on.
    assert_eq!(exchange(&socket, &[0xff, 0xff, 0xff, 0xff], true).map(|a| a.0), Some(1), "an oversized frame");
    assert_eq!(exchange(&socket, b"Z", false).map(|a| a.0), Some(1), "an unknown request");
    assert_eq!(exchange(&socket, b"L\x00\x00\x00\x00\x01", false).map(|a| a.0), Some(1), "a truncated load");
    let mut junk = b"L\x00\x00\x00\x00\x01".to_vec();
    for part in [&b"counter"[..], b"/x/counter.actor", b"", b"\x00garbage module bytes"] {
        junk.extend(field(part));
    }
    let (status, text) = exchange(&socket, &junk, false).expect("an answer");
    assert_eq!(status, 1);
    assert!(text.contains("not a valid module"), "{text}");
    let before = request_number(&vm.line());

    // The new version: loaded, and the count goes on in it.
    let load = vm.vm(&["load", &name, "examples/hot_reload/v2/counter.actor"], "");
    assert!(load.status.success(), "vm load: {}", String::from_utf8_lossy(&load.stderr));
    assert!(String::from_utf8_lossy(&load.stdout).starts_with("loaded counter from "));
    let mut last = before;
    loop {
        let line = vm.line();
        let number = request_number(&line);
        assert_eq!(number, last + 1, "no request lost or repeated across the load");
        last = number;
        if line.contains("served by version 2") {
            break;
        }
    }

    // A shell inside the VM: its output comes back to it.
    let remote = vm.vm(&["remote", &name], "counter:hit().\nio:format(\"two: ~p~n\", [1 + 1]).\n");
    let text = String::from_utf8_lossy(&remote.stdout).into_owned();
    assert!(remote.status.success());
    assert!(text.contains(", served by version 2\""), "{text}");
    assert!(text.ends_with("two: 2\nok\n"), "{text}");
    // Still running after the remote shell left, the count still going on.
    assert!(request_number(&vm.line()) > last);
    let _ = std::fs::remove_dir_all(&broken_dir);
}

#[test]
fn watch_loads_a_module_again_when_its_source_changes() {
    use std::io::BufRead;
    let dir = scratch("watch");
    let examples = support::root().join("examples/hot_reload");
    for file in ["service.actor", "counter.actor"] {
        std::fs::copy(examples.join(file), dir.join(file)).expect("copy the example");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_vm"))
        .args(["run", "--watch", "service.actor", "--", "20"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run vm");
    let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = || {
        let mut text = String::new();
        stdout.read_line(&mut text).expect("read a line");
        text
    };
    assert_eq!(line(), "request 1\n");
    std::fs::copy(examples.join("v2/counter.actor"), dir.join("counter.actor")).expect("change the source");
    let mut last = 1;
    let switched = (0..1000).any(|_| {
        let text = line();
        let number = request_number(&text);
        assert_eq!(number, last + 1, "no request lost or repeated across the reload");
        last = number;
        text.contains("served by version 2")
    });
    let _ = child.kill();
    let output = child.wait_with_output().expect("wait for vm");
    assert!(switched, "no reload seen; stderr: {}", String::from_utf8_lossy(&output.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}
