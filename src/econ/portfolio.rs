//! An enterprise's workloads across clouds and model options, and the monthly decisions that
//! change them: new projects placed at the margin, workloads moved between clouds, the primary
//! AI vendor reviewed, and options that disappear forcing a move.
//!
//! An enterprise holds **workload units** (integers, each worth `size` spend units): cloud
//! units on up to [`CLOUD_SLOTS`] providers plus units kept on-premises (the outside option),
//! and AI units on up to [`AI_SLOTS`] options (channel × lab) plus units outside (no AI, or
//! self-hosted open weights). Each month:
//!
//! 1. **Forced moves.** AI units on an option no longer offered move by the logit (the common
//!    switching cost drops out).
//! 2. **Cloud project** (probability `q_c`): `k = round(g_c/q_c · N_c)` new units, `N_c` the
//!    enterprise's cloud units incl. on-premises, placed by the cloud logit with data gravity
//!    for clouds it already uses and the outside option. Aggregate units grow at `g_c` a month
//!    whatever the shares, so prices move the *split* of new spend, and a price rise sends new
//!    spend to the outside option: demand has a finite elasticity.
//! 3. **Cloud move review** (probability `m`): a held cloud, picked in proportion to its units,
//!    is reconsidered against every other cloud and on-premises at migration cost `M`; on a move
//!    a share of its units uniform on (0, 2·`move_share`] (capped at 1, at least one unit) leaves. A cloud whose last unit leaves is
//!    a **full exit** (the CMA's account-level switching).
//! 4. **AI project** (probability `q_a`): `k = round(g_a/q_a · N_a)` new AI units placed by the AI
//!    logit (data gravity on the marketplaces of the clouds it uses, suite bundle, outside
//!    option).
//! 5. **Primary review** (probability `r`): the option with most units (the primary vendor) is
//!    reconsidered with switching costs (base + lock-in by tenure) and egress; on a move all of
//!    its units go.
//!
//! Multi-homing is never assigned: it emerges from projects landing on different sellers.
//! Tallies are integers (Σ size × units), merged exactly whatever the chunking.

use super::choice::{AiContext, AiPick, ChoiceTables, CloudPick, CloudTables, NO_OPTION};

const _: () = assert!(AI_SLOTS == 3, "AiBefore::of counts three labs in three slots");

/// Clouds an enterprise can manage at once (Flexera: 2.2 public clouds on average, MD §4).
pub const CLOUD_SLOTS: usize = 3;
/// Model options an enterprise can use at once (its primary and two others).
pub const AI_SLOTS: usize = 3;
/// An empty cloud slot.
pub const NO_CLOUD: u8 = u8::MAX;
/// Ticks between two [`Portfolio::clamp_tenure`] passes: tenures read ≤ 255 + this < 2^16.
pub const TENURE_CLAMP: u32 = 1 << 15;

/// One enterprise's workloads (36 bytes: with bevy's bookkeeping the world stays under 100 B
/// per enterprise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Portfolio {
    /// Stable agent id: the key of every random draw of this enterprise.
    pub id: u32,
    /// Spend units per workload unit (Pareto distributed).
    pub size: u32,
    /// Units per cloud slot (0 for an empty slot).
    pub cloud_units: [u16; CLOUD_SLOTS],
    /// Provider of each cloud slot ([`NO_CLOUD`] when empty).
    pub cloud: [u8; CLOUD_SLOTS],
    /// Cloud units kept on-premises (the outside option).
    pub cloud_outside: u16,
    /// Option slot of each AI slot ([`NO_OPTION`] when empty).
    pub ai: [u16; AI_SLOTS],
    /// Units per AI slot.
    pub ai_units: [u16; AI_SLOTS],
    /// AI units outside the market (no AI, or self-hosted).
    pub ai_outside: u16,
    /// Tick (mod 2^16) from which the months with the current primary vendor count: the tenure
    /// at tick t is `t − tenure_start`, read as saturating at 255 (it drives integration
    /// lock-in, which stops growing at `lock_in_cap_months` ≤ 240). A start rather than a
    /// counter: a month without events then writes nothing, so at 10^6 enterprises the pass
    /// over them only reads memory. It uses the byte the struct had spare; the 16-bit difference
    /// stays exact because [`Portfolio::clamp_tenure`] runs at least every [`TENURE_CLAMP`] ticks.
    tenure_start: u16,
    /// Productivity suite: 0 = none, p + 1 = provider p's suite.
    pub suite: u8,
}

impl Portfolio {
    /// An enterprise with no workloads yet.
    pub fn empty(id: u32, size: u32, suite: u8) -> Portfolio {
        Portfolio {
            id,
            size,
            cloud_units: [0; CLOUD_SLOTS],
            cloud: [NO_CLOUD; CLOUD_SLOTS],
            cloud_outside: 0,
            ai: [NO_OPTION; AI_SLOTS],
            ai_units: [0; AI_SLOTS],
            ai_outside: 0,
            tenure_start: 0,
            suite,
        }
    }

