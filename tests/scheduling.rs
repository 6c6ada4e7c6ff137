//! Scheduling properties seen from outside the VM: a million idle
//! processes fit in 1.5 GB; a VM whose processes all wait uses no CPU; busy
//! loops do not starve others, whatever the number of schedulers; no
//! wake-up is lost; a long built-in is suspended half-way (on its
//! coroutine) so that others run meanwhile. The resource checks read the
//! running VM's `/proc` entries (Linux) rather than timing it. (Also one
//! spawn behaviour that cannot be recorded from erl, which crashes on it.)

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn start(program: &str, args: &[&str]) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vm"))
        .arg("run")
        .args(args)
        .arg(format!("tests/scheduling/{program}"))
        .current_dir(support::root())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run vm");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    (child, stdout)
}

fn line(stdout: &mut BufReader<std::process::ChildStdout>) -> String {
    let mut text = String::new();
    stdout.read_line(&mut text).expect("read a line");
    text
}

/// A field of `/proc/PID/status`, in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc status");
    let line = status.lines().find(|l| l.starts_with(field)).expect("field");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).expect("a number")
}

/// User plus system CPU time of the process so far, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc stat");
    // Fields after the command name (which ends with the last ')').
    let fields: Vec<&str> = stat[stat.rfind(')').expect("comm") + 2..].split_whitespace().collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[test]
fn a_million_processes_blocked_in_receive_fit_in_one_and_a_half_gigabytes() {
    let (mut child, mut stdout) = start("idle_million.actor", &[]);
    assert_eq!(line(&mut stdout), "ready 1000000\n");
    let rss_kb = status_kb(child.id(), "VmRSS:");
    child.kill().expect("stop the VM");
    let _ = child.wait();
    assert!(rss_kb < 1_500_000, "a million idle processes take {rss_kb} kB");
}

#[test]
fn a_vm_whose_processes_all_wait_uses_no_cpu() {
    let (mut child, mut stdout) = start("sleepers.actor", &[]);
    assert_eq!(line(&mut stdout), "ready\n");
    // Let the spawning settle, then watch for a second.
    std::thread::sleep(Duration::from_millis(300));
    let before = cpu_ticks(child.id());
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_ticks(child.id()) - before;
    child.kill().expect("stop the VM");
    let _ = child.wait();
    // A spinning scheduler would use about 100 ticks a second.
    assert!(used <= 5, "{used} ticks of CPU in a second of waiting");
}

#[test]
fn busy_loops_do_not_starve_a_process_that_answers_on_any_number_of_schedulers() {
    for schedulers in ["1", "2", "3"] {
        let (mut child, mut stdout) = start("busy_and_answering.actor", &["--schedulers", schedulers]);
        assert_eq!(line(&mut stdout), "answered\n", "with {schedulers} schedulers");
        let status = child.wait().expect("wait");
        assert!(status.success(), "with {schedulers} schedulers");
    }
}

#[test]
fn no_wake_up_is_lost_in_two_million_cross_thread_hops() {
    let (mut child, mut stdout) = start("wakeups.actor", &["--schedulers", "4"]);
    assert_eq!(line(&mut stdout), "bounced 1000000\n");
    assert!(child.wait().expect("wait").success());
}

#[test]
fn spawn_checks_the_fun_in_the_caller_and_the_function_in_the_new_process() {
    let (mut child, mut stdout) = start("spawn_arity.actor", &[]);
    assert_eq!(line(&mut stdout), "badarg\n");
    assert_eq!(line(&mut stdout), "{undef,[{erlang,no_such_function,[1],[]}]}\n");
    assert!(child.wait().expect("wait").success());
}

#[test]
fn a_long_built_in_is_suspended_half_way_and_others_run_meanwhile() {
    // One scheduler: without suspension nothing else could run while the
    // built-ins work (the program counts what did; see its comment).
    let (mut child, mut stdout) = start("long_natives.actor", &["--schedulers", "1"]);
    assert_eq!(line(&mut stdout), "length: 4000000, others ran: true\n");
    assert_eq!(line(&mut stdout), "send: sent, others ran: true\n");
    assert_eq!(line(&mut stdout), "append: 1, others ran: true\n");
    assert_eq!(line(&mut stdout), "subtract: [], others ran: true\n");
    assert_eq!(line(&mut stdout), "process_info waited for the built-in: true\n");
    assert!(child.wait().expect("wait").success());
}
