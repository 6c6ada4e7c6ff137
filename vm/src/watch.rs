//! `vm run --watch`: when the source of a loaded module in the program's
//! folder changes, it is compiled and loaded into the running VM, as
//! `vm load` would (refused, with a message, while a process still runs
//! the version before the current one). File events come from the OS
//! (`notify`: inotify on Linux); a burst of them (an editor saving writes
//! more than once) is handled once, and a file whose text did not change
//! is left alone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::atom;
use crate::code::Source;
use crate::control::Upload;
use crate::scheduler::Runtime;

/// How long a burst of events is gathered before it is handled.
const SETTLE: Duration = Duration::from_millis(100);

/// Starts watching `folder` for the life of the VM.
pub fn start(runtime: &'static Runtime, folder: &Path) -> Result<(), String> {
    let (sender, events) = mpsc::channel::<notify::Result<notify::Event>>();
    let mut watcher = notify::recommended_watcher(sender).map_err(|e| e.to_string())?;
    watcher.watch(folder, RecursiveMode::NonRecursive).map_err(|e| e.to_string())?;
    std::thread::Builder::new()
        .name("watch".to_owned())
        .spawn(move || {
            // Owned by the thread: watching lasts as long as it runs.
            let _watcher = watcher;
            while let Ok(first) = events.recv() {
                let mut changed = BTreeSet::new();
                let mut add = |event: notify::Result<notify::Event>| {
                    if let Ok(event) = event {
                        if matches!(event.kind, notify::EventKind::Modify(_) | notify::EventKind::Create(_)) {
                            changed.extend(
                                event.paths.into_iter().filter(|p| p.extension().is_some_and(|e| e == "actor")),
                            );
                        }
                    }
                };
                add(first);
                while let Ok(event) = events.recv_timeout(SETTLE) {
                    add(event);
                }
                for path in changed {
                    reload(runtime, &path);
                }
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn say(text: &str) {
    for line in text.lines() {
        crate::console::write(crate::console::Stream::Err, format!("vm --watch: {line}\n").as_bytes());
    }
}

/// Loads the module of `path` again if it is loaded and its text changed.
fn reload(runtime: &'static Runtime, path: &PathBuf) {
    let Some(name) = path.file_stem().and_then(|s| s.to_str()) else { return };
    let Ok(module) = atom::intern(name) else { return };
    if runtime.code.loaded_version(module).is_none() {
        return;
    }
    let Ok(text) = std::fs::read_to_string(path) else { return };
    if runtime.code.source(name).is_some_and(|known| known.text == text) {
        return;
    }
    let source = Source { file_name: path.display().to_string(), text };
    let Some(module) = crate::natives::compile(name, &source, crate::console::Stream::Err) else {
        say(&format!("{name} not loaded: it does not compile"));
        return;
    };
    let upload = Upload { name: name.to_owned(), file: source.file_name, source: source.text, module };
    let (_, report) = crate::control::load(runtime, vec![upload], false);
    say(&report);
}
