//! Phase 4 — enterprises: new projects, cloud moves, primary reviews and forced moves
//! (`econ::portfolio::step`).
//!
//! This is the hot path: it visits every enterprise every month. It reads the enterprise
//! component as slices (bevy's contiguous access) and does, per enterprise, one hash for the
//! four event lanes and, only for the few with an event, one more hash and an O(channels) walk
//! of the choice tables. On CPUs with AVX-512 the lanes are drawn eight enterprises at a time
//! (`lanes_wide`, chosen at run time: the crate's only `unsafe`, a call of a `target_feature`
//! function after the CPU's features are checked). With `run --threads N` the slices are cut
//! into chunks reviewed in parallel; each chunk tallies in integers and the tallies are merged
//! in chunk order, so the results are the same for any thread count.

use bevy_ecs::prelude::*;
use rayon::prelude::*;

use crate::econ::portfolio::{self, EventDraws, LaneTest, Portfolio, StepTables, TENURE_CLAMP, Tally};
use crate::sim::agents::Enterprise;
use crate::sim::resources::{Clock, Holdings, Layout, MarketView, WithinRun};
use crate::sim::rng::{Purpose, Stream};

/// Enterprises per parallel chunk: large enough that scheduling costs nothing, small enough to
/// balance two to sixteen threads on 10^5–10^6 enterprises.
const CHUNK: usize = 16_384;

/// The counter-based streams of one tick.
struct TickDraws {
    lanes: Stream,
    events: [Stream; 5],
}

impl TickDraws {
    fn new(seed: u64, tick: u32) -> TickDraws {
        TickDraws {
            lanes: Stream::new(seed, tick, Purpose::Review),
            events: [
                Stream::new(seed, tick, Purpose::ForcedMove),
                Stream::new(seed, tick, Purpose::CloudProject),
                Stream::new(seed, tick, Purpose::CloudMove),
                Stream::new(seed, tick, Purpose::AiProject),
                Stream::new(seed, tick, Purpose::PrimaryReview),
            ],
        }
    }
}

/// One enterprise's event draws.
struct Draws<'a> {
    streams: &'a [Stream; 5],
    id: u64,
}

impl EventDraws for Draws<'_> {
    #[inline]
    fn bits(&self, kind: u32) -> u64 {
        self.streams[kind as usize].bits(self.id)
    }
}

/// Enterprises whose lanes are tested before their events are stepped.
const BATCH: usize = 256;

/// Steps a block of enterprises, tallying into `tally`.
fn step_block(block: &mut [Enterprise], draws: &TickDraws, tables: &StepTables, tally: &mut Tally) {
    if tables.withdrawals {
        // Rare months: the held options are checked against the offers too.
        for e in block {
            let p: &mut Portfolio = &mut e.0;
            let id = u64::from(p.id);
            let d = Draws {
                streams: &draws.events,
                id,
            };
            portfolio::step(p, draws.lanes.bits(id), &d, tables, tally);
        }
        return;
    }
    // Without withdrawals only the lanes decide whether anything happens. The lanes of a batch
    // are tested without a branch per enterprise (about one in six has an event, at random: a
    // branch per enterprise would be mispredicted that often), and the enterprises with events
    // are stepped afterwards, in the same order and with the same draws as `step`.
    #[cfg(target_arch = "x86_64")]
    if wide_lanes() {
        step_batches_wide(block, draws, tables, tally);
        return;
    }
    step_batches(block, draws, tables, tally);
}

