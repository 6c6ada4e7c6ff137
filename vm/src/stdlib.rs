//! The standard library modules written in `.actor` (`stdlib/`), embedded in
//! the binary and compiled the first time a program calls them.

use crate::code::{CodeServer, Source};

/// `(module, file name, source)` of each embedded module.
const MODULES: &[(&str, &str, &str)] = &[
    ("dict", "dict.actor", include_str!("../../stdlib/dict.actor")),
    ("lists", "lists.actor", include_str!("../../stdlib/lists.actor")),
    ("maps", "maps.actor", include_str!("../../stdlib/maps.actor")),
    ("orddict", "orddict.actor", include_str!("../../stdlib/orddict.actor")),
    ("string", "string.actor", include_str!("../../stdlib/string.actor")),
    ("ordsets", "ordsets.actor", include_str!("../../stdlib/ordsets.actor")),
    ("queue", "queue.actor", include_str!("../../stdlib/queue.actor")),
    ("rand", "rand.actor", include_str!("../../stdlib/rand.actor")),
    ("sets", "sets.actor", include_str!("../../stdlib/sets.actor")),
    ("timer", "timer.actor", include_str!("../../stdlib/timer.actor")),
    ("proplists", "proplists.actor", include_str!("../../stdlib/proplists.actor")),
    ("gen", "gen.actor", include_str!("../../stdlib/gen.actor")),
    ("proc_lib", "proc_lib.actor", include_str!("../../stdlib/proc_lib.actor")),
    ("gen_server", "gen_server.actor", include_str!("../../stdlib/gen_server.actor")),
    ("sys", "sys.actor", include_str!("../../stdlib/sys.actor")),
    ("supervisor", "supervisor.actor", include_str!("../../stdlib/supervisor.actor")),
    ("ets", "ets.actor", include_str!("../../stdlib/ets.actor")),
    ("shell", "shell.actor", include_str!("../../stdlib/shell.actor")),
    ("shell_default", "shell_default.actor", include_str!("../../stdlib/shell_default.actor")),
    ("c", "c.actor", include_str!("../../stdlib/c.actor")),
    ("code", "code.actor", include_str!("../../stdlib/code.actor")),
    ("gen_tcp", "gen_tcp.actor", include_str!("../../stdlib/gen_tcp.actor")),
    ("inet", "inet.actor", include_str!("../../stdlib/inet.actor")),
];

/// Makes every standard library module available to `code`.
pub fn register(code: &CodeServer) {
    for &(name, file, text) in MODULES {
        code.add_source(name, Source { file_name: file.to_owned(), text: text.to_owned() });
    }
}
