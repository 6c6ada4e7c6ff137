//! Limits end a process, not the VM: each program in `tests/limits/` runs
//! `vm run` into one (the process table, the atom table, a runaway
//! recursion and an endless list, a mailbox flood of ten million
//! messages) and prints how it came out; the VM must go on, finish
//! normally and print no Rust panic. `max_heap_size` is a conformance
//! program (`tests/conformance/max_heap_size.actor`), as erl gives the
//! same results. Each program runs in a few seconds and under 1.5 GB.

mod support;

use std::process::Command;
use std::time::Duration;

fn run(program: &str, flags: &[&str]) -> String {
    let path = support::root().join("tests/limits").join(format!("{program}.actor"));
    support::run_clean(&path, flags, Duration::from_secs(120))
}

#[test]
fn a_full_process_table_is_system_limit_for_the_spawner() {
    assert_eq!(
        run("process_table", &["--max-processes", "1000"]),
        "limit 1000, spawned 999 more\nsystem_limit\nafter they ended: 999 more\n"
    );
}

#[test]
fn a_full_atom_table_is_system_limit_and_the_vm_goes_on() {
    assert_eq!(run("atom_table", &[]), "table full: true\nsystem_limit\nsystem_limit\nexisting atoms still work: ok\n");
}

#[test]
fn a_runaway_process_is_killed_at_the_memory_cap_and_the_others_go_on() {
    assert_eq!(run("runaway", &["--max-process-memory", "256"]), "killed\nkilled\nthe echo answers\n");
}

#[test]
fn a_flooded_mailbox_keeps_every_message_while_other_processes_are_served() {
    assert_eq!(run("mailbox_flood", &[]), "round trips during the flood: true\nqueued: 10000000\ndone\n");
}

#[test]
fn bad_limits_on_the_command_line_are_refused_with_a_message() {
    for flags in [["--max-processes", "0"], ["--max-process-memory", "0"], ["--max-processes", "lots"]] {
        let output = Command::new(env!("CARGO_BIN_EXE_vm"))
            .arg("run")
            .args(flags)
            .arg(support::root().join("tests/limits/runaway.actor"))
            .output()
            .expect("run vm");
        assert_eq!(output.status.code(), Some(2), "{flags:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(flags[0]) && !stderr.contains("panicked"), "{flags:?}: {stderr}");
    }
}