/// The batches of [`step_block`] in one pass each: an enterprise's lanes are drawn, tested and,
/// with an event, listed for the second pass.
fn step_batches(block: &mut [Enterprise], draws: &TickDraws, tables: &StepTables, tally: &mut Tally) {
    let mut hit = [0u16; BATCH];
    let mut hit_lanes = [0u64; BATCH];
    for batch in block.chunks_mut(BATCH) {
        let mut n = 0;
        for (i, e) in batch.iter().enumerate() {
            let lanes = draws.lanes.bits(u64::from(e.0.id));
            hit[n] = i as u16;
            hit_lanes[n] = lanes;
            n += usize::from(tables.lanes.any(lanes));
        }
        for (&i, &lanes) in hit[..n].iter().zip(&hit_lanes[..n]) {
            let p: &mut Portfolio = &mut batch[usize::from(i)].0;
            let d = Draws {
                streams: &draws.events,
                id: u64::from(p.id),
            };
            portfolio::step_events(p, lanes, &d, tables, tally);
        }
        tally.enterprises += batch.len() as u64;
    }
}

/// Whether the CPU has the vectors for [`lanes_wide`] (AVX-512 F and DQ: 64-bit multiplies,
/// eight at a time). Detected at run time: the portable build targets SSE2, whose vectorised
/// 64-bit multiplies are slower than scalar ones.
#[cfg(target_arch = "x86_64")]
fn wide_lanes() -> bool {
    std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512dq")
}

/// The batches of [`step_block`] with their lanes drawn and tested by [`lanes_wide`]: the same
/// enterprises stepped, in the same order, with the same lanes as [`step_batches`].
#[cfg(target_arch = "x86_64")]
fn step_batches_wide(block: &mut [Enterprise], draws: &TickDraws, tables: &StepTables, tally: &mut Tally) {
    let mut ids = [0u32; BATCH];
    let mut lanes = [0u64; BATCH];
    let mut hits = [0u64; BATCH / 64];
    for batch in block.chunks_mut(BATCH) {
        let n = batch.len();
        for (id, e) in ids.iter_mut().zip(batch.iter()) {
            *id = e.0.id;
        }
        // SAFETY: the one requirement of calling a `target_feature` function is that the CPU
        // has its features; `step_block` calls this only when `wide_lanes` found them.
        unsafe { lanes_wide(&draws.lanes, &tables.lanes, &ids[..n], &mut lanes[..n], &mut hits) };
        for (w, &word) in hits.iter().enumerate().take(n.div_ceil(64)) {
            let mut word = word;
            while word != 0 {
                let i = w * 64 + word.trailing_zeros() as usize;
                word &= word - 1;
                let d = Draws {
                    streams: &draws.events,
                    id: u64::from(ids[i]),
                };
                portfolio::step_events(&mut batch[i].0, lanes[i], &d, tables, tally);
            }
        }
        tally.enterprises += n as u64;
    }
}

/// The lanes of `ids` into `lanes` and their test into `hits` (bit i of word w for enterprise
/// 64·w + i), compiled for AVX-512: the two loops, without branches, are vectorised eight
/// enterprises at a time (with the copy of the ids, some 8 instructions per enterprise against
/// the scalar pass's 37).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
fn lanes_wide(stream: &Stream, test: &LaneTest, ids: &[u32], lanes: &mut [u64], hits: &mut [u64; BATCH / 64]) {
    stream.bits_batch(ids, lanes);
    hits.fill(0);
    for (h, words) in hits.iter_mut().zip(lanes.chunks(64)) {
        *h = test.any_mask(words);
    }
}

/// What the previous month's enterprise phase left: the options then offered and how many
/// enterprises stayed on a withdrawn one. Every option an enterprise takes is offered that
/// month and forced moves clear the rest, so an enterprise can hold an option not offered now
/// only if an option offered last month is withdrawn or one was left stranded.
#[derive(Default)]
pub struct LastMonth {
    /// Set after the first month of this system.
    seen: bool,
    offered: Vec<bool>,
    stranded: u64,
}

impl LastMonth {
    /// Whether this month's offers can find an enterprise on an option not offered.
    fn withdrawals(&self, offered: &[bool]) -> bool {
        !self.seen
            || self.stranded > 0
            || self.offered.len() != offered.len()
            || self.offered.iter().zip(offered).any(|(&was, &is)| was && !is)
    }
}

