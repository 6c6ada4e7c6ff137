//! The runner for common_test suites (`tests/external/run-suite`), which
//! runs a suite's cases on erl and on `vm run` and compares them case by
//! case. OTP's own suites are not in the repository (their code stays out
//! of our commits; docs/conformance.md says how they were run and what they
//! found); these tests run the runner on a suite of our own and check that
//! it reports passes, skips, exclusions and failures, and that it notices
//! when the VM's outcome differs from erl's.

mod support;

use std::path::Path;
use std::process::{Command, Output};

fn run_suite(vm: &Path) -> Output {
    let root = support::root();
    Command::new(root.join("tests/external/run-suite"))
        .arg(root.join("tests/external/selftest_SUITE.erl"))
        .env("VM", vm)
        .output()
        .expect("run tests/external/run-suite (needs bash, python3 and erl)")
}

#[test]
fn the_runner_reports_each_case_of_a_suite_as_erl_and_the_vm_ran_it() {
    let output = run_suite(Path::new(env!("CARGO_BIN_EXE_vm")));
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "config: ok",
            "arithmetic: ok",
            "exceptions: ok",
            "maps: ok",
            "messages: ok",
            "skipped: skipped",
            "left_out: excluded (calls a function that does not exist, to show that the skip file drops it)",
            "fails: failed exit:{test_case_failed,\"expected failure\"}   (on both)",
            "selftest_SUITE: 8 cases, 6 pass on both, 1 excluded, 0 differ, 1 fail on erl too",
        ],
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // A case that fails on erl makes the run fail, even when vm agrees.
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn the_runner_notices_a_case_whose_outcome_differs_on_the_vm() {
    // A stand-in for the VM that reports one case wrongly and runs no other.
    let dir = std::env::temp_dir().join(format!("vm-tests-external-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fake = dir.join("vm");
    std::fs::write(&fake, "#!/bin/sh\necho\necho '=case arithmetic: failed error:badarith'\n").unwrap();
    Command::new("chmod").arg("+x").arg(&fake).status().unwrap();
    let output = run_suite(&fake);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("arithmetic: DIFFERS\n    erl: ok\n    vm:  failed error:badarith\n"), "{text}");
    assert!(text.contains("config: DIFFERS\n    erl: ok\n    vm:  (no outcome)\n"), "{text}");
    assert!(
        text.contains("selftest_SUITE: 8 cases, 0 pass on both, 1 excluded, 7 differ, 0 fail on erl too"),
        "{text}"
    );
    assert_eq!(output.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}
