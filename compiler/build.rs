//! Generates the LALRPOP parser from `src/grammar.lalrpop` into `OUT_DIR`.
fn main() {
    lalrpop::process_src().expect("the grammar must generate");
}
