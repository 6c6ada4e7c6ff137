//! `cargo bench -p vm --bench programs`: runs the project's own benchmark
//! programs (`vm/benches/programs/*.actor`) on the release VM and prints the
//! wall time and peak RSS of each, with the goal it is held to. These are
//! measurements, not tests: a missed goal is printed, not failed.
//!
//! - `alloc_10gb`: a loop that allocates 10 GB in total must stay under
//!   50 MB peak RSS (the collector keeps the heap small).
//! - `hot_load/hot_load.actor`: loading a module of 1,000 lines into a VM
//!   running 100,000 processes; it prints the time of each step and the
//!   longest pause its tickers saw.
//! - `gen_server_call` (1,000,000 `gen_server:call` round trips) and
//!   `ets_lookup` (4,000,000 `ets:lookup/2` from two processes) run on erl
//!   too, when it is installed: the table shows the median of three runs
//!   of each and the ratio (below 1 is better), and that both printed the
//!   same.

use std::path::Path;
use std::process::Command;

/// A program and its peak-RSS goal in MB.
const PROGRAMS: &[(&str, f64)] = &[("alloc_10gb", 50.0)];

/// Programs timed against erl.
const AGAINST_ERL: &[&str] = &["gen_server_call", "ets_lookup"];

const RUNS: usize = 3;

/// Runs a command under `/usr/bin/time`: (wall seconds, peak MB, stdout, success).
fn timed(command: &mut Command) -> (f64, f64, Vec<u8>, bool) {
    let output = command.output().expect("run /usr/bin/time (apt-get install time)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let wall: f64 = fields.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
    let peak_mb = fields.next().and_then(|s| s.parse::<f64>().ok()).map_or(f64::NAN, |kb| kb / 1024.0);
    (wall, peak_mb, output.stdout, output.status.success())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let vm = env!("CARGO_BIN_EXE_vm");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/programs");
    println!("{:<16} {:>8} {:>10} {:>10}  result", "program", "wall_s", "peak_MB", "goal_MB");
    for &(name, goal) in PROGRAMS {
        let file = dir.join(format!("{name}.actor"));
        let (wall, peak_mb, _, success) =
            timed(Command::new("/usr/bin/time").args(["-f", "%e %M", vm, "run"]).arg(&file));
        let result = if !success {
            "FAILED TO RUN"
        } else if peak_mb <= goal {
            "ok"
        } else {
            "OVER GOAL"
        };
        println!("{name:<16} {wall:>8.2} {peak_mb:>10.1} {goal:>10.1}  {result}");
    }

    // Hot loading into a busy VM (issue 7): the program reports for itself.
    println!();
    let hot = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/hot_load/hot_load.actor");
    match Command::new(vm).arg("run").arg(&hot).output() {
        Ok(output) if output.status.success() => print!("{}", String::from_utf8_lossy(&output.stdout)),
        _ => println!("hot_load: FAILED TO RUN"),
    }

    println!();
    if Command::new("erlc").arg("-help").output().is_err() {
        println!("(erl is not installed: the programs timed against erl are skipped)");
        return;
    }
    let work = std::env::temp_dir().join(format!("vm-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("a work folder");
    println!("{:<16} {:>8} {:>8} {:>7}  output", "program", "erl_s", "vm_s", "ratio");
    for &name in AGAINST_ERL {
        let file = dir.join(format!("{name}.actor"));
        let erl_source = work.join(format!("{name}.erl"));
        std::fs::copy(&file, &erl_source).expect("copy the program");
        let compiled = Command::new("erlc").arg("-o").arg(&work).arg(&erl_source).status();
        if !compiled.is_ok_and(|s| s.success()) {
            println!("{name:<16} erlc failed");
            continue;
        }
        let (mut erl_times, mut vm_times) = (Vec::new(), Vec::new());
        let (mut erl_out, mut vm_out) = (Vec::new(), Vec::new());
        for _ in 0..RUNS {
            let (wall, _, out, _) = timed(
                Command::new("/usr/bin/time")
                    .args(["-f", "%e %M", "erl", "-noshell", "-pa"])
                    .arg(&work)
                    .args(["-eval", &format!("{name}:main(), halt().")]),
            );
            erl_times.push(wall);
            erl_out = out;
            let (wall, _, out, _) = timed(Command::new("/usr/bin/time").args(["-f", "%e %M", vm, "run"]).arg(&file));
            vm_times.push(wall);
            vm_out = out;
        }
        let (erl, vm_s) = (median(erl_times), median(vm_times));
        let same = if erl_out == vm_out { "same" } else { "DIFFERENT" };
        println!("{name:<16} {erl:>8.2} {vm_s:>8.2} {:>7.2}  {same}", vm_s / erl);
    }
    let _ = std::fs::remove_dir_all(&work);
}
