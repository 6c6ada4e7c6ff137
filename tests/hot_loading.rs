//! Hot code loading seen from outside: each program of
//! `tests/hot_loading/` writes new versions of a module's source while it
//! runs and loads them (`code:load_file/1`, `purge/1`, `soft_purge/1`), so
//! each runs in a folder of its own; its standard output must be the
//! `.out` file beside it. (These cannot be recorded from erl, which loads
//! `.beam` files: `code_semantics` and `purge_supervised` were checked
//! against erl 25 with the module written as `.erl` and compiled before
//! each load.) The control socket (`vm run --name`, `vm load`,
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
/// its output.
fn run_program(name: &str) {
    let source = support::root().join("tests/hot_loading").join(format!("{name}.actor"));
    let dir = scratch(name);
    let program = dir.join(format!("{name}.actor"));
    std::fs::copy(&source, &program).expect("copy the program");
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
    run_program("code_semantics");
}

#[test]
fn a_million_messages_across_twenty_reloads_arrive_exactly_once_in_order() {
    run_program("reload_under_load");
}

#[test]
fn purge_kills_lingering_processes_and_their_supervisor_restarts_them_on_new_code() {
    run_program("purge_supervised");
}

#[test]
fn concurrent_loads_of_many_modules_while_processes_call_them() {
    run_program("concurrent_loads");
}
