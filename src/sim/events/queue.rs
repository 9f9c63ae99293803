//! When events fire: fixed dates, conditions on last month's measurements, delays, and
//! investigations that impose a remedy some months after they open.

use bevy_ecs::prelude::*;

use super::world::EcsEventWorld;
use crate::config::events::{Action, Condition, EventSpec, Investigation, LabEntry, ProviderEntry};
use crate::config::{Config, Month, Watched};
use crate::sim::resources::{Clock, Fault, TickReport};

/// An event that fired (or was blocked, or opened an investigation), for the run's record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FiredEvent {
    /// Tick it took effect.
    pub tick: u32,
    /// Month it took effect.
    pub date: String,
    /// Event kind.
    pub kind: String,
    /// Label from the config (or the kind).
    pub label: String,
    /// What happened (e.g. "blocked: post-merger HHI 2,430, ΔHHI 310").
    pub note: String,
}

/// Everything that fired so far.
#[derive(Resource, Debug, Clone, Default)]
pub struct EventLog(pub Vec<FiredEvent>);

#[derive(Debug, Clone)]
enum Trigger {
    At(i64),
    Watch {
        condition: Condition,
        from: i64,
        /// Months from the condition being met to the effect (two `u32`s may add up past `u32::MAX`).
        delay: i64,
    },
    Done,
}

#[derive(Debug, Clone)]
struct Pending {
    label: String,
    actions: Vec<Action>,
    trigger: Trigger,
}

/// Events not yet fired, in config order (entries of dormant agents first).
#[derive(Resource, Debug, Clone, Default)]
pub struct EventQueue {
    pending: Vec<Pending>,
}

impl EventQueue {
    /// Builds the queue from a validated config: configured events plus the entries implied by
    /// providers' and labs' `entry` months.
    pub fn from_config(config: &Config, start: Month) -> EventQueue {
        let tick_of = |m: &str| Month::parse(m).map_or(0, |m| m.ticks_since(start));
        let mut pending = Vec::new();
        for (id, p) in &config.providers {
            if let Some(m) = &p.entry
                && tick_of(m) > 0
            {
                pending.push(Pending {
                    label: format!("{id} enters"),
                    actions: vec![Action::ProviderEntry(ProviderEntry {
                        provider: id.clone(),
                        ramp_kgpu_per_month: 0.0,
                        ramp_months: 0,
                    })],
                    trigger: Trigger::At(tick_of(m)),
                });
            }
        }
        for (id, l) in &config.labs {
            if let Some(m) = &l.entry
                && tick_of(m) > 0
            {
                pending.push(Pending {
                    label: format!("{id} enters"),
                    actions: vec![Action::LabEntry(LabEntry { lab: id.clone() })],
                    trigger: Trigger::At(tick_of(m)),
                });
            }
        }
        for spec in &config.events {
            pending.push(Self::pending_of(spec, &tick_of));
        }
        EventQueue { pending }
    }

    fn pending_of(spec: &EventSpec, tick_of: &dyn Fn(&str) -> i64) -> Pending {
        let label = spec.label.clone().unwrap_or_else(|| spec.action.kind().to_string());
        let from = spec
            .at
            .as_deref()
            .map(tick_of)
            .or(spec.tick.map(i64::from))
            .unwrap_or(0);
        if let Action::Investigation(
            inv @ Investigation {
                threshold,
                remedy_delay_months,
                ..
            },
        ) = &spec.action
        {
            // The investigation watches its market; the action stays an investigation so
            // that opening it is logged, and its remedy is queued when it opens.
            return Pending {
                label,
                actions: vec![spec.action.clone()],
                trigger: Trigger::Watch {
                    condition: Condition {
                        metric: inv.watched_metric(),
                        above: Some(*threshold),
                        below: None,
                    },
                    from,
                    delay: i64::from(spec.delay_months) + i64::from(*remedy_delay_months),
                },
            };
        }
        let trigger = match &spec.when {
            Some(c) => Trigger::Watch {
                condition: c.clone(),
                from,
                delay: i64::from(spec.delay_months),
            },
            None => Trigger::At(from + i64::from(spec.delay_months)),
        };
        Pending {
            label,
            actions: vec![spec.action.clone()],
            trigger,
        }
    }
}

/// Value of a watched metric in last month's report.
fn metric_value(report: &TickReport, name: &str) -> Option<f64> {
    let row = |agent: &str| report.agents.iter().find(|r| r.agent == agent);
    match Watched::parse(name)? {
        Watched::Metric(m) => Some(report.metrics[m]),
        Watched::Quality(lab) => row(&lab)?.quality,
        Watched::Dependency(lab) => row(&lab)?.dependency,
        Watched::Rent(provider) => row(&provider)?.rent_share,
    }
}

/// Phase 1 of a tick: fires every event due now, in config order.
pub fn apply_due_events(world: &mut World) {
    let clock = *world.resource::<Clock>();
    let tick = i64::from(clock.tick);
    // Last month's report is read in place (only the measurement phase writes it, so no action
    // below changes it): a copy would cost its hundred-odd rows every month.
    let have_report = !world.resource::<TickReport>().date.is_empty();
    let mut queue = std::mem::take(&mut *world.resource_mut::<EventQueue>());
    let mut log = Vec::new();
    for p in queue.pending.iter_mut() {
        let fire = match &p.trigger {
            Trigger::At(t) => *t == tick,
            Trigger::Done => false,
            Trigger::Watch { condition, from, delay } => {
                let met = have_report
                    && tick >= *from
                    && metric_value(world.resource::<TickReport>(), &condition.metric)
                        .is_some_and(|v| condition.holds(v));
                if met {
                    let opened = matches!(p.actions.first(), Some(Action::Investigation(_)));
                    if let Some(Action::Investigation(inv)) = p.actions.first().cloned() {
                        p.actions = inv.remedy;
                    }
                    if opened || *delay > 0 {
                        log.push(FiredEvent {
                            tick: clock.tick,
                            date: clock.month().to_string(),
                            kind: if opened {
                                "investigation".into()
                            } else {
                                "trigger".into()
                            },
                            label: p.label.clone(),
                            note: format!("{} crossed its threshold; effect in {delay} months", condition.metric),
                        });
                    }
                    if *delay > 0 {
                        p.trigger = Trigger::At(tick + *delay);
                        false
                    } else {
                        true
                    }
                } else {
                    false
                }
            }
        };
        if !fire {
            continue;
        }
        p.trigger = Trigger::Done;
        for action in &p.actions {
            match action.apply(&mut EcsEventWorld(world)) {
                Ok(note) => log.push(FiredEvent {
                    tick: clock.tick,
                    date: clock.month().to_string(),
                    kind: action.kind().to_string(),
                    label: p.label.clone(),
                    note,
                }),
                Err(e) => {
                    world.resource_mut::<Fault>().0.get_or_insert(format!(
                        "event \"{}\" at {} failed: {e}",
                        p.label,
                        clock.month()
                    ));
                }
            }
        }
    }
    *world.resource_mut::<EventQueue>() = queue;
    world.resource_mut::<EventLog>().0.extend(log);
}
