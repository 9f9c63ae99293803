//! The `aimarket` binary: a thin shell over the library's CLI.

/// mimalloc serves the few thousand small allocations of a month (the price games' working
/// state, the report's rows) in a fraction of glibc's time; the results do not depend on it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    aimarket::cli::main_entry()
}
