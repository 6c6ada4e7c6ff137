//! `cargo bench -p vm --bench net [-- [echo_rr] [conn_hold] [rtt] [--quick] [--vm-only]]`:
//! the connection benchmarks of issue 18, on erl and on the release VM with
//! the same server (`benches/net/echo_server.actor`: an acceptor pool, one
//! process per connection in `{active, once}`). This binary is the load
//! generator: one thread on mio, loopback only, bounded in count and time.
//!
//! - `echo_rr`: 100 connections each doing request/response (32 bytes) as
//!   fast as it can for 10 s: requests per second and latency percentiles.
//! - `conn_hold`: 19,000 concurrent connections (this machine allows a
//!   process 20,000 descriptors: the generator holds one per connection,
//!   the server one per connection and a few more), each sending 16 bytes
//!   a second for 30 s: the server's peak RSS, its memory per connection
//!   (RSS with every connection open minus RSS before the first), and the
//!   round-trip percentiles.
//!
//! - `rtt`: one connection, 20,000 round trips one after another: the
//!   latency a request sees when the server is otherwise idle, against a
//!   plain Rust echo thread (blocking reads and writes: the kernel's own
//!   round trip), so that what the VM adds to it shows.
//!
//! `VM_BIN=path` measures another build of the VM instead of this one.
//!
//! Measurements, not tests: the numbers are printed with the goals of
//! the issue (memory per connection at most 0.5x erl's, throughput at least
//! erl's, p99 at most erl's). `--quick` runs each for a fraction of that.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

/// A server under test: its process (erl's `beam.smp` is the same process,
/// `erl` execs it) and the port it listens on.
struct Server {
    name: &'static str,
    child: Child,
    port: u16,
}

impl Server {
    fn start(name: &'static str, work: &Path) -> Server {
        let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/net/echo_server.actor");
        let mut command = if name == "erl" {
            std::fs::copy(&source, work.join("echo_server.erl")).expect("copy the server");
            let status = Command::new("erlc").arg("-o").arg(work).arg(work.join("echo_server.erl")).status();
            assert!(status.is_ok_and(|s| s.success()), "erlc failed");
            let mut command = Command::new("erl");
            command.args(["+P", "1000000", "-noshell", "-pa"]).arg(work);
            command.args(["-eval", "echo_server:main([\"0\"])"]);
            command
        } else {
            // VM_BIN: another build to measure (a comparison of two designs).
            let vm = std::env::var("VM_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_vm").to_owned());
            let mut command = Command::new(vm);
            command.arg("run").arg(&source).args(["--", "0"]);
            command
        };
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the server's first line");
        let port = line.trim().strip_prefix("listening ").and_then(|p| p.parse().ok()).expect("listening PORT");
        Server { name, child, port }
    }

    /// (current RSS, peak RSS) in KiB.
    fn rss_kb(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// CPU seconds used by each of the server's threads, by name (summed
    /// over threads of one name).
    fn thread_cpu(&self) -> Vec<(String, f64)> {
        let mut by_name: Vec<(String, f64)> = Vec::new();
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", self.child.id())) else { return by_name };
        for task in tasks.flatten() {
            let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default().trim().to_owned();
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            let fields: Vec<&str> = stat.rsplit_once(')').map_or("", |(_, r)| r).split_whitespace().collect();
            let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
            let seconds = (ticks(11) + ticks(12)) / 100.0;
            match by_name.iter_mut().find(|(n, _)| *n == name) {
                Some(entry) => entry.1 += seconds,
                None => by_name.push((name, seconds)),
            }
        }
        by_name.retain(|(_, s)| *s >= 0.01);
        by_name.sort_by(|a, b| b.1.total_cmp(&a.1));
        by_name
    }

    /// CPU seconds the server has used (user + system).
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    f64::from(sorted[index]) / 1000.0
}

/// Closes a connection with a reset (`linger` 0), so that no TIME_WAIT
/// entry holds its port: back-to-back runs of 19,000 connections would
/// otherwise run out of ephemeral ports.
fn abort(stream: &TcpStream) {
    let _ = socket2::SockRef::from(stream).set_linger(Some(Duration::ZERO));
}