    /// Months with the current primary vendor at tick `now` (saturating at 255).
    #[inline]
    pub fn tenure(&self, now: u32) -> u8 {
        (now as u16).wrapping_sub(self.tenure_start).min(255) as u8
    }

    /// Sets the tenure at tick `now`.
    pub fn set_tenure(&mut self, tenure: u8, now: u32) {
        self.tenure_start = (now as u16).wrapping_sub(u16::from(tenure));
    }

    /// Keeps the tenure's start within 255 ticks of `now` (the tenure itself is unchanged, as it
    /// saturates at 255), so that the 16-bit difference cannot wrap within the next
    /// [`TENURE_CLAMP`] ticks.
    pub fn clamp_tenure(&mut self, now: u32) {
        self.set_tenure(self.tenure(now), now);
    }

    /// Providers holding its cloud workloads, written to `out`; returns how many.
    pub fn held_clouds(&self, out: &mut [usize; CLOUD_SLOTS]) -> usize {
        let mut n = 0;
        for j in 0..CLOUD_SLOTS {
            if self.cloud[j] != NO_CLOUD {
                out[n] = usize::from(self.cloud[j]);
                n += 1;
            }
        }
        n
    }

    /// [`Portfolio::held_clouds`] without branches (which empty slot is where is no pattern a
    /// predictor learns); what `out` holds past the count returned is unspecified.
    #[inline]
    fn held_clouds_any(&self, out: &mut [usize; CLOUD_SLOTS]) -> usize {
        let mut n = 0;
        for j in 0..CLOUD_SLOTS {
            out[n.min(CLOUD_SLOTS - 1)] = usize::from(self.cloud[j]);
            n += usize::from(self.cloud[j] != NO_CLOUD);
        }
        n
    }

    /// All cloud units, on-premises included (the base of growth).
    pub fn cloud_total(&self) -> u32 {
        self.cloud_units.iter().map(|&u| u32::from(u)).sum::<u32>() + u32::from(self.cloud_outside)
    }

    /// All AI units, outside included.
    pub fn ai_total(&self) -> u32 {
        self.ai_units.iter().map(|&u| u32::from(u)).sum::<u32>() + u32::from(self.ai_outside)
    }

    /// The AI slot with most units (ties: the lowest slot), if any holds units.
    #[inline]
    pub fn primary(&self) -> Option<usize> {
        // An empty slot counts as zero units; strict comparisons keep ties on the lowest slot.
        let units = |j: usize| if self.ai[j] == NO_OPTION { 0 } else { self.ai_units[j] };
        let (mut best, mut most) = (0, units(0));
        for j in 1..AI_SLOTS {
            let u = units(j);
            if u > most {
                (best, most) = (j, u);
            }
        }
        (most > 0).then_some(best)
    }

    /// Number of clouds in use.
    pub fn n_clouds(&self) -> usize {
        self.cloud.iter().filter(|&&c| c != NO_CLOUD).count()
    }

    /// Number of distinct labs whose models it uses (`slot % n_labs` is the lab).
    pub fn n_model_families(&self, n_labs: usize) -> usize {
        self.families_with(|o| o % n_labs)
    }

    /// Number of distinct labs, with `lab_of(slot)` giving a slot's lab.
    fn families_with(&self, lab_of: impl Fn(usize) -> usize) -> usize {
        let mut labs = [usize::MAX; AI_SLOTS];
        let mut n = 0;
        for &o in self.ai.iter().filter(|&&o| o != NO_OPTION) {
            let lab = lab_of(usize::from(o));
            if !labs[..n].contains(&lab) {
                labs[n] = lab;
                n += 1;
            }
        }
        n
    }

    /// Adds units to provider p's slot (a free slot if it holds none); returns the units added
    /// (0 when all slots are taken by other providers; capped at the u16 range).
    fn add_cloud(&mut self, p: usize, units: u16) -> u16 {
        let j = match self.cloud.iter().position(|&c| usize::from(c) == p) {
            Some(j) => j,
            None => match self.cloud.iter().position(|&c| c == NO_CLOUD) {
                Some(j) => {
                    self.cloud[j] = p as u8;
                    j
                }
                None => return 0,
            },
        };
        let before = self.cloud_units[j];
        self.cloud_units[j] = before.saturating_add(units);
        self.cloud_units[j] - before
    }

    /// Adds units to option `slot` (a free AI slot if it holds none); returns the units added.
    fn add_ai(&mut self, slot: usize, units: u16) -> u16 {
        let j = match self.ai.iter().position(|&o| usize::from(o) == slot) {
            Some(j) => j,
            None => match self.ai.iter().position(|&o| o == NO_OPTION) {
                Some(j) => {
                    self.ai[j] = slot as u16;
                    j
                }
                None => return 0,
            },
        };
        let before = self.ai_units[j];
        self.ai_units[j] = before.saturating_add(units);
        self.ai_units[j] - before
    }

    /// Labs whose models it uses, written to `out`; returns how many.
    pub fn vendors(&self, n_labs: usize, out: &mut [usize; AI_SLOTS]) -> usize {
        self.vendors_with(|o| o % n_labs, out)
    }

