//! Memory per enterprise of a built world: a counting global allocator measures the live heap
//! bytes after `Simulation::new` (and after a few ticks) at a small N and at 10^5 and 10^6
//! enterprises; the small run's bytes are subtracted as fixed costs. Target: ≤ 100 bytes per
//! enterprise; the process exits non-zero above it. Run with `cargo bench --bench memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use aimarket::config;
use aimarket::sim::Simulation;

/// Bytes per enterprise the engine may use.
const TARGET_BYTES_PER_ENTERPRISE: f64 = 100.0;

/// Wraps the system allocator and keeps the number of live bytes and its peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let now = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grow(new_size - layout.size());
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Live bytes of a world of `n` enterprises after building it and after `ticks` ticks, and the
/// peak during the build (relative to the live bytes before it).
fn measure(n: u32, ticks: u32) -> (usize, usize, usize) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/baseline.toml");
    let config = config::load(&path, &[format!("run.enterprises={n}")]).expect("valid baseline");
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let mut sim = Simulation::new(&config);
    let built = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    for _ in 0..ticks {
        sim.step().expect("tick");
    }
    let after_ticks = LIVE.load(Ordering::Relaxed) - before;
    drop(sim);
    drop(config);
    (built, after_ticks, peak)
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; there is nothing to filter.
    let small = 1_000u32;
    let (small_built, small_ticked, _) = measure(small, 12);
    println!("fixed costs (N = {small}): {small_built} B built, {small_ticked} B after 12 ticks");
    let mut worst: f64 = 0.0;
    for n in [100_000u32, 1_000_000] {
        let (built, ticked, peak) = measure(n, 12);
        let extra = f64::from(n - small);
        let per_built = (built as f64 - small_built as f64) / extra;
        let per_ticked = (ticked as f64 - small_ticked as f64) / extra;
        let per_peak = peak as f64 / f64::from(n);
        println!(
            "N = {n:>9}: {built:>11} B live after build ({per_built:.1} B/enterprise), {ticked:>11} B after 12 ticks ({per_ticked:.1} B/enterprise), build peak {per_peak:.1} B/enterprise"
        );
        worst = worst.max(per_built).max(per_ticked);
    }
    if worst > TARGET_BYTES_PER_ENTERPRISE {
        println!("FAIL: {worst:.1} bytes per enterprise exceeds the target of {TARGET_BYTES_PER_ENTERPRISE}");
        ExitCode::FAILURE
    } else {
        println!("ok: at most {worst:.1} bytes per enterprise (target ≤ {TARGET_BYTES_PER_ENTERPRISE})");
        ExitCode::SUCCESS
    }
}
