//! The `aimarket` binary: a thin shell over the library's CLI.

/// mimalloc serves the month's small allocations (the price games' working state, the report's
/// rows) faster than glibc's malloc: about 20 % off a month at 10^4 enterprises, at the price of
/// more resident memory (README, Performance). The results do not depend on the allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    aimarket::cli::main_entry()
}