    fn vendors_with(&self, lab_of: impl Fn(usize) -> usize, out: &mut [usize; AI_SLOTS]) -> usize {
        let mut n = 0;
        for &o in self.ai.iter().filter(|&&o| o != NO_OPTION) {
            let lab = lab_of(usize::from(o));
            if !out[..n].contains(&lab) {
                out[n] = lab;
                n += 1;
            }
        }
        n
    }

    fn holds_option(&self, slot: usize) -> bool {
        self.ai.iter().any(|&o| usize::from(o) == slot)
    }
}

/// `x` rounded down or up at random so that its expectation is `x` (`u` uniform in [0, 1)),
/// capped at the u16 range.
pub fn stochastic_round(x: f64, u: f64) -> u16 {
    // Truncation is the floor for non-negative x and exact below 2^53; without SSE4.1 `floor`
    // is a library call. Through i64, not u64: the same integer below 2^63, but SSE2 converts
    // signed integers in one instruction each way and unsigned ones with a branchy sequence.
    let floor = if (0.0..4.0e15).contains(&x) {
        (x as i64) as f64
    } else {
        x.floor()
    };
    let up = if u < x - floor { 1.0 } else { 0.0 };
    (floor + up).clamp(0.0, f64::from(u16::MAX)) as u16
}

/// Integer tallies of one pass over enterprises: changes of holdings and this month's flows.
/// Sums of `size × units`; merged exactly, so any chunking gives the same totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Change of Σ size·units per provider, then on-premises (index `n_providers`).
    pub cloud: Vec<i64>,
    /// Change of Σ size·units per option slot, then outside (index `n_slots`).
    pub ai: Vec<i64>,
    /// Σ size·units placed this month by new projects per provider (+ on-premises).
    pub new_cloud: Vec<u64>,
    /// Σ size·units placed this month by new projects per option slot (+ outside).
    pub new_ai: Vec<u64>,
    /// Σ size·units leaving each option slot for another billing channel (egress base).
    pub egress: Vec<u64>,
    /// Σ size·units of cloud workloads moved (between clouds, to or from on-premises).
    pub cloud_moved: u64,
    /// Full exits: an enterprise's last unit leaving a provider.
    pub exits: u64,
    /// Enterprises that moved cloud workloads.
    pub cloud_movers: u64,
    /// Enterprises that moved AI workloads (reviews and forced moves).
    pub ai_switches: u64,
    /// Enterprises whose moved AI workloads changed billing channel.
    pub channel_switches: u64,
    /// Enterprises whose primary vendor (lab) changed.
    pub primary_switches: u64,
    /// Change of the number of enterprises using at least two clouds.
    pub multi_cloud: i64,
    /// Change of the number of enterprises using models of at least three labs.
    pub multi_model: i64,
    /// Change of the number of enterprises using any AI option.
    pub ai_users: i64,
    /// Enterprises counted.
    pub enterprises: u64,
    /// Enterprises still holding an option no longer offered after their month (a forced move
    /// with nowhere else to go): while there are any, every enterprise is checked next month.
    pub stranded: u64,
}

impl Tally {
    /// Zero tallies for `n_providers` providers and `n_slots` option slots.
    pub fn new(n_providers: usize, n_slots: usize) -> Tally {
        Tally {
            cloud: vec![0; n_providers + 1],
            ai: vec![0; n_slots + 1],
            new_cloud: vec![0; n_providers + 1],
            new_ai: vec![0; n_slots + 1],
            egress: vec![0; n_slots],
            ..Tally::default()
        }
    }

    /// Adds another pass's tallies to this one.
    pub fn merge(&mut self, o: &Tally) {
        let add_i = |a: &mut Vec<i64>, b: &Vec<i64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        let add_u = |a: &mut Vec<u64>, b: &Vec<u64>| a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        add_i(&mut self.cloud, &o.cloud);
        add_i(&mut self.ai, &o.ai);
        add_u(&mut self.new_cloud, &o.new_cloud);
        add_u(&mut self.new_ai, &o.new_ai);
        add_u(&mut self.egress, &o.egress);
        self.cloud_moved += o.cloud_moved;
        self.exits += o.exits;
        self.cloud_movers += o.cloud_movers;
        self.ai_switches += o.ai_switches;
        self.channel_switches += o.channel_switches;
        self.primary_switches += o.primary_switches;
        self.multi_cloud += o.multi_cloud;
        self.multi_model += o.multi_model;
        self.ai_users += o.ai_users;
        self.enterprises += o.enterprises;
        self.stranded += o.stranded;
    }
}

/// Monthly event probabilities as thresholds on 16 random bits each.
#[derive(Debug, Clone, Copy, Default)]
pub struct Thresholds {
    /// A new cloud project.
    pub cloud_launch: u64,
    /// A cloud move review.
    pub cloud_review: u64,
    /// A new AI project.
    pub ai_launch: u64,
    /// A review of the primary AI vendor.
    pub ai_review: u64,
}

/// A probability as a threshold on 16 random bits (`bits < threshold` with probability p).
pub fn threshold16(p: f64) -> u64 {
    (p.clamp(0.0, 1.0) * 65_536.0).round() as u64
}

