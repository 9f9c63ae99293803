//! Phase 4 — enterprises: cloud-home migration and review of the AI option.
//!
//! This is the hot path: it visits every enterprise every month. It reads the enterprise
//! components as slices (bevy's contiguous access) and does, per enterprise, one hash for the
//! review decisions and, only for the few that review, one more hash and an O(channels) walk
//! of the choice tables. Holdings are updated incrementally with integer sizes, so totals are
//! exact and independent of visiting order.

use bevy_ecs::prelude::*;

use crate::econ::choice::NO_OPTION;
use crate::sim::agents::{EnterpriseTraits, Sourcing};
use crate::sim::resources::{Clock, Holdings, MarketView};
use crate::sim::rng::{Purpose, Stream};

/// Everything an enterprise review needs this tick.
pub struct ReviewContext<'a> {
    view: &'a MarketView,
    review: Stream,
    ai_choice: Stream,
    home_choice: Stream,
    last_tenure: usize,
}

impl<'a> ReviewContext<'a> {
    /// The context of tick `tick` of a run with seed `seed`.
    pub fn new(view: &'a MarketView, seed: u64, tick: u32) -> Self {
        ReviewContext {
            view,
            review: Stream::new(seed, tick, Purpose::Review),
            ai_choice: Stream::new(seed, tick, Purpose::AiChoice),
            home_choice: Stream::new(seed, tick, Purpose::HomeChoice),
            last_tenure: view.stay_factor.len().saturating_sub(1),
        }
    }
}

/// Reviews a block of enterprises; `traits` and `sourcing` are parallel slices.
pub fn review_block(
    traits: &[EnterpriseTraits],
    sourcing: &mut [Sourcing],
    ctx: &ReviewContext,
    holdings: &mut Holdings,
) {
    let view = ctx.view;
    let (ai_threshold, home_threshold) = view.review_thresholds;
    holdings.count += traits.len() as u64;
    for (t, s) in traits.iter().zip(sourcing.iter_mut()) {
        let id = u64::from(t.id);
        let bits = ctx.review.bits(id);
        let size = u64::from(t.size);
        if (bits >> 32) < home_threshold {
            let home = view
                .home
                .choose(usize::from(t.suite), usize::from(s.home), ctx.home_choice.unit(id));
            if home != usize::from(s.home) {
                holdings.home_size[usize::from(s.home)] -= size;
                holdings.home_size[home] += size;
                holdings.migrations += 1;
                s.home = home as u8;
            }
        }
        let current = (s.option != NO_OPTION).then_some(usize::from(s.option));
        let forced = current.is_none_or(|k| !view.offered[k]);
        if !forced && u64::from(bits as u32) >= ai_threshold {
            s.tenure = s.tenure.saturating_add(1);
            continue;
        }
        let segment = view.choice.segment(usize::from(s.home), usize::from(t.suite));
        let stay = view.stay_factor[usize::from(s.tenure).min(ctx.last_tenure)];
        let Some(next) = view.choice.choose(segment, current, stay, ctx.ai_choice.unit(id)) else {
            s.tenure = s.tenure.saturating_add(1);
            continue;
        };
        if Some(next) == current {
            s.tenure = s.tenure.saturating_add(1);
            continue;
        }
        if let Some(k) = current {
            holdings.option_size[k] -= size;
            holdings.switches += 1;
            if view.choice.channel_of(k) != view.choice.channel_of(next) {
                holdings.provider_switches += 1;
                holdings.egress_size[k] += size;
            }
        }
        holdings.option_size[next] += size;
        s.option = next as u16;
        s.tenure = 0;
    }
}

/// Phase 4 system: every enterprise may migrate its home and review its AI option.
pub fn review_sourcing(
    view: Res<MarketView>,
    clock: Res<Clock>,
    mut holdings: ResMut<Holdings>,
    mut enterprises: Query<(&EnterpriseTraits, &mut Sourcing)>,
) {
    let ctx = ReviewContext::new(&view, clock.seed, clock.tick);
    let holdings = &mut *holdings;
    holdings.count = 0;
    holdings.switches = 0;
    holdings.provider_switches = 0;
    holdings.migrations = 0;
    holdings.egress_size.iter_mut().for_each(|x| *x = 0);
    let blocks = enterprises
        .contiguous_iter_mut()
        .expect("enterprise components use dense table storage");
    for (traits, mut sourcing) in blocks {
        review_block(traits, sourcing.bypass_change_detection(), &ctx, holdings);
    }
}

/// Initialisation: every enterprise without an AI option takes its first one by the logit of
/// the initial market, without switching costs (the draw uses the set-up tick).
pub fn choose_initial_options(
    view: Res<MarketView>,
    clock: Res<Clock>,
    mut holdings: ResMut<Holdings>,
    mut enterprises: Query<(&EnterpriseTraits, &mut Sourcing)>,
) {
    let draw = Stream::new(clock.seed, crate::sim::rng::SETUP_TICK, Purpose::AiChoice);
    for (t, mut s) in &mut enterprises {
        if s.option != NO_OPTION {
            continue;
        }
        let segment = view.choice.segment(usize::from(s.home), usize::from(t.suite));
        if let Some(k) = view.choice.choose(segment, None, 1.0, draw.unit(u64::from(t.id))) {
            s.option = k as u16;
            holdings.option_size[k] += u64::from(t.size);
        }
    }
}