/// Phase 4 system: every enterprise's month.
pub fn review_sourcing(
    view: Res<MarketView>,
    clock: Res<Clock>,
    layout: Res<Layout>,
    within: Res<WithinRun>,
    mut holdings: ResMut<Holdings>,
    mut enterprises: Query<&mut Enterprise>,
    mut last: Local<LastMonth>,
) {
    let draws = TickDraws::new(clock.seed, clock.tick);
    let slot_lab: Vec<u8> = (0..layout.slots.n_slots())
        .map(|k| layout.slots.split(k).1 as u8)
        .collect();
    let tables = StepTables {
        cloud: &view.cloud,
        ai: &view.choice,
        offered: &view.offered,
        withdrawals: last.withdrawals(&view.offered),
        stay_factor: &view.stay_factor,
        n_labs: layout.n_labs(),
        slot_lab: &slot_lab,
        n_providers: layout.n_providers(),
        now: clock.tick,
        thresholds: view.thresholds,
        lanes: LaneTest::new(&view.thresholds),
        cloud_project_size: view.cloud_project_size,
        ai_project_size: view.ai_project_size,
        move_share: view.cloud_move_share,
    };
    let (n_p, n_slots) = (layout.n_providers(), layout.slots.n_slots());
    let mut total = Tally::new(n_p, n_slots);
    let blocks = enterprises
        .contiguous_iter_mut()
        .expect("enterprise components use dense table storage");
    for mut block in blocks {
        let slice: &mut [Enterprise] = block.bypass_change_detection();
        if clock.tick > 0 && clock.tick.is_multiple_of(TENURE_CLAMP) {
            // Tenures are 16-bit differences to the tick; this keeps them from wrapping.
            slice.iter_mut().for_each(|e| e.0.clamp_tenure(clock.tick));
        }
        match &within.pool {
            None => step_block(slice, &draws, &tables, &mut total),
            Some(pool) => {
                let tallies: Vec<Tally> = pool.install(|| {
                    slice
                        .par_chunks_mut(CHUNK)
                        .map(|chunk| {
                            let mut t = Tally::new(n_p, n_slots);
                            step_block(chunk, &draws, &tables, &mut t);
                            t
                        })
                        .collect()
                });
                for t in &tallies {
                    total.merge(t);
                }
            }
        }
    }
    last.seen = true;
    last.offered.clone_from(&view.offered);
    last.stranded = total.stranded;
    holdings.apply(total);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::econ::portfolio::{Thresholds, threshold16};

    /// The wide pass gives the lanes and the enterprises with events of the scalar pass, for a
    /// full batch and a partial one (on a CPU without AVX-512 there is nothing to compare).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn wide_lanes_match_the_scalar_lanes() {
        if !wide_lanes() {
            return;
        }
        let stream = Stream::new(9, 4, Purpose::Review);
        let test = LaneTest::new(&Thresholds {
            cloud_launch: threshold16(0.04),
            cloud_review: threshold16(0.025),
            ai_launch: threshold16(0.04),
            ai_review: threshold16(0.08),
        });
        for n in [BATCH, 77] {
            let ids: Vec<u32> = (0..n as u32).map(|i| i.wrapping_mul(2_654_435_761) ^ 5).collect();
            let mut lanes = [0u64; BATCH];
            let mut hits = [u64::MAX; BATCH / 64];
            // SAFETY: `wide_lanes` found the features above.
            unsafe { lanes_wide(&stream, &test, &ids, &mut lanes[..n], &mut hits) };
            let mut expected = [0u64; BATCH / 64];
            for (i, &id) in ids.iter().enumerate() {
                let l = stream.bits(u64::from(id));
                assert_eq!(lanes[i], l);
                expected[i / 64] |= u64::from(test.any(l)) << (i % 64);
            }
            assert_eq!(hits, expected);
            assert!(expected.iter().map(|w| w.count_ones()).sum::<u32>() > n as u32 / 20);
        }
    }
}