/// Everything the monthly step of an enterprise reads.
#[derive(Debug, Clone, Copy)]
pub struct StepTables<'a> {
    /// Cloud placement tables.
    pub cloud: &'a CloudTables,
    /// AI option tables.
    pub ai: &'a ChoiceTables,
    /// Whether each option slot is offered this month.
    pub offered: &'a [bool],
    /// Whether an enterprise may hold an option no longer offered. When false (no option
    /// offered last month is withdrawn, and none was left stranded) the check is skipped:
    /// every option an enterprise takes is one offered that month.
    pub withdrawals: bool,
    /// `exp(−switching cost)` by tenure.
    pub stay_factor: &'a [f64],
    /// Labs (option slot `k` is lab `k % n_labs`).
    pub n_labs: usize,
    /// The lab of every option slot (`k % n_labs`, looked up rather than divided in the hot
    /// path).
    pub slot_lab: &'a [u8],
    /// Providers.
    pub n_providers: usize,
    /// The current tick (tenures are counted from their start to it).
    pub now: u32,
    /// Event probabilities.
    pub thresholds: Thresholds,
    /// The same as one test of the lanes ([`LaneTest::new`] of `thresholds`).
    pub lanes: LaneTest,
    /// New cloud units per existing unit in a project (`g_c / q_c`).
    pub cloud_project_size: f64,
    /// New AI units per existing unit in a project (`g_a / q_a`).
    pub ai_project_size: f64,
    /// Mean share of a reviewed cloud's units moved when it moves (uniform on (0, 2·it]).
    pub move_share: f64,
}

/// Random inputs of one enterprise-month: 64 bits for the four event lanes, and a source of
/// 64-bit words for the events that happen (one per event kind, keyed by the enterprise).
pub trait EventDraws {
    /// 64 bits for event `kind` (0 forced, 1 cloud project, 2 cloud move, 3 AI project, 4 review).
    fn bits(&self, kind: u32) -> u64;
}

fn split(bits: u64) -> (f64, f64) {
    let scale = 1.0 / 4_294_967_296.0;
    // Each half as u32: its conversion is exact and one signed conversion of the zero-extended
    // value, where a u64's is a branchy sequence under SSE2 (the same values either way).
    ((bits >> 32) as u32 as f64 * scale, bits as u32 as f64 * scale)
}

/// One enterprise's month: forced moves, a cloud project, a cloud move review, an AI project
/// and a primary review, each with its probability. Updates the portfolio and the tallies.
#[inline]
pub fn step(p: &mut Portfolio, lanes: u64, draws: &impl EventDraws, t: &StepTables, tally: &mut Tally) {
    tally.enterprises += 1;
    if has_events(p, lanes, t) {
        step_events(p, lanes, draws, t, tally);
    }
}

/// Whether an enterprise-month has more to do than time passing (and the tenure counts from its
/// start without a write): an event lane under its threshold, or a held option withdrawn. When
/// false, [`step`] only counts the enterprise; when true it is [`step_events`].
#[inline]
pub fn has_events(p: &Portfolio, lanes: u64, t: &StepTables) -> bool {
    // The lanes first (registers only), then the held options against the offers.
    t.lanes.any(lanes) || (t.withdrawals && has_withdrawn(p, t.offered))
}

/// The four event thresholds as one test on the 64 lane bits, set up once per tick: two lanes
/// at a time, each in a 32-bit field, where `lane + 2^16 − threshold` carries into bit 16 of
/// its field exactly when `lane ≥ threshold`.
#[derive(Debug, Clone, Copy)]
pub struct LaneTest {
    /// Added to lanes 0 and 2.
    even: u64,
    /// Added to lanes 1 and 3.
    odd: u64,
}

impl LaneTest {
    const LOW: u64 = 0x0000_FFFF_0000_FFFF;
    const CARRY: u64 = 0x0001_0000_0001_0000;

    /// The test for these thresholds (a threshold above 2^16 counts as 2^16: always).
    pub fn new(th: &Thresholds) -> LaneTest {
        let add = |a: u64, b: u64| (1u64 << 16).saturating_sub(a) | (1u64 << 16).saturating_sub(b) << 32;
        LaneTest {
            even: add(th.cloud_launch, th.ai_launch),
            odd: add(th.cloud_review, th.ai_review),
        }
    }

    /// Whether any of the four 16-bit lanes falls under its threshold.
    #[inline(always)]
    pub fn any(&self, lanes: u64) -> bool {
        let even = (lanes & Self::LOW) + self.even;
        let odd = ((lanes >> 16) & Self::LOW) + self.odd;
        even & odd & Self::CARRY != Self::CARRY
    }

    /// [`LaneTest::any`] of up to 64 lane words as a bit set (bit i for `lanes[i]`): a loop
    /// without branches that the compiler vectorises.
    #[inline(always)]
    pub fn any_mask(&self, lanes: &[u64]) -> u64 {
        debug_assert!(lanes.len() <= 64);
        lanes
            .iter()
            .enumerate()
            .fold(0, |m, (i, &l)| m | u64::from(self.any(l)) << i)
    }
}

