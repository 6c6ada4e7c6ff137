//! The shell (`vm repl`), driven as a user drives it.
//!
//! Piped: each `tests/repl/*.session` file is fed to `vm repl` on standard
//! input (in `tests/repl/`, so that its modules are found) and the whole
//! transcript is pinned by an `insta` snapshot. A session whose first line
//! is `%% erl: agrees` must also print exactly what erl's shell prints for
//! the same input (its banner and prompts taken out).
//!
//! The tour in `docs/repl.md` is run the same way, against both.
//!
//! Interactive: `vm repl` on a pseudo-terminal, typed at as a user types,
//! with Tab completion, multi-line input, Ctrl-C (at the prompt and while a
//! command runs), output from another process while the prompt waits, and
//! history recalled in a second session.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};

fn repl_dir() -> std::path::PathBuf {
    support::root().join("tests/repl")
}

/// Runs `command` in `tests/repl/` with `input` on standard input.
fn feed(mut command: Command, input: &str) -> std::process::Output {
    use std::io::Write as _;
    let mut child = command
        .current_dir(repl_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {command:?}: {e} (the comparisons need erl: apt-get install -y erlang-base)")
        });
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write the session");
    child.wait_with_output().expect("wait for the shell")
}

/// `vm repl` with `input` on standard input: (standard output, exit status).
fn run_piped(input: &str) -> (String, Option<i32>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vm"));
    command.arg("repl");
    let output = feed(command, input);
    (String::from_utf8_lossy(&output.stdout).into_owned(), output.status.code())
}

fn snapshot(path: &Path) {
    let input = std::fs::read_to_string(path).expect("read the session");
    let (output, status) = run_piped(&input);
    let report = format!("----- INPUT\n{input}----- OUTPUT (exit status {status:?})\n{output}");
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(report);
    });
}

#[test]
fn piped_sessions_print_their_transcripts() {
    insta::glob!("repl/*.session", snapshot);
}

/// What erl's shell prints for `input`, without its banner, prompts and
/// closing line.
fn erl_shell(input: &str) -> String {
    let output = feed(Command::new("erl"), input);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines: Vec<String> = text
        .lines()
        .skip(1) // Eshell V... (abort with ^G)
        .map(|line| {
            let mut rest = line;
            // Every prompt, `12> `, at the start of a line.
            while let Some((number, after)) = rest.split_once("> ") {
                if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                    break;
                }
                rest = after;
            }
            rest.to_owned()
        })
        .collect();
    assert!(lines.pop().is_some_and(|l| l.starts_with("*** Terminating erlang")), "erl's output: {text}");
    lines.iter().map(|l| format!("{l}\n")).collect()
}

#[test]
fn sessions_marked_agree_print_what_erls_shell_prints() {
    let mut compared = 0;
    for entry in std::fs::read_dir(repl_dir()).expect("tests/repl") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "session") {
            continue;
        }
        let input = std::fs::read_to_string(&path).expect("read the session");
        if !input.starts_with("%% erl: agrees") {
            continue;
        }
        let (ours, _) = run_piped(&input);
        assert_eq!(ours, erl_shell(&input), "{} differs from erl's shell", path.display());
        compared += 1;
    }
    assert!(compared >= 1, "no session is compared with erl");
}

#[test]
fn a_piped_session_ends_with_its_input_or_with_halt() {
    assert_eq!(run_piped("X = 2, X * 21.\n"), ("42\n".to_owned(), Some(0)));
    assert_eq!(run_piped("1.\nhalt(7).\n2.\n"), ("1\n".to_owned(), Some(7)));
    // Input that never ends with a `.` is reported, not dropped in silence.
    let (output, status) = run_piped("1 + 2\n");
    assert!(output.contains("does not end with `.`"), "{output}");
    assert_eq!(status, Some(0));
}

/// `vm repl` on a pseudo-terminal of 100 columns.
struct Terminal {
    master: std::fs::File,
    screen: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
    /// How much of the screen's text earlier expectations consumed.
    seen: usize,
    child: std::process::Child,
}

impl Terminal {
    fn start(data_home: &Path) -> Terminal {
        Terminal::start_with(&["repl"], &[("XDG_DATA_HOME", data_home)])
    }