/// Opens `count` connections, at most `batch` connecting at once.
fn connect_all(poll: &mut Poll, address: SocketAddr, count: usize, batch: usize) -> Vec<TcpStream> {
    let mut streams: Vec<Option<TcpStream>> = Vec::with_capacity(count);
    let mut connected = vec![false; count];
    let mut done = 0;
    let mut events = Events::with_capacity(1024);
    let deadline = Instant::now() + Duration::from_secs(120);
    while done < count {
        assert!(Instant::now() < deadline, "connecting took over 2 minutes ({done} of {count})");
        while streams.len() < count && streams.len() - done < batch {
            let mut stream = TcpStream::connect(address).expect("connect");
            let token = Token(streams.len());
            poll.registry().register(&mut stream, token, Interest::READABLE | Interest::WRITABLE).expect("register");
            streams.push(Some(stream));
        }
        poll.poll(&mut events, Some(Duration::from_millis(100))).expect("poll");
        for event in events.iter() {
            let i = event.token().0;
            if connected[i] || !event.is_writable() {
                continue;
            }
            let stream = streams[i].as_ref().expect("a stream");
            if let Ok(Some(e)) | Err(e) = stream.take_error() {
                panic!("connection {i} failed: {e}");
            }
            if stream.peer_addr().is_ok() {
                connected[i] = true;
                done += 1;
            }
        }
    }
    streams.into_iter().map(|s| s.expect("a stream")).collect()
}

/// Reads what connection `i` has (edge-triggered: until it would block);
/// the number of bytes.
fn drain(stream: &mut TcpStream, buffer: &mut [u8], i: usize) -> usize {
    let mut total = 0;
    loop {
        match stream.read(buffer) {
            Ok(0) => panic!("the server closed connection {i}"),
            Ok(n) => total += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return total,
            Err(e) => panic!("read: {e}"),
        }
    }
}

struct EchoResult {
    requests: u64,
    seconds: f64,
    latencies: Vec<u32>,
    server_cpu: f64,
}

/// 100 connections, each sending a request as soon as the last one came
/// back; latencies in microseconds.
fn echo_rr(server: &Server, connections: usize, duration: Duration) -> EchoResult {
    const SIZE: usize = 32;
    let address: SocketAddr = ([127, 0, 0, 1], server.port).into();
    let mut poll = Poll::new().expect("poll");
    let mut streams = connect_all(&mut poll, address, connections, connections);
    let request = [b'x'; SIZE];
    let mut sent_at = vec![Instant::now(); connections];
    let mut received = vec![0usize; connections];
    let mut latencies = Vec::with_capacity(1 << 20);
    let cpu_before = server.cpu_seconds();
    let start = Instant::now();
    for (i, stream) in streams.iter_mut().enumerate() {
        stream.write_all(&request).expect("first request");
        sent_at[i] = Instant::now();
    }
    let mut events = Events::with_capacity(1024);
    let mut buffer = [0u8; 4096];
    let end = start + duration;
    while Instant::now() < end {
        poll.poll(&mut events, Some(Duration::from_millis(10))).expect("poll");
        for event in events.iter() {
            let i = event.token().0;
            if !event.is_readable() {
                continue;
            }
            received[i] += drain(&mut streams[i], &mut buffer, i);
            while received[i] >= SIZE {
                received[i] -= SIZE;
                let now = Instant::now();
                latencies.push(now.duration_since(sent_at[i]).as_micros().min(u128::from(u32::MAX)) as u32);
                if now < end {
                    streams[i].write_all(&request).expect("request");
                    sent_at[i] = now;
                }
            }
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let server_cpu = server.cpu_seconds() - cpu_before;
    streams.iter().for_each(abort);
    latencies.sort_unstable();
    EchoResult { requests: latencies.len() as u64, seconds, latencies, server_cpu }
}

/// Round trips of 32 bytes on one connection, one after another, on the
/// blocking std socket: microseconds each.
fn round_trips(port: u16, count: usize) -> Vec<u32> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_nodelay(true).expect("nodelay");
    let request = [b'r'; 32];
    let mut reply = [0u8; 32];
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        stream.write_all(&request).expect("send");
        stream.read_exact(&mut reply).expect("echo");
        latencies.push(start.elapsed().as_micros() as u32);
    }
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    latencies.sort_unstable();
    latencies
}