/// Whether it holds an option no longer offered (which forces a move).
#[inline]
fn has_withdrawn(p: &Portfolio, offered: &[bool]) -> bool {
    p.ai.iter().any(|&o| o != NO_OPTION && !offered[usize::from(o)])
}

/// Whether an enterprise uses at least two clouds, models of at least three labs, and any AI
/// option: the multi-homing counts, kept in the holdings and changed only by events.
pub fn flags(p: &Portfolio, n_labs: usize) -> (bool, bool, bool) {
    (
        p.n_clouds() >= 2,
        p.n_model_families(n_labs) >= 3,
        p.ai.iter().any(|&o| o != NO_OPTION),
    )
}

/// What the month's AI changes are measured against: the primary lab and the multi-homing
/// flags before the first change. Taken only when an AI change is about to happen (most reviews
/// keep the option and change nothing), and once more after the month's AI changes.
#[derive(Clone, Copy)]
struct AiBefore {
    /// The primary vendor's lab, [`NO_LAB`] without a primary.
    primary_lab: u8,
    families3: bool,
    user: bool,
}

/// No lab: an empty AI slot, or no primary vendor (labs are fewer than 64, so never a lab).
const NO_LAB: u8 = u8::MAX;

impl AiBefore {
    /// Computed without branches: which slots are empty and which holds most units follow no
    /// pattern a predictor learns, and this runs twice per AI change. The same values as
    /// [`Portfolio::primary`] and the labs of the held options give.
    #[inline]
    fn of(p: &Portfolio, t: &StepTables) -> AiBefore {
        // Each slot's lab and units, NO_LAB and 0 for an empty slot. The index is clamped so
        // that the load is always in bounds and the empty case is a select, not a branch.
        let last = t.slot_lab.len() - 1;
        let lab = |j: usize| {
            let l = t.slot_lab[usize::from(p.ai[j]).min(last)];
            if p.ai[j] == NO_OPTION { NO_LAB } else { l }
        };
        let units = |j: usize| if p.ai[j] == NO_OPTION { 0 } else { p.ai_units[j] };
        let (a, b, c) = (lab(0), lab(1), lab(2));
        // `Portfolio::primary`: most units, ties to the lowest slot, none when all hold 0.
        let (u0, u1, u2) = (units(0), units(1), units(2));
        let (mut primary, mut most) = (a, u0);
        if u1 > most {
            (primary, most) = (b, u1);
        }
        if u2 > most {
            (primary, most) = (c, u2);
        }
        AiBefore {
            primary_lab: if most > 0 { primary } else { NO_LAB },
            // Three labs in three slots: every slot holds an option, of pairwise distinct labs
            // (`&` rather than `&&`: six compares are cheaper than their branches).
            families3: (a != NO_LAB) & (b != NO_LAB) & (c != NO_LAB) & (a != b) & (a != c) & (b != c),
            user: (a != NO_LAB) | (b != NO_LAB) | (c != NO_LAB),
        }
    }
}

/// The events of an enterprise-month for which [`has_events`] holds (at least one happens, or
/// an option was withdrawn); the rest of [`step`], without counting the enterprise. Only the
/// dispatch is inline; both paths are out of line, so the loop over enterprises without events
/// keeps its values in registers.
#[inline]
pub fn step_events(p: &mut Portfolio, lanes: u64, draws: &impl EventDraws, t: &StepTables, tally: &mut Tally) {
    // Only the review lane (the top 16 bits) under its threshold, and nothing withdrawn.
    if !t.withdrawals && !t.lanes.any(lanes & 0x0000_FFFF_FFFF_FFFF | 0xFFFF_0000_0000_0000) {
        review_alone(p, draws, t, tally);
    } else {
        step_all_events(p, lanes, draws, t, tally);
    }
}

