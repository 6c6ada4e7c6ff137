//! Conformance: every program in `tests/conformance/` must print, byte for
//! byte, what Erlang/OTP printed for it (`NAME.out`, recorded by
//! `tests/conformance/record`) and exit with the same status (`NAME.status`).
//! A second test runs `erl` again to make sure the recordings are still true,
//! and a third runs the OTP examples (`examples/kv_store.actor`,
//! `examples/supervision_tree.actor`) on both.
//! The programs end normally: when `main` raises, erl's `init` may lose
//! buffered output as it crashes, so that path is tested in `cli.rs` instead.
//!
//! A program whose first lines say `%% ulimit-n: N` runs with at most N open
//! descriptors (`ulimit -n`, under erl too), so that running out of them is
//! quick to reach.
//!
//! Built with `--features gc-stress`, the VM collects at every allocation;
//! a program whose first lines say `%% gc-stress: skip` (with the reason) is
//! left out of that run only.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn programs() -> Vec<PathBuf> {
    let files = support::actor_files(&support::root().join("tests/conformance"));
    assert!(files.len() >= 9, "expected the conformance programs, found {}", files.len());
    files
}

fn expected(path: &Path) -> (Vec<u8>, i32) {
    let out = std::fs::read(path.with_extension("out"))
        .unwrap_or_else(|_| panic!("{} has no .out: run record", path.display()));
    let status = std::fs::read_to_string(path.with_extension("status")).expect("a .status file");
    (out, status.trim().parse().expect("a status number"))
}

/// `vm run FLAGS PATH`, under the descriptor limit the program asks for.
fn vm_run(path: &Path, source: &str, flags: &[&str]) -> Command {
    let limit = source.lines().take(3).find_map(|l| l.strip_prefix("%% ulimit-n: "));
    let mut command = match limit {
        Some(limit) => {
            let mut command = Command::new("bash");
            command.args(["-c", &format!("ulimit -n {} && exec \"$0\" run \"$@\"", limit.trim())]);
            command.arg(env!("CARGO_BIN_EXE_vm"));
            command
        }
        None => {
            let mut command = Command::new(env!("CARGO_BIN_EXE_vm"));
            command.arg("run");
            command
        }
    };
    command.args(flags).arg(path);
    command
}

/// Runs every program with `flags` and compares with erl's recording.
fn every_program_prints_what_erl_printed(flags: &[&str]) {
    let mut failures = Vec::new();
    for path in programs() {
        let source = std::fs::read_to_string(&path).unwrap();
        if cfg!(feature = "gc-stress") && source.lines().take(3).any(|l| l.starts_with("%% gc-stress: skip")) {
            continue;
        }
        let (out, status) = expected(&path);
        let output = vm_run(&path, &source, flags).output().expect("run vm");
        if output.stdout != out || output.status.code() != Some(status) {
            failures.push(format!(
                "{} {flags:?}: exit {:?} (expected {status})\n--- vm\n{}--- erl\n{}--- stderr\n{}",
                path.display(),
                output.status.code(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&output.stderr),
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vm_run_prints_what_erl_printed() {
    every_program_prints_what_erl_printed(&[]);
}

/// The same programs on one scheduler and on eight (more than this
/// machine's cores): the output must not depend on how many run.
#[test]
fn vm_run_prints_the_same_on_one_and_on_eight_schedulers() {
    if cfg!(feature = "gc-stress") {
        return; // The collector is tested by the run above.
    }
    every_program_prints_what_erl_printed(&["--schedulers", "1"]);
    every_program_prints_what_erl_printed(&["--schedulers", "8"]);
}

#[test]
fn the_recordings_are_what_erl_prints() {
    if cfg!(feature = "gc-stress") {
        return; // Nothing of the VM is under test here.
    }
    let record = support::root().join("tests/conformance/record");
    let work = std::env::temp_dir().join(format!("vm-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    for path in programs() {
        // Record into a copy, then compare with the committed recording.
        let name = path.file_name().unwrap();
        std::fs::copy(&path, work.join(name)).unwrap();
        std::fs::copy(&record, work.join("record")).unwrap();
        let status = Command::new("bash")
            .arg(work.join("record"))
            .arg(work.join(name))
            .output()
            .unwrap_or_else(|e| panic!("cannot run the record script: {e}"));
        assert!(
            status.status.success(),
            "record failed (is erl installed?): {}",
            String::from_utf8_lossy(&status.stderr)
        );
        let fresh = (
            std::fs::read(work.join(name).with_extension("out")).unwrap(),
            std::fs::read_to_string(work.join(name).with_extension("status")).unwrap(),
        );
        let committed = (
            std::fs::read(path.with_extension("out")).unwrap(),
            std::fs::read_to_string(path.with_extension("status")).unwrap(),
        );
        assert_eq!(fresh, committed, "{}: the recording is out of date; run tests/conformance/record", path.display());
    }
    std::fs::remove_dir_all(&work).unwrap();
}

/// The examples written against OTP's behaviours (`kv_store`,
/// `supervision_tree`) print what erl prints for them, run by erl here and
/// now rather than recorded.
#[test]
fn the_otp_examples_print_what_erl_prints() {
    if cfg!(feature = "gc-stress") {
        return; // The conformance programs cover the same code under stress.
    }
    let work = std::env::temp_dir().join(format!("vm-examples-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    for name in ["kv_store", "supervision_tree"] {
        let example = support::root().join(format!("examples/{name}.actor"));
        std::fs::copy(&example, work.join(format!("{name}.erl"))).unwrap();
        let compiled = Command::new("erlc").arg("-o").arg(&work).arg(work.join(format!("{name}.erl"))).output();
        assert!(compiled.is_ok_and(|o| o.status.success()), "erlc {name} failed (is erl installed?)");
        let erl = Command::new("erl")
            .args(["-noshell", "-pa"])
            .arg(&work)
            .args(["-eval", &format!("{name}:main(), halt().")])
            .output()
            .expect("run erl");
        let vm = Command::new(env!("CARGO_BIN_EXE_vm")).arg("run").arg(&example).output().expect("run vm");
        assert!(vm.status.success(), "{name}: {}", String::from_utf8_lossy(&vm.stderr));
        assert_eq!(
            String::from_utf8_lossy(&vm.stdout),
            String::from_utf8_lossy(&erl.stdout),
            "{name}: vm (left) and erl (right) differ"
        );
    }
    std::fs::remove_dir_all(&work).unwrap();
}
