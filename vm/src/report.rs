//! Reports of things gone wrong (a crashed process, a server that ended
//! abnormally), written to standard error as erl's logger formats them,
//! and the logger's primary level that filters them
//! (`logger:set_primary_config(level, none)` silences them, as in erl).

use std::sync::atomic::{AtomicI8, Ordering};

/// The levels, most severe first, as `logger` numbers them.
pub const LEVELS: [&str; 8] = ["emergency", "alert", "critical", "error", "warning", "notice", "info", "debug"];

/// The primary level's index in [`LEVELS`] (-1: `none`); erl's default is
/// `notice`.
static LEVEL: AtomicI8 = AtomicI8::new(5);

/// The primary level's name.
pub fn level() -> &'static str {
    match LEVEL.load(Ordering::Relaxed) {
        -1 => "none",
        7 => "all",
        n => LEVELS.get(n as usize).copied().unwrap_or("notice"),
    }
}

/// Sets the primary level by name (a level, `all` or `none`); false if
/// there is no such level.
pub fn set_level(name: &str) -> bool {
    let index = match name {
        "none" => -1,
        "all" => 7,
        _ => match LEVELS.iter().position(|&l| l == name) {
            Some(i) => i as i8,
            None => return false,
        },
    };
    LEVEL.store(index, Ordering::Relaxed);
    true
}

/// Whether events of this level (an index in [`LEVELS`]) pass the primary level.
pub fn allows(level: usize) -> bool {
    (level as i64) <= i64::from(LEVEL.load(Ordering::Relaxed))
}

/// Writes an error report, if errors are logged.
pub fn error(text: &str) {
    write(3, "ERROR", text);
}

/// Writes a report of `level` under the heading `=KIND REPORT====`, its
/// text ended by a newline and then an empty line, as erl's.
pub fn write(level: usize, kind: &str, text: &str) {
    if !allows(level) {
        return;
    }
    let end = if text.ends_with('\n') { "\n" } else { "\n\n" };
    let report = format!("={kind} REPORT==== {} ===\n{text}{end}", timestamp());
    crate::console::write(crate::console::Stream::Err, report.as_bytes());
}

/// The report's time, as erl writes it (`28-Nov-2026::21:30:00.123456`), in UTC.
fn timestamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let seconds = now.as_secs();
    let (days, rest) = (seconds / 86_400, seconds % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!(
        "{day}-{}-{year}::{:02}:{:02}:{:02}.{:06}",
        MONTHS[(month - 1) as usize],
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        now.subsec_micros()
    )
}