/// [`step_events`] in general.
#[inline(never)]
fn step_all_events(p: &mut Portfolio, lanes: u64, draws: &impl EventDraws, t: &StepTables, tally: &mut Tally) {
    let size = u64::from(p.size);
    let n_slots = t.offered.len();
    let suite = usize::from(p.suite);
    let suite_owner = suite.checked_sub(1);
    let cloud_launch = (lanes & 0xFFFF) < t.thresholds.cloud_launch;
    let cloud_review = ((lanes >> 16) & 0xFFFF) < t.thresholds.cloud_review;
    let ai_launch = ((lanes >> 32) & 0xFFFF) < t.thresholds.ai_launch;
    let ai_review = (lanes >> 48) < t.thresholds.ai_review;
    let mut held = [0usize; CLOUD_SLOTS];
    let mut n_held = p.held_clouds_any(&mut held);
    // Only cloud events change the clouds.
    let clouds_before = (cloud_launch || cloud_review).then(|| p.n_clouds() >= 2);
    let mut before: Option<AiBefore> = None;
    let mut moved_ai = false;
    let mut changed_channel = false;

    // 1. Forced moves off options that are no longer offered.
    let mut forced_draw = None;
    for j in (0..AI_SLOTS).filter(|_| t.withdrawals) {
        let o = p.ai[j];
        if o == NO_OPTION || t.offered[usize::from(o)] {
            continue;
        }
        before.get_or_insert_with(|| AiBefore::of(p, t));
        let units = p.ai_units[j];
        let bits = *forced_draw.get_or_insert_with(|| draws.bits(0));
        let u = split(bits.rotate_left(13 * j as u32)).0;
        let cx = AiContext {
            held: &held[..n_held],
            suite: suite_owner,
            vendors: &[],
        };
        let pick = t.ai.choose(&cx, Some(usize::from(o)), 1.0, u);
        p.ai[j] = NO_OPTION;
        p.ai_units[j] = 0;
        tally.ai[usize::from(o)] -= (size * u64::from(units)) as i64;
        moved_ai |= units > 0;
        changed_channel |= move_ai_units(p, usize::from(o), pick, units, t, tally, size);
    }

    // 2. A new cloud project.
    if cloud_launch {
        let (u, v) = split(draws.bits(1));
        let k = stochastic_round(t.cloud_project_size * f64::from(p.cloud_total()), v);
        if k > 0 {
            let full = n_held == CLOUD_SLOTS;
            match t.cloud.choose(suite, &held[..n_held], full, None, u) {
                CloudPick::Provider(c) => {
                    let added = p.add_cloud(c, k);
                    tally.cloud[c] += (size * u64::from(added)) as i64;
                    tally.new_cloud[c] += size * u64::from(added);
                }
                CloudPick::Outside => {
                    let added = add_saturating(&mut p.cloud_outside, k);
                    tally.cloud[t.n_providers] += (size * u64::from(added)) as i64;
                    tally.new_cloud[t.n_providers] += size * u64::from(added);
                }
            }
            n_held = p.held_clouds_any(&mut held);
        }
    }

    // 3. A cloud move review.
    if cloud_review && n_held > 0 {
        let (u, v) = split(draws.bits(2));
        let inside: u32 = p.cloud_units.iter().map(|&x| u32::from(x)).sum();
        if inside > 0 {
            // The reviewed cloud, in proportion to its units.
            let target = (v * f64::from(inside)) as u32;
            let mut acc = 0u32;
            let mut j = 0;
            for (i, &units) in p.cloud_units.iter().enumerate() {
                acc += u32::from(units);
                if target < acc {
                    j = i;
                    break;
                }
            }
            let from = usize::from(p.cloud[j]);
            let full = n_held == CLOUD_SLOTS;
            let pick = t.cloud.choose(suite, &held[..n_held], full, Some(from), u);
            if pick != CloudPick::Provider(from) {
                let units = p.cloud_units[j];
                // The share moved is uniform on (0, 2·move_share] (at most 1): on average
                // `move_share`, and now and then all of it — a full exit, about once in
                // `units · 2·move_share` moves.
                let w = split(draws.bits(2).rotate_left(21)).0;
                let f = ((1.0 - w) * 2.0 * t.move_share).min(1.0);
                let m = ((f * f64::from(units)).ceil() as u16).clamp(1, units);
                p.cloud_units[j] -= m;
                tally.cloud[from] -= (size * u64::from(m)) as i64;
                if p.cloud_units[j] == 0 {
                    p.cloud[j] = NO_CLOUD;
                    tally.exits += 1;
                }
                let added = match pick {
                    CloudPick::Provider(c) => {
                        let a = p.add_cloud(c, m);
                        tally.cloud[c] += (size * u64::from(a)) as i64;
                        a
                    }
                    CloudPick::Outside => {
                        let a = add_saturating(&mut p.cloud_outside, m);
                        tally.cloud[t.n_providers] += (size * u64::from(a)) as i64;
                        a
                    }
                };
                tally.cloud_moved += size * u64::from(added);
                tally.cloud_movers += 1;
                n_held = p.held_clouds_any(&mut held);
            }
        }
    }
    if let Some(b) = clouds_before {
        tally.multi_cloud += i64::from(p.n_clouds() >= 2) - i64::from(b);
    }

    // 4. A new AI project.
    let mut vendors = [0usize; AI_SLOTS];
    let mut cx = AiContext {
        held: &held[..n_held],
        suite: suite_owner,
        vendors: &[],
    };
    if ai_launch {
        let (u, v) = split(draws.bits(3));
        let k = stochastic_round(t.ai_project_size * f64::from(p.ai_total().max(1)), v);
        if k > 0 {
            let n_vendors = p.vendors_with(|o| usize::from(t.slot_lab[o]), &mut vendors);
            cx.vendors = &vendors[..n_vendors];
            let mut pick = t.ai.choose(&cx, None, 1.0, u);
            let full = p.ai.iter().all(|&o| o != NO_OPTION);
            if let AiPick::Slot(s) = pick
                && full
                && !p.holds_option(s)
            {
                // A full portfolio takes no new vendor: choose among the options it holds and
                // the outside option. Rejecting and redrawing among them is exactly the logit
                // restricted to that set.
                pick = restricted_pick(p, &cx, t.ai, split(draws.bits(3).rotate_left(29)).0);
            }
            before.get_or_insert_with(|| AiBefore::of(p, t));
            match pick {
                AiPick::Slot(s) => {
                    let added = p.add_ai(s, k);
                    tally.ai[s] += (size * u64::from(added)) as i64;
                    tally.new_ai[s] += size * u64::from(added);
                }
                AiPick::Outside => {
                    let added = add_saturating(&mut p.ai_outside, k);
                    tally.ai[n_slots] += (size * u64::from(added)) as i64;
                    tally.new_ai[n_slots] += size * u64::from(added);
                }
            }
        }
    }

    // 5. A review of the primary vendor (the vendor gravity of new projects plays no part).
    if ai_review && let Some(j) = p.primary() {
        let (u, _) = split(draws.bits(4));
        let o = usize::from(p.ai[j]);
        let stay = t.stay_factor[usize::from(p.tenure(t.now)).min(t.stay_factor.len() - 1)];
        let pick = t.ai.choose(&cx, Some(o), stay, u);
        if pick != AiPick::Slot(o) {
            before.get_or_insert_with(|| AiBefore::of(p, t));
            let units = p.ai_units[j];
            p.ai[j] = NO_OPTION;
            p.ai_units[j] = 0;
            tally.ai[o] -= (size * u64::from(units)) as i64;
            moved_ai = true;
            changed_channel |= move_ai_units(p, o, pick, units, t, tally, size);
        }
    }

    // Tenure, switches and multi-homing after the month; without an AI change the primary
    // vendor and the flags are what they were. A kept primary's tenure grows by itself; a new
    // one's starts next month at 0.
    if let Some(b) = before {
        after_ai_change(p, b, t, tally);
    }
    tally.ai_switches += u64::from(moved_ai);
    tally.channel_switches += u64::from(changed_channel);
    // Only a forced move can leave it on a withdrawn option (when nothing else has weight).
    if forced_draw.is_some() {
        tally.stranded += u64::from(has_withdrawn(p, t.offered));
    }
}

