//! The `aimarket` binary: a thin shell over the library's CLI.

fn main() -> std::process::ExitCode {
    aimarket::cli::main_entry()
}