    /// `vm ARGS...` on a new pseudo-terminal, with these environment variables.
    fn start_with(args: &[&str], envs: &[(&str, &Path)]) -> Terminal {
        use std::io::Read as _;
        use std::os::fd::FromRawFd as _;
        use std::os::unix::process::CommandExt as _;
        // SAFETY: posix_openpt returns a new descriptor (or -1, checked),
        // which the File then owns; grantpt, unlockpt, ptsname_r and the
        // TIOCSWINSZ ioctl only read and write that descriptor and the
        // buffers passed, which outlive the calls.
        let (master, slave_path) = unsafe {
            let fd = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY);
            assert!(fd >= 0, "posix_openpt: {}", std::io::Error::last_os_error());
            assert_eq!(libc::grantpt(fd), 0);
            assert_eq!(libc::unlockpt(fd), 0);
            let mut name = [0 as libc::c_char; 128];
            assert_eq!(libc::ptsname_r(fd, name.as_mut_ptr(), name.len()), 0);
            let size = libc::winsize { ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
            assert_eq!(libc::ioctl(fd, libc::TIOCSWINSZ, &size), 0);
            let path = std::ffi::CStr::from_ptr(name.as_ptr()).to_string_lossy().into_owned();
            (std::fs::File::from_raw_fd(fd), path)
        };
        let slave = std::fs::OpenOptions::new().read(true).write(true).open(&slave_path).expect("open the pty");
        let mut command = Command::new(env!("CARGO_BIN_EXE_vm"));
        command.args(args).current_dir(repl_dir()).env("TERM", "xterm");
        for (name, value) in envs {
            command.env(name, value);
        }
        command.stdin(slave.try_clone().expect("dup")).stdout(slave.try_clone().expect("dup")).stderr(slave);
        // SAFETY: between fork and exec only async-signal-safe calls are
        // made: setsid, and the ioctl that makes the pty (standard input)
        // the new session's controlling terminal.
        unsafe {
            command.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = command.spawn().expect("run vm repl on a pty");
        let screen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut reader = master.try_clone().expect("dup the pty");
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // Reading fails (EIO) once the child has closed the terminal.
            while let Ok(n @ 1..) = reader.read(&mut buffer) {
                sink.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Terminal { master, screen, seen: 0, child }
    }

    fn type_keys(&mut self, keys: &str) {
        use std::io::Write as _;
        self.master.write_all(keys.as_bytes()).expect("type at the pty");
    }

    /// The screen's text so far with the terminal's control sequences taken out.
    fn text(&self) -> String {
        let bytes = self.screen.lock().unwrap().clone();
        let raw = String::from_utf8_lossy(&bytes);
        let mut text = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\u{1b}' => {
                    if chars.peek() == Some(&'[') {
                        chars.next();
                        // Parameters, then one final byte in @..~.
                        for c in chars.by_ref() {
                            if ('@'..='~').contains(&c) {
                                break;
                            }
                        }
                    } else {
                        chars.next();
                    }
                }
                '\r' => {}
                c => text.push(c),
            }
        }
        text
    }

    /// Waits until `wanted` appears after what earlier expectations saw.
    fn expect(&mut self, wanted: &str) {
        // Only a guard against a hang: the shell answers in milliseconds.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let text = self.text();
            if let Some(at) = text[self.seen.min(text.len())..].find(wanted) {
                self.seen += at + wanted.len();
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{wanted:?} never appeared; the screen:\n{text}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

#[test]
fn an_interactive_session_completes_continues_lines_and_remembers_history() {
    let data_home = std::env::temp_dir().join(format!("vm-repl-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data_home);
    let mut terminal = Terminal::start(&data_home);
    // Each result is awaited with the prompt after it (the line editor
    // redraws the prompt at every key, so a prompt alone proves nothing).
    terminal.expect("1> ");
    terminal.type_keys("Xs = [1,2,3].\r");
    terminal.expect("\n[1,2,3]\n2> ");
    // Tab completes a module's function, then a bound variable.
    terminal.type_keys("lists:rev\t");
    terminal.expect("lists:reverse(");
    terminal.type_keys("X\t");
    terminal.expect("lists:reverse(Xs");
    terminal.type_keys(").\r");
    terminal.expect("\n[3,2,1]\n3> ");
    // Enter before the ending `.` continues the expression on a new line.
    terminal.type_keys("{1,\r");
    terminal.type_keys("2}.\r");
    terminal.expect("\n{1,2}\n4> ");
    // Ctrl-C drops the line being typed; the prompt stays at 4.
    terminal.type_keys("this is dropped");
    terminal.expect("this is dropped");
    terminal.type_keys("\u{3}");
    terminal.expect("\n4> ");
    terminal.type_keys("6 * 7.\r");
    terminal.expect("\n42\n5> ");
    // Another process prints while the prompt waits: its line appears, and
    // the prompt is drawn again below it.
    terminal.type_keys("spawn(fun() -> timer:sleep(300), io:format(\"from elsewhere~n\") end), ok.\r");
    terminal.expect("\nok\n6> ");
    terminal.expect("from elsewhere\n6> ");
    terminal.type_keys("1 + 1.\r");
    terminal.expect("\n2\n7> ");
    let text = terminal.text();
    assert!(!text.contains("syntax error"), "the dropped line was not evaluated: {text}");
    // Ctrl-C while a command runs stops the command, not the VM: the
    // bindings are still there. (The command prints first, so the key is
    // typed once the line editor has handed the terminal back.)
    terminal.type_keys("io:format(\"waiting~n\"), receive after infinity -> ok end.\r");
    terminal.expect("\nwaiting\n");
    terminal.type_keys("\u{3}");
    terminal.expect("** exception exit: killed\n8> ");
    terminal.type_keys("length(Xs).\r");
    terminal.expect("\n3\n9> ");
    terminal.type_keys("100 * 3.\r");
    terminal.expect("\n300\n10> ");
    // Ctrl-D on an empty line leaves, saving the history.
    terminal.type_keys("\u{4}");
    let status = terminal.child.wait().expect("wait for vm repl");
    assert!(status.success(), "{status:?}");
    let history = std::fs::read_to_string(data_home.join("vm/history")).expect("the history file");
    assert!(history.contains("Xs = [1,2,3]."), "{history}");

    // A new session recalls the last command of the one before with Up.
    let mut terminal = Terminal::start(&data_home);
    terminal.expect("1> ");
    terminal.type_keys("\u{1b}[A");
    terminal.expect("100 * 3.");
    terminal.type_keys("\r");
    terminal.expect("\n300\n2> ");
    terminal.type_keys("q().\r");
    let status = terminal.child.wait().expect("wait for vm repl");
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&data_home);
}

#[test]
fn a_remote_shell_on_a_terminal_evaluates_inside_a_running_vm() {
    let scratch = std::env::temp_dir().join(format!("vm-remote-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("a scratch folder");
    let name = format!("remote{}", std::process::id());
    let service = support::root().join("examples/hot_reload/service.actor");
    let mut vm = Command::new(env!("CARGO_BIN_EXE_vm"))
        .args(["run", "--name", &name])
        .arg(&service)
        .args(["--", "50"])
        .env("XDG_RUNTIME_DIR", &scratch)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run the service");
    // Until its socket is there.
    let socket = scratch.join("vm").join(format!("{name}.sock"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !socket.exists() {
        assert!(std::time::Instant::now() < deadline, "the VM never listened");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let data_home = scratch.join("data");
    let mut terminal =
        Terminal::start_with(&["remote", &name], &[("XDG_RUNTIME_DIR", &scratch), ("XDG_DATA_HOME", &data_home)]);
    terminal.expect(&format!("connected to the VM named {name}"));
    terminal.expect("1> ");
    terminal.type_keys("counter:hit().\r");
    terminal.expect("\n\"request ");
    terminal.expect("2> ");
    // What the command's process prints comes back here, before its value.
    terminal.type_keys("io:format(\"from inside~n\").\r");
    terminal.expect("\nfrom inside\nok\n3> ");
    terminal.type_keys("X = 21, X * 2.\r");
    terminal.expect("\n42\n4> ");
    // Ctrl-D leaves the shell; the VM runs on.
    terminal.type_keys("\u{4}");
    let status = terminal.child.wait().expect("wait for vm remote");
    assert!(status.success(), "{status:?}");
    assert!(vm.try_wait().expect("the VM's status").is_none(), "the VM still runs");
    let _ = vm.kill();
    let _ = vm.wait();
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The ```repl blocks of `docs/repl.md`: (what is typed, what is printed).
fn documented_session() -> (String, String) {
    let doc = std::fs::read_to_string(support::root().join("docs/repl.md")).expect("docs/repl.md");
    let (mut typed, mut printed) = (String::new(), String::new());
    let mut in_block = false;
    for line in doc.lines() {
        match line {
            "```repl" => in_block = true,
            "```" => in_block = false,
            _ if in_block => {
                let prompt = line.split_once("> ").filter(|(n, _)| n.bytes().all(|b| b.is_ascii_digit()));
                match prompt {
                    Some((_, input)) => typed.push_str(&format!("{input}\n")),
                    None => printed.push_str(&format!("{line}\n")),
                }
            }
            _ => {}
        }
    }
    (typed, printed)
}

#[test]
fn the_tour_in_docs_repl_md_prints_what_it_shows() {
    let (typed, printed) = documented_session();
    assert!(typed.lines().count() >= 10, "the tour has examples:\n{typed}");
    let (output, status) = run_piped(&typed);
    assert_eq!(output, printed, "docs/repl.md shows other results than the shell prints");
    assert_eq!(status, Some(0));
    assert_eq!(erl_shell(&typed), printed, "docs/repl.md shows other results than erl's shell prints");
}