/// Tenure, primary switches and multi-homing after a month with an AI change, against `b`
/// taken before the first change. A kept primary's tenure grows by itself; a new one's starts
/// next month at 0.
fn after_ai_change(p: &mut Portfolio, b: AiBefore, t: &StepTables, tally: &mut Tally) {
    let after = AiBefore::of(p, t);
    if after.primary_lab != b.primary_lab {
        p.set_tenure(0, t.now.wrapping_add(1));
        if b.primary_lab != NO_LAB && after.primary_lab != NO_LAB {
            tally.primary_switches += 1;
        }
    }
    tally.multi_model += i64::from(after.families3) - i64::from(b.families3);
    tally.ai_users += i64::from(after.user) - i64::from(b.user);
}

/// A month whose only event is a review of the primary vendor (four events in ten) and without
/// withdrawals: what [`step_all_events`] does then, with none of its other set-up. Nearly every
/// review keeps the option, and then nothing changes.
#[inline(never)]
fn review_alone(p: &mut Portfolio, draws: &impl EventDraws, t: &StepTables, tally: &mut Tally) {
    let Some(j) = p.primary() else {
        return;
    };
    let (u, _) = split(draws.bits(4));
    let o = usize::from(p.ai[j]);
    let stay = t.stay_factor[usize::from(p.tenure(t.now)).min(t.stay_factor.len() - 1)];
    let suite = usize::from(p.suite).checked_sub(1);
    // Nearly every review stays, and most are decided without the context: whether the
    // current option's channel is one of its clouds reads the slots directly (a channel is
    // below 64, never `NO_CLOUD`).
    let channel = t.ai.channel_of(o);
    // `|` rather than `any`: three compares are cheaper than the branches of a search (which
    // slot holds the channel, if any, follows no pattern).
    let channel_held = p.cloud.iter().fold(false, |h, &c| h | (usize::from(c) == channel));
    if t.ai.surely_stays(o, channel_held, suite, stay, u) {
        return;
    }
    review_walk(p, j, stay, suite, u, t, tally);
}

/// [`review_alone`] when the shortcut does not decide (a few reviews in a hundred): the full
/// choice, and the move if there is one. Out of line, so that the common path, which returns
/// after the shortcut, saves and restores few registers.
#[cold]
#[inline(never)]
fn review_walk(
    p: &mut Portfolio,
    j: usize,
    stay: f64,
    suite: Option<usize>,
    u: f64,
    t: &StepTables,
    tally: &mut Tally,
) {
    let o = usize::from(p.ai[j]);
    let mut held = [0usize; CLOUD_SLOTS];
    let n_held = p.held_clouds_any(&mut held);
    let cx = AiContext {
        held: &held[..n_held],
        suite,
        vendors: &[],
    };
    let pick = t.ai.choose(&cx, Some(o), stay, u);
    if pick == AiPick::Slot(o) {
        return;
    }
    let before = AiBefore::of(p, t);
    let size = u64::from(p.size);
    let units = p.ai_units[j];
    p.ai[j] = NO_OPTION;
    p.ai_units[j] = 0;
    tally.ai[o] -= (size * u64::from(units)) as i64;
    let changed_channel = move_ai_units(p, o, pick, units, t, tally, size);
    after_ai_change(p, before, t, tally);
    tally.ai_switches += 1;
    tally.channel_switches += u64::from(changed_channel);
}

