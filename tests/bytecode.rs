//! The bytecode: every program the compiler handles compiles to a module
//! that verifies and survives encoding and decoding unchanged; a damaged
//! module file is refused with an error, never a crash; and the disassembly
//! of a small module is pinned by a snapshot.

mod support;

use std::path::PathBuf;

use compiler::bytecode::{format, verify};

/// Every fixture the code generator compiles (some use constructs it does not compile yet).
fn compiled_modules() -> Vec<(PathBuf, compiler::bytecode::Module)> {
    let root = support::root();
    let mut modules = Vec::new();
    let dirs = [
        "tests/bytecode",
        "tests/accept",
        "tests/parse",
        "tests/conformance",
        "stdlib",
        "examples",
        "../shared/bench/programs",
    ];
    for dir in dirs {
        for path in support::actor_files(&root.join(dir)) {
            let source = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let options =
                compiler::Options { expected_module: path.file_stem().map(|s| s.to_string_lossy().into_owned()) };
            if let (Some(module), _) = compiler::compile_with_stack(&source, &name, &options) {
                modules.push((path, module));
            }
        }
    }
    assert!(modules.len() >= 10, "only {} fixtures compiled", modules.len());
    modules
}

#[test]
fn modules_verify_and_round_trip_through_the_file_format() {
    for (path, module) in compiled_modules() {
        verify::verify(&module).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let bytes = format::encode(&module);
        let decoded = format::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(decoded, module, "{}", path.display());
    }
}

#[test]
fn damaged_module_files_are_refused_without_a_crash() {
    let (_, module) = compiled_modules().into_iter().find(|(p, _)| p.ends_with("small.actor")).unwrap();
    let bytes = format::encode(&module);
    let mut refused = 0;
    for cut in 0..bytes.len() {
        assert!(format::decode(&bytes[..cut]).is_err(), "a file cut at {cut} bytes was accepted");
        refused += 1;
    }
    // Flip each bit of each byte: decoding or verification must refuse or accept, never panic.
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[i] ^= 1 << bit;
            if let Ok(decoded) = format::decode(&damaged) {
                let _ = verify::verify(&decoded);
            } else {
                refused += 1;
            }
        }
    }
    assert!(refused > bytes.len(), "damage must be noticed");
}

#[test]
fn the_verifier_refuses_code_that_breaks_its_rules() {
    use compiler::bytecode::{Instruction as I, Reg, Src};
    let (_, module) = compiled_modules().into_iter().find(|(p, _)| p.ends_with("small.actor")).unwrap();
    // Damage lands just after a frame is made.
    let entry = module.code.iter().position(|i| matches!(i, I::Allocate { .. })).unwrap();
    type Damage = Box<dyn Fn(&mut compiler::bytecode::Module)>;
    let cases: Vec<(&str, Damage)> = vec![
        (
            "y register outside the frame",
            Box::new(move |m| m.code.insert(entry + 1, I::Move { src: Src::Reg(Reg::Y(999)), dst: Reg::X(0) })),
        ),
        ("return inside a frame", Box::new(move |m| m.code[entry + 1] = I::Return {})),
        (
            "jump out of range",
            Box::new(move |m| m.code[entry + 1] = I::Jump { target: compiler::bytecode::Label(100_000) }),
        ),
        (
            "missing literal",
            Box::new(move |m| m.code.insert(entry + 1, I::Move { src: Src::Literal(9_999), dst: Reg::X(0) })),
        ),
        (
            "missing import",
            Box::new(move |m| {
                m.code.insert(entry + 1, I::CallExt { arity: 0, import: compiler::bytecode::Import(9_999) })
            }),
        ),
    ];
    // A last function that is only its FuncInfo: its entry would be past the code.
    let mut bodiless = module.clone();
    let last = bodiless.functions.last().unwrap().start.0 as usize;
    bodiless.code.truncate(last + 1);
    bodiless.lines.retain(|&(pc, _)| (pc as usize) < bodiless.code.len());
    assert!(verify::verify(&bodiless).is_err(), "the verifier accepted a function without code");
    for (what, damage) in cases {
        let mut damaged = module.clone();
        damage(&mut damaged);
        // Keep the function table consistent with inserted instructions.
        let inserted = damaged.code.len() - module.code.len();
        for function in damaged.functions.iter_mut().filter(|f| f.start.0 as usize > entry) {
            function.start.0 += inserted as u32;
        }
        assert!(verify::verify(&damaged).is_err(), "the verifier accepted: {what}");
    }
}

#[test]
fn disassembly_snapshot() {
    let (_, module) = compiled_modules().into_iter().find(|(p, _)| p.ends_with("small.actor")).unwrap();
    insta::assert_snapshot!(module.to_string());
}
