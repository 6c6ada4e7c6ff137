//! Lines into the shell's reader: how the line editor decides a form is
//! complete, how the text is cut into forms, and the compilation of each
//! form against some bound variables. Any text gives steps or diagnostics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = compiler::shell::is_complete(text);
    let bound = ["X".to_owned(), "Y".to_owned()];
    let mut counter = 0;
    let mut name = move || {
        counter += 1;
        format!("shell_fuzz_{counter}")
    };
    for range in compiler::shell::forms(text) {
        let _ = compiler::shell::compile(&text[range], &bound, &mut name);
    }
});