/// Puts `units` AI units that left option `from` where `pick` says; returns whether the
/// billing channel changed (then the units pay egress on leaving `from`).
fn move_ai_units(
    p: &mut Portfolio,
    from: usize,
    pick: AiPick,
    units: u16,
    t: &StepTables,
    tally: &mut Tally,
    size: u64,
) -> bool {
    let n_slots = t.offered.len();
    let channel = |k: usize| t.ai.channel_of(k);
    let changed = match pick {
        AiPick::Slot(s) => {
            let added = p.add_ai(s, units);
            tally.ai[s] += (size * u64::from(added)) as i64;
            channel(s) != channel(from)
        }
        AiPick::Outside => {
            let added = add_saturating(&mut p.ai_outside, units);
            tally.ai[n_slots] += (size * u64::from(added)) as i64;
            true
        }
    };
    if changed {
        tally.egress[from] += size * u64::from(units);
    }
    changed
}

/// Logit among the options a full portfolio holds and the outside option.
fn restricted_pick(p: &Portfolio, cx: &AiContext, ai: &ChoiceTables, u: f64) -> AiPick {
    // The context as bit sets once, rather than a search of it per slot.
    let sets = ai.context_sets(cx);
    let weights: [f64; AI_SLOTS] = std::array::from_fn(|j| {
        let o = p.ai[j];
        if o == NO_OPTION {
            0.0
        } else {
            ai.weight_in(&sets, usize::from(o))
        }
    });
    let total = weights.iter().sum::<f64>() + ai.outside_weight();
    let x = u * total;
    let mut acc = 0.0;
    for (w, &o) in weights.iter().zip(&p.ai) {
        acc += w;
        if x < acc {
            return AiPick::Slot(usize::from(o));
        }
    }
    AiPick::Outside
}

fn add_saturating(x: &mut u16, units: u16) -> u16 {
    let before = *x;
    *x = before.saturating_add(units);
    *x - before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stochastic_rounding_is_unbiased_and_capped() {
        let n = 100_000;
        let mean: f64 = (0..n)
            .map(|i| f64::from(stochastic_round(2.3, (i as f64 + 0.5) / n as f64)))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 2.3).abs() < 1e-4, "{mean}");
        assert_eq!(stochastic_round(1e9, 0.5), u16::MAX);
        assert_eq!(stochastic_round(0.0, 0.0), 0);
    }

    #[test]
    fn a_portfolio_is_thirty_six_bytes() {
        assert_eq!(std::mem::size_of::<Portfolio>(), 36);
    }

    #[test]
    fn portfolio_bookkeeping() {
        let mut p = Portfolio::empty(1, 10, 0);
        assert_eq!(p.add_cloud(3, 5), 5);
        assert_eq!(p.add_cloud(3, 2), 2);
        for c in [0, 1] {
            p.add_cloud(c, 1);
        }
        assert_eq!(p.add_cloud(4, 1), 0, "a fourth cloud does not fit");
        assert_eq!(p.n_clouds(), 3);
        p.cloud_outside = 3;
        assert_eq!(p.cloud_total(), 7 + 2 + 3);
        // Labs: slot % 4. Slots 1 and 5 are lab 1; slot 2 is lab 2.
        p.add_ai(1, 4);
        p.add_ai(5, 6);
        p.add_ai(2, 6);
        assert_eq!(p.n_model_families(4), 2);
        assert_eq!(p.primary(), Some(1), "ties go to the lowest slot");
        assert_eq!(p.add_ai(7, 1), 0);
        assert!(p.holds_option(5) && !p.holds_option(7));
    }

    #[test]
    fn tenure_counts_from_its_start_and_survives_the_clamp() {
        let mut p = Portfolio::empty(1, 1, 0);
        p.set_tenure(200, 0);
        assert_eq!(
            (p.tenure(0), p.tenure(50), p.tenure(55), p.tenure(1000)),
            (200, 250, 255, 255)
        );
        // Without the clamp the 16-bit difference would wrap; with it every TENURE_CLAMP ticks
        // the tenure stays saturated.
        let mut now = 0;
        for _ in 0..4 {
            now += TENURE_CLAMP;
            p.clamp_tenure(now);
            assert_eq!(p.tenure(now), 255);
        }
        p.set_tenure(0, now + 1);
        assert_eq!((p.tenure(now + 1), p.tenure(now + 11)), (0, 10));
    }

    #[test]
    fn thresholds_on_sixteen_bits() {
        assert_eq!(threshold16(0.0), 0);
        assert_eq!(threshold16(1.0), 65_536);
        assert_eq!(threshold16(0.5), 32_768);
    }

    #[test]
    fn tallies_merge_exactly() {
        let mut a = Tally::new(2, 3);
        let mut b = Tally::new(2, 3);
        a.cloud[0] = 5;
        b.cloud[0] = -2;
        b.new_ai[3] = 7;
        b.exits = 1;
        a.merge(&b);
        assert_eq!((a.cloud[0], a.new_ai[3], a.exits), (3, 7, 1));
    }
}
