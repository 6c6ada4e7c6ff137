//! `cargo bench -p vm --bench programs`: runs the project's own benchmark
//! programs (`vm/benches/programs/*.actor`) on the release VM and prints the
//! wall time and peak RSS of each, with the goal it is held to. These are
//! measurements, not tests: a missed goal is printed, not failed.
//!
//! - `alloc_10gb`: a loop that allocates 10 GB in total must stay under
//!   50 MB peak RSS (the collector keeps the heap small).

use std::path::Path;
use std::process::Command;

/// A program and its peak-RSS goal in MB.
const PROGRAMS: &[(&str, f64)] = &[("alloc_10gb", 50.0)];

fn main() {
    let vm = env!("CARGO_BIN_EXE_vm");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/programs");
    println!("{:<14} {:>8} {:>10} {:>10}  result", "program", "wall_s", "peak_MB", "goal_MB");
    for &(name, goal) in PROGRAMS {
        let file = dir.join(format!("{name}.actor"));
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%e %M", vm, "run"])
            .arg(&file)
            .output()
            .expect("run /usr/bin/time (apt-get install time)");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        let mut fields = last.split_whitespace();
        let wall: f64 = fields.next().and_then(|s| s.parse().ok()).unwrap_or(f64::NAN);
        let peak_mb = fields.next().and_then(|s| s.parse::<f64>().ok()).map_or(f64::NAN, |kb| kb / 1024.0);
        let result = if !output.status.success() {
            "FAILED TO RUN"
        } else if peak_mb <= goal {
            "ok"
        } else {
            "OVER GOAL"
        };
        println!("{name:<14} {wall:>8.2} {peak_mb:>10.1} {goal:>10.1}  {result}");
    }
}