/// The kernel's round trip: an echo thread with blocking reads and writes.
fn bare_echo() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            std::thread::spawn(move || {
                let mut buffer = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buffer) {
                    if n == 0 || stream.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

struct HoldResult {
    connections: usize,
    baseline_kb: u64,
    held_kb: u64,
    peak_kb: u64,
    latencies: Vec<u32>,
    lost: u64,
}

/// `count` connections held open for `duration`, each sending 16 bytes a
/// second (spread over the second by connection number).
fn conn_hold(server: &Server, count: usize, duration: Duration) -> HoldResult {
    const SIZE: usize = 16;
    let address: SocketAddr = ([127, 0, 0, 1], server.port).into();
    std::thread::sleep(Duration::from_millis(500));
    let baseline_kb = server.rss_kb().0;
    let mut poll = Poll::new().expect("poll");
    let mut streams = connect_all(&mut poll, address, count, 500);
    // Let the server start every handler before measuring its memory.
    std::thread::sleep(Duration::from_secs(2));
    let held_kb = server.rss_kb().0;
    let message = [b'm'; SIZE];
    let mut sent_at: Vec<Option<Instant>> = vec![None; count];
    let mut received = vec![0usize; count];
    let mut latencies = Vec::with_capacity(count * duration.as_secs() as usize);
    let mut sent = 0u64;
    let mut events = Events::with_capacity(4096);
    let mut buffer = [0u8; 1024];
    // Connection i sends at millisecond (i % 1000) of every second.
    let mut by_phase: HashMap<usize, Vec<usize>> = HashMap::new();
    for i in 0..count {
        by_phase.entry(i % 1000).or_default().push(i);
    }
    let start = Instant::now();
    let end = start + duration;
    let mut next_ms = 0u64;
    loop {
        let now = Instant::now();
        let elapsed_ms = now.duration_since(start).as_millis() as u64;
        while next_ms <= elapsed_ms && now < end {
            for &i in by_phase.get(&((next_ms % 1000) as usize)).map_or(&[][..], Vec::as_slice) {
                // A connection whose last answer has not come yet skips a turn.
                if sent_at[i].is_none() {
                    streams[i].write_all(&message).expect("send");
                    sent_at[i] = Some(Instant::now());
                    sent += 1;
                }
            }
            next_ms += 1;
        }
        let outstanding = sent_at.iter().any(Option::is_some);
        if now >= end && (!outstanding || now > end + Duration::from_secs(5)) {
            break;
        }
        poll.poll(&mut events, Some(Duration::from_millis(1))).expect("poll");
        for event in events.iter() {
            let i = event.token().0;
            if !event.is_readable() {
                continue;
            }
            received[i] += drain(&mut streams[i], &mut buffer, i);
            while received[i] >= SIZE {
                received[i] -= SIZE;
                if let Some(at) = sent_at[i].take() {
                    latencies.push(at.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                }
            }
        }
    }
    let (_, peak_kb) = server.rss_kb();
    let lost = sent - latencies.len() as u64;
    streams.iter().for_each(abort);
    drop(streams);
    latencies.sort_unstable();
    HoldResult { connections: count, baseline_kb, held_kb, peak_kb, latencies, lost }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let quick = args.iter().any(|a| a == "--quick");
    let vm_only = args.iter().any(|a| a == "--vm-only");
    let mut names: Vec<&str> = args.iter().map(String::as_str).filter(|a| !a.starts_with("--")).collect();
    if names.is_empty() {
        names = vec!["echo_rr", "conn_hold", "rtt"];
    }
    let have_erl = Command::new("erlc").arg("-help").output().is_ok();
    if !have_erl && !vm_only {
        println!("(erl is not installed: only the VM is measured)");
    }
    let servers: Vec<&'static str> = if have_erl && !vm_only { vec!["erl", "vm"] } else { vec!["vm"] };
    let work: PathBuf = std::env::temp_dir().join(format!("vm-net-bench-{}", std::process::id()));
    std::fs::create_dir_all(&work).expect("a work folder");

    for name in names {
        match name {
            "echo_rr" => {
                let (connections, duration) = (100, Duration::from_secs(if quick { 3 } else { 10 }));
                println!("echo_rr: {connections} connections, 32-byte requests, {} s", duration.as_secs());
                println!(
                    "{:<6} {:>10} {:>10} {:>9} {:>9} {:>9} {:>10}",
                    "server", "requests", "req/s", "p50_ms", "p99_ms", "p999_ms", "cpu_s"
                );
                let mut rates = Vec::new();
                for &kind in &servers {
                    let server = Server::start(kind, &work);
                    let result = echo_rr(&server, connections, duration);
                    let rate = result.requests as f64 / result.seconds;
                    let l = &result.latencies;
                    println!(
                        "{:<6} {:>10} {:>10.0} {:>9.3} {:>9.3} {:>9.3} {:>10.2}",
                        server.name,
                        result.requests,
                        rate,
                        percentile(l, 0.50),
                        percentile(l, 0.99),
                        percentile(l, 0.999),
                        result.server_cpu
                    );
                    rates.push((rate, percentile(l, 0.99)));
                    let threads: Vec<String> = server.thread_cpu().iter().map(|(n, s)| format!("{n} {s:.2}")).collect();
                    println!("       cpu by thread: {}", threads.join(", "));
                }
                if let [(erl_rate, erl_p99), (vm_rate, vm_p99)] = rates[..] {
                    println!(
                        "vm/erl: throughput {:.2} (goal >= 1.0), p99 {:.2} (goal <= 1.0)",
                        vm_rate / erl_rate,
                        vm_p99 / erl_p99
                    );
                }
                println!();
            }
            "conn_hold" => {
                let (count, duration) =
                    if quick { (2_000, Duration::from_secs(5)) } else { (19_000, Duration::from_secs(30)) };
                println!("conn_hold: {count} connections, 16 bytes a second each, {} s", duration.as_secs());
                println!(
                    "{:<6} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>6}",
                    "server",
                    "conns",
                    "base_MB",
                    "held_MB",
                    "peak_MB",
                    "KB/conn",
                    "peak_KB/c",
                    "p50_ms",
                    "p99_ms",
                    "lost"
                );
                let mut per_connection = Vec::new();
                for &kind in &servers {
                    let server = Server::start(kind, &work);
                    let result = conn_hold(&server, count, duration);
                    let per = |kb: u64| kb.saturating_sub(result.baseline_kb) as f64 / result.connections as f64;
                    let kb_per_conn = per(result.held_kb);
                    let l = &result.latencies;
                    println!(
                        "{:<6} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>8.2} {:>9.2} {:>8.3} {:>8.3} {:>6}",
                        server.name,
                        result.connections,
                        result.baseline_kb as f64 / 1024.0,
                        result.held_kb as f64 / 1024.0,
                        result.peak_kb as f64 / 1024.0,
                        kb_per_conn,
                        per(result.peak_kb),
                        percentile(l, 0.50),
                        percentile(l, 0.99),
                        result.lost
                    );
                    per_connection.push((kb_per_conn, per(result.peak_kb), percentile(l, 0.99)));
                    // The reset connections leave the server's side to close.
                    std::thread::sleep(Duration::from_secs(1));
                }
                if let [(erl_kb, erl_peak, erl_p99), (vm_kb, vm_peak, vm_p99)] = per_connection[..] {
                    println!(
                        "vm/erl: memory per connection {:.2} held, {:.2} at peak (goal <= 0.5), p99 {:.2} (goal <= 1.0)",
                        vm_kb / erl_kb,
                        vm_peak / erl_peak,
                        vm_p99 / erl_p99
                    );
                }
                println!();
            }
            "rtt" => {
                let count = if quick { 5_000 } else { 20_000 };
                println!("rtt: 1 connection, {count} round trips of 32 bytes one after another");
                println!("{:<6} {:>9} {:>9} {:>9}", "server", "p50_us", "p99_us", "p999_us");
                let us = |l: &[u32], p: f64| percentile(l, p) * 1000.0;
                let bare = round_trips(bare_echo(), count);
                println!("{:<6} {:>9.0} {:>9.0} {:>9.0}", "kernel", us(&bare, 0.5), us(&bare, 0.99), us(&bare, 0.999));
                for &kind in &servers {
                    let server = Server::start(kind, &work);
                    let l = round_trips(server.port, count);
                    println!("{:<6} {:>9.0} {:>9.0} {:>9.0}", server.name, us(&l, 0.5), us(&l, 0.99), us(&l, 0.999));
                }
                println!();
            }
            other => println!("unknown benchmark {other:?} (echo_rr, conn_hold, rtt)"),
        }
    }
    let _ = std::fs::remove_dir_all(&work);
}
