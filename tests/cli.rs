//! The `vm` command line, run as a user runs it: exit statuses, where
//! diagnostics go, colour only on request or on a terminal, clear errors for
//! files that cannot be read.

mod support;

use std::process::{Command, Output};

fn vm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vm")).args(args).current_dir(support::root()).output().expect("run vm")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn check_of_a_clean_file_succeeds_silently() {
    let output = vm(&["check", "examples/hello.actor"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stderr.is_empty() && output.stdout.is_empty());
}

#[test]
fn check_reports_errors_with_location_caret_and_id_and_fails() {
    let output = vm(&["check", "tests/compile_errors/unbound_variables.actor"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("error[unbound-variable]: variable 'Z' is unbound"), "{text}");
    assert!(text.contains("unbound_variables.actor:6:13"), "{text}");
    assert!(text.contains("Y = X + Z,") && text.contains('^'), "{text}");
    assert!(!text.contains('\u{1b}'), "no colour when stderr is not a terminal: {text}");
}

#[test]
fn warnings_alone_do_not_fail_a_check() {
    let output = vm(&["check", "tests/compile_errors/warnings.actor"]);
    assert!(output.status.success());
    assert!(stderr(&output).contains("warning[unused-variable]"));
}

#[test]
fn colour_on_request() {
    let output = vm(&["check", "--color", "always", "tests/compile_errors/unbound_variables.actor"]);
    assert!(stderr(&output).contains('\u{1b}'));
}

#[test]
fn every_file_is_checked_and_any_error_fails_the_run() {
    let output =
        vm(&["check", "examples/hello.actor", "tests/compile_errors/head_mismatch.actor", "no/such/file.actor"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stderr(&output);
    assert!(text.contains("error[head-mismatch]"), "{text}");
    assert!(text.contains("no/such/file.actor: cannot read"), "{text}");
}

#[test]
fn a_file_that_is_not_utf8_gets_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("vm-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("latin1.actor");
    std::fs::write(&path, b"-module(latin1).\n% caf\xe9\n").unwrap();
    let output = vm(&["check", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("not UTF-8"), "{}", stderr(&output));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_with_status_2() {
    assert_eq!(vm(&["check"]).status.code(), Some(2));
    assert_eq!(vm(&["no-such-command"]).status.code(), Some(2));
}

#[test]
fn run_prints_output_and_exits_0() {
    let output = vm(&["run", "examples/hello.actor"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "Hello, world!\nrunning on nonode@nohost\n");
}

#[test]
fn an_uncaught_error_keeps_earlier_output_and_exits_1() {
    let dir = std::env::temp_dir().join(format!("vm-cli-crash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crash.actor");
    std::fs::write(
        &path,
        "-module(crash).\n-export([main/0]).\nmain() ->\n    io:format(\"before~n\"),\n    {ok, _} = {error, 42}.\n",
    )
    .unwrap();
    let output = vm(&["run", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "before\n");
    let text = stderr(&output);
    assert!(text.contains("** exception error: no match of right hand side value {error,42}"), "{text}");
    assert!(text.contains("in function  crash:main/0"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_uncaught_error_in_a_built_in_names_the_call_as_the_shell_does() {
    let dir = std::env::temp_dir().join(format!("vm-cli-bif-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        (
            "bif",
            "atom_to_list(id(1))",
            [
                "** exception error: bad argument",
                "in function  atom_to_list/1",
                "called as atom_to_list(1)",
                "in call from bif:main/0",
            ],
        ),
        (
            "op",
            "id(1) + id(a)",
            ["** exception error: an error occurred", "in operator  +/2", "called as 1 + a", "in call from op:main/0"],
        ),
        (
            "undef",
            "nomod:f(id(1), 2)",
            ["** exception error: undefined function nomod:f/2", "in function  undef:main/0", "", ""],
        ),
    ];
    for (name, body, expected) in cases {
        let path = dir.join(format!("{name}.actor"));
        let source = format!("-module({name}).\n-export([main/0]).\nmain() -> {body}.\nid(X) -> X.\n");
        std::fs::write(&path, source).unwrap();
        let output = vm(&["run", path.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(1));
        let text = stderr(&output);
        for line in expected {
            assert!(text.contains(line), "{name}: {line:?} not in\n{text}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn main_1_gets_the_arguments_as_strings() {
    let dir = std::env::temp_dir().join(format!("vm-cli-args-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("args.actor");
    std::fs::write(&path, "-module(args).\n-export([main/1]).\nmain(Args) -> io:format(\"~p~n\", [Args]).\n").unwrap();
    let output = vm(&["run", path.to_str().unwrap(), "--", "one", "two words"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "[\"one\",\"two words\"]\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_program_that_does_not_compile_is_not_run() {
    let output = vm(&["run", "tests/compile_errors/unbound_variables.actor"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(stderr(&output).contains("error[unbound-variable]"));
}

#[test]
fn disasm_into_a_reader_that_stops_early_does_not_panic() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vm"))
        .args(["disasm", "stdlib/lists.actor"])
        .current_dir(support::root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vm");
    // Read one chunk, then close the pipe as `head` does.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let n = stdout.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("module lists"));
    drop(stdout);
    let output = child.wait_with_output().unwrap();
    let err = stderr(&output);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "a closed reader is not reported: {err}");
}
