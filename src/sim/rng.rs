//! Counter-based randomness: every draw is a pure function of (seed, tick, purpose, agent id).
//!
//! No generator state is carried between draws, so a query may visit enterprises in any order,
//! on any number of threads, and every enterprise still gets the same numbers. The mixer is the
//! splitmix64 finaliser (Steele, Lea & Flood 2014), which passes BigCrush when fed a counter.

/// What a draw is for; distinct purposes give independent streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Purpose {
    /// The four 16-bit event lanes of an enterprise-month (projects and reviews).
    Review = 1,
    /// Uniforms of moves forced by a withdrawn option.
    ForcedMove = 2,
    /// Uniforms of a cloud move review.
    CloudMove = 3,
    /// Uniforms of a new cloud project.
    CloudProject = 4,
    /// Uniforms of a new AI project.
    AiProject = 5,
    /// Uniforms of a review of the primary AI vendor.
    PrimaryReview = 6,
    /// Initial enterprise size.
    InitSize = 10,
    /// Initial cloud projects.
    InitHome = 11,
    /// Initial productivity suite.
    InitSuite = 12,
    /// Initial tenure with the primary vendor.
    InitTenure = 13,
    /// Initial AI projects.
    InitAi = 14,
    /// Seeds of runs within a sweep or comparison.
    RunSeed = 20,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The splitmix64 finaliser: a bijective 64-bit mixer.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The draws of one purpose in one tick: `bits(id)` for any agent id.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    key: u64,
}

/// Tick value used for draws made before the first tick (population set-up).
pub const SETUP_TICK: u32 = u32::MAX;

impl Stream {
    /// The stream for (seed, tick, purpose).
    pub fn new(seed: u64, tick: u32, purpose: Purpose) -> Stream {
        let k = mix64(seed ^ mix64(u64::from(tick).wrapping_mul(GOLDEN) ^ (purpose as u64) << 40));
        Stream {
            key: mix64(k.wrapping_add(GOLDEN)),
        }
    }

    /// 64 random bits for agent `id`.
    #[inline(always)]
    pub fn bits(&self, id: u64) -> u64 {
        mix64(self.key ^ id.wrapping_mul(GOLDEN))
    }

    /// `bits(id)` of every id in `ids`, into `out` (as long as `ids`): the same values as
    /// `bits`, integer operations being exact in any order. A loop over lanes of u64 without
    /// branches, for callers compiled with wide vectors (AVX-512 multiplies eight u64 at a time;
    /// with the portable build's SSE2 the vectorised multiplies are slower than scalar ones).
    #[inline(always)]
    pub fn bits_batch(&self, ids: &[u32], out: &mut [u64]) {
        for (o, &id) in out.iter_mut().zip(ids) {
            *o = self.bits(u64::from(id));
        }
    }

    /// A uniform in [0, 1) for agent `id` (53 random bits).
    #[inline(always)]
    pub fn unit(&self, id: u64) -> f64 {
        (self.bits(id) >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// Converts a probability into a threshold on 32 random bits: `(bits as u32) < threshold`
/// happens with probability `p` (p = 1 always, p = 0 never).
pub fn threshold32(p: f64) -> u64 {
    (p.clamp(0.0, 1.0) * 4_294_967_296.0).round() as u64
}

/// Seed of one run derived from a master seed and a (point, replicate) pair. Seeds are kept
/// below 2^63 so that every resolved config (and `--set run.seed=…`) can hold them: TOML
/// integers are signed 64-bit.
pub fn derive_seed(master: u64, point: u64, replicate: u64) -> u64 {
    Stream::new(master, point as u32, Purpose::RunSeed).bits(replicate ^ (point >> 32) << 32) >> 1
}

/// A seed as the tables write it next to its decimal form: `0x` and 16 lowercase hex digits
/// (`0x000000000000002a` for 42). Run seeds usually have 19 decimal digits, above 2^53, the
/// largest integer up to which a double holds every integer: tools that read CSV numbers as
/// doubles (spreadsheets, pandas' float columns, R, JavaScript) silently round the decimal
/// seed, while the hex form is a string to them and stays exact.
pub fn seed_hex(seed: u64) -> String {
    format!("0x{seed:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_depend_only_on_their_coordinates() {
        let a = Stream::new(7, 3, Purpose::Review);
        let b = Stream::new(7, 3, Purpose::Review);
        assert_eq!(a.bits(42), b.bits(42));
        assert_ne!(a.bits(42), a.bits(43));
        assert_ne!(a.bits(42), Stream::new(7, 4, Purpose::Review).bits(42));
        assert_ne!(a.bits(42), Stream::new(8, 3, Purpose::Review).bits(42));
        assert_ne!(a.bits(42), Stream::new(7, 3, Purpose::AiProject).bits(42));
    }

    #[test]
    fn batched_draws_are_the_single_draws() {
        let s = Stream::new(11, 2, Purpose::Review);
        let ids: Vec<u32> = (0..300u32).map(|i| i.wrapping_mul(2_654_435_761)).collect();
        let mut out = vec![0u64; ids.len()];
        s.bits_batch(&ids, &mut out);
        for (&id, &b) in ids.iter().zip(&out) {
            assert_eq!(b, s.bits(u64::from(id)));
        }
    }

    #[test]
    fn uniforms_are_uniform() {
        let s = Stream::new(1, 0, Purpose::AiProject);
        let n = 200_000u64;
        let mut bins = [0u32; 10];
        let mut sum = 0.0;
        for id in 0..n {
            let u = s.unit(id);
            assert!((0.0..1.0).contains(&u));
            bins[(u * 10.0) as usize] += 1;
            sum += u;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.003);
        for b in bins {
            assert!((f64::from(b) / n as f64 - 0.1).abs() < 0.003, "{bins:?}");
        }
    }

    #[test]
    fn thresholds_match_probabilities() {
        assert_eq!(threshold32(0.0), 0);
        assert_eq!(threshold32(1.0), 1 << 32);
        let s = Stream::new(3, 5, Purpose::Review);
        let t = threshold32(0.08);
        let hits = (0..100_000u64).filter(|&id| (s.bits(id) as u32 as u64) < t).count();
        assert!((hits as f64 / 1e5 - 0.08).abs() < 0.003, "{hits}");
    }

    #[test]
    fn derived_run_seeds_differ_by_point_and_replicate() {
        let s = derive_seed(1, 0, 0);
        assert_eq!(s, derive_seed(1, 0, 0));
        assert_ne!(s, derive_seed(1, 0, 1));
        assert_ne!(s, derive_seed(1, 1, 0));
        assert_ne!(s, derive_seed(2, 0, 0));
        assert!((0..1000).all(|r| derive_seed(u64::MAX, 7, r) <= i64::MAX as u64));
    }
}
