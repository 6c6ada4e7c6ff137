//! The `vm` command: the user's entry point to the compiler and (from issue 3
//! on) the virtual machine. It parses the command line with `clap`, reads
//! files, and prints what the compiler returns; it holds no language logic.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "vm", version, about = "An Erlang-like actor VM: compile and run .actor programs")]
struct Cli {
    /// Without a command: the shell, as `vm repl`.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile only: check each file and print its errors and warnings.
    ///
    /// Exits with status 0 when no file has an error, 1 otherwise.
    Check {
        /// The `.actor` files to check.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// When to colour diagnostics.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// Run a program: compile FILE (and its folder's modules on use) and call
    /// its main/0, or main/1 with the arguments after `--` as strings.
    Run {
        /// The program's `.actor` file.
        file: PathBuf,
        /// Scheduler threads (default: one per core).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        schedulers: Option<u16>,
        /// The most processes alive at once, as erl's `+P`: past it,
        /// `spawn` raises system_limit (default: 134217727, BEAM's largest).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=134_217_727))]
        max_processes: Option<u32>,
        /// The most memory one process's heap and stack may take, in MB:
        /// past it the process is killed (reason `killed`) and the VM goes
        /// on (default: a quarter of the memory the VM may use).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
        max_process_memory: Option<u32>,
        /// Name the VM: it listens on a control socket of that name, for
        /// `vm load NAME` and `vm remote NAME`.
        #[arg(long)]
        name: Option<String>,
        /// Load a module again whenever its source file in the program's
        /// folder changes (hot loading, as `vm load`).
        #[arg(long)]
        watch: bool,
        /// Arguments for main/1.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Compile modules and load them into the running VM named NAME (started
    /// with `vm run --name NAME`), which goes on running: processes move to
    /// the new code at their next call by module name.
    ///
    /// Refused while a process still runs the version before the current
    /// one, unless `--purge`, which kills such processes (as `code:purge/1`).
    Load {
        /// The VM's name.
        name: String,
        /// The `.actor` files of the modules.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Kill processes still running the old code that must go.
        #[arg(long)]
        purge: bool,
        /// When to colour diagnostics.
        #[arg(long, value_enum, default_value_t = Color::Auto)]
        color: Color,
    },
    /// A shell evaluating inside the running VM named NAME (started with
    /// `vm run --name NAME`). Ctrl-D leaves it and the VM runs on.
    Remote {
        /// The VM's name.
        name: String,
    },
    /// The interactive shell (also what `vm` alone starts): evaluates
    /// expressions as erl's shell does. Reads from a pipe without prompts.
    Repl {
        /// Scheduler threads (default: one per core).
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
        schedulers: Option<u16>,
    },
    /// Compile a source file into a module file.
    Compile {
        /// The `.actor` source.
        file: PathBuf,
        /// Where to write the module (default: the source with `.actb`).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print a readable listing of a module's bytecode.
    Disasm {
        /// A `.actor` source (compiled first) or a compiled `.actb` module.
        file: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    /// Colour when standard error is a terminal.
    Auto,
    Always,
    Never,
}

impl Color {
    /// Whether diagnostics on standard error are coloured.
    fn enabled(self) -> bool {
        match self {
            Color::Auto => std::io::stderr().is_terminal(),
            Color::Always => true,
            Color::Never => false,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Repl { schedulers: None });
    let cores = || std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    match command {
        Command::Check { files, color } => check(&files, color.enabled()),
        Command::Run { file, args, schedulers, max_processes, max_process_memory, name, watch } => {
            let options = vm::runner::Options {
                schedulers: schedulers.map_or_else(cores, usize::from),
                max_processes: max_processes.map_or(vm::scheduler::DEFAULT_MAX_PROCESSES, |n| n as usize),
                max_process_memory: max_process_memory.map(|mb| mb as usize * 1024 * 1024),
                name,
                watch,
            };
            ExitCode::from(vm::runner::run(&file, &args, &options).clamp(0, 255) as u8)
        }
        Command::Load { name, files, purge, color } => {
            ExitCode::from(vm::control::load_files(&name, &files, purge, color.enabled()).clamp(0, 255) as u8)
        }
        Command::Remote { name } => ExitCode::from(vm::repl::remote(&name).clamp(0, 255) as u8),
        Command::Repl { schedulers } => {
            let schedulers = schedulers.map_or_else(cores, usize::from);
            ExitCode::from(vm::repl::run(schedulers).clamp(0, 255) as u8)
        }
        Command::Compile { file, output } => match compile_file(&file) {
            Ok(module) => {
                let output = output.unwrap_or_else(|| file.with_extension("actb"));
                match std::fs::write(&output, compiler::bytecode::format::encode(&module)) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(error) => {
                        eprintln!("{}: cannot write: {error}", output.display());
                        ExitCode::FAILURE
                    }
                }
            }
            Err(code) => code,
        },
        Command::Disasm { file } => match load_module(&file) {
            Ok(module) => {
                // A reader that stops early (`vm disasm F | head`) is not an
                // error worth more than the exit status.
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                match write!(out, "{module}").and_then(|()| out.flush()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::FAILURE,
                    Err(error) => {
                        eprintln!("vm disasm: cannot write: {error}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(code) => code,
        },
    }
}

/// Compiles a source file, printing its diagnostics to stderr.
fn compile_file(path: &Path) -> Result<compiler::bytecode::Module, ExitCode> {
    let name = path.display().to_string();
    let source = read_source(path).map_err(|message| {
        eprintln!("{name}: {message}");
        ExitCode::FAILURE
    })?;
    let options = compiler::Options { expected_module: module_name_of(path) };
    let (module, diagnostics) = compiler::compile_with_stack(&source, &name, &options);
    let color = std::io::stderr().is_terminal();
    eprint!("{}", compiler::diagnostic::render(&name, &source, &diagnostics, color));
    module.ok_or(ExitCode::FAILURE)
}

/// A module from a source file (compiled) or a module file (decoded and verified).
fn load_module(path: &Path) -> Result<compiler::bytecode::Module, ExitCode> {
    if path.extension().is_some_and(|e| e == "actor") {
        return compile_file(path);
    }
    let bytes = std::fs::read(path).map_err(|error| {
        eprintln!("{}: cannot read: {error}", path.display());
        ExitCode::FAILURE
    })?;
    let module = compiler::bytecode::format::decode(&bytes).map_err(|error| {
        eprintln!("{}: {error}", path.display());
        ExitCode::FAILURE
    })?;
    compiler::bytecode::verify::verify(&module).map_err(|error| {
        eprintln!("{}: {error}", path.display());
        ExitCode::FAILURE
    })?;
    Ok(module)
}

fn check(files: &[PathBuf], color: bool) -> ExitCode {
    let mut failed = false;
    for path in files {
        let name = path.display().to_string();
        let source = match read_source(path) {
            Ok(source) => source,
            Err(message) => {
                eprintln!("{name}: {message}");
                failed = true;
                continue;
            }
        };
        let options = compiler::Options { expected_module: module_name_of(path) };
        let (report, has_errors) = compiler::check_with_stack(&source, &name, &options, |compiled| {
            (compiler::diagnostic::render(&name, &source, &compiled.diagnostics, color), compiled.has_errors())
        });
        eprint!("{report}");
        failed |= has_errors;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn read_source(path: &Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|error| format!("cannot read: {error}"))?;
    String::from_utf8(bytes).map_err(|error| {
        format!(
            "not UTF-8 text (invalid byte at offset {}); .actor sources are UTF-8",
            error.utf8_error().valid_up_to()
        )
    })
}

/// The module a file must declare: its name without the `.actor` extension.
fn module_name_of(path: &Path) -> Option<String> {
    path.file_stem().and_then(|stem| stem.to_str()).map(str::to_owned)
}
