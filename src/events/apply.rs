//! What each event kind does to the world.

use bevy_ecs::prelude::*;

use super::spec::Action;
use crate::config::{self, Config, Market, Metric};
use crate::sim::agents::{LabIdx, LabState, ProviderIdx, ProviderState};
use crate::sim::resources::{Clock, Contract, Contracts, Demand, Layout, Params, Policy, TickReport};

/// 2023 US Merger Guidelines, Guideline 1: a merger is presumed illegal when the post-merger
/// HHI exceeds 1,800 and raises it by more than 100. Returns the verdict and a note.
pub fn merger_blocked(share_a: f64, share_b: f64, hhi_before: f64) -> (bool, String) {
    let delta = 2.0 * (100.0 * share_a) * (100.0 * share_b);
    let after = hhi_before + delta;
    let blocked = after > 1800.0 && delta > 100.0;
    (blocked, format!("post-merger HHI {after:.0}, ΔHHI {delta:.0}"))
}

fn lab_index(world: &World, id: &str) -> Result<usize, String> {
    world
        .resource::<Layout>()
        .labs
        .iter()
        .position(|l| l == id)
        .ok_or_else(|| format!("unknown lab \"{id}\""))
}

fn provider_index(world: &World, id: &str) -> Result<usize, String> {
    world
        .resource::<Layout>()
        .providers
        .iter()
        .position(|p| p == id)
        .ok_or_else(|| format!("unknown provider \"{id}\""))
}

fn with_lab<R>(world: &mut World, lab: usize, f: impl FnOnce(&mut LabState) -> R) -> Option<R> {
    let mut q = world.query::<(&LabIdx, &mut LabState)>();
    q.iter_mut(world).find(|(i, _)| i.0 == lab).map(|(_, mut s)| f(&mut s))
}

fn with_provider<R>(world: &mut World, p: usize, f: impl FnOnce(&mut ProviderState) -> R) -> Option<R> {
    let mut q = world.query::<(&ProviderIdx, &mut ProviderState)>();
    q.iter_mut(world).find(|(i, _)| i.0 == p).map(|(_, mut s)| f(&mut s))
}

/// Applies one action now; returns a note for the event log.
pub fn apply_action(world: &mut World, action: &Action) -> Result<String, String> {
    match action {
        Action::Set { key, value } => {
            // Seeds are below 2^63 (validated), so the config round-trips through TOML.
            let mut table = config::to_table(&world.resource::<Params>().0);
            config::set_key(&mut table, key, value.clone())?;
            let updated: Config = serde_path_to_error::deserialize(toml::Value::Table(table))
                .map_err(|e| format!("{key}: {}", e.inner().message()))?;
            world.resource_mut::<Params>().0 = updated;
            Ok(format!("{key} = {value}"))
        }
        Action::Contract {
            id,
            lab,
            provider,
            add_credits_musd,
            revenue_share,
            revenue_share_cap_musd,
            min_compute_share,
            commitment_musd,
            licence,
            licence_exclusive,
            end,
        } => {
            let clock = *world.resource::<Clock>();
            let lab = lab.as_deref().map(|l| lab_index(world, l)).transpose()?;
            let provider = provider.as_deref().map(|p| provider_index(world, p)).transpose()?;
            let mut contracts = world.resource_mut::<Contracts>();
            let created = !contracts.0.iter().any(|c| &c.id == id);
            if created {
                let (Some(lab), Some(provider)) = (lab, provider) else {
                    return Err(format!("new contract \"{id}\" needs lab and provider"));
                };
                contracts
                    .0
                    .push(Contract::empty(id, lab, provider, i64::from(clock.tick)));
            }
            let c = contracts.0.iter_mut().find(|c| &c.id == id).expect("present");
            if let Some(v) = add_credits_musd {
                c.credits += v;
            }
            if let Some(v) = revenue_share {
                c.revenue_share = *v;
            }
            if let Some(v) = revenue_share_cap_musd {
                c.revenue_share_cap = *v;
            }
            if let Some(v) = min_compute_share {
                c.min_compute_share = *v;
                c.exclusivity_end = None;
            }
            if let Some(v) = commitment_musd {
                c.commitment = *v;
            }
            if let Some(v) = licence {
                c.licence = *v;
            }
            if let Some(v) = licence_exclusive {
                c.licence_exclusive = *v;
            }
            if let Some(m) = end {
                c.end = Some(clock.tick_of(m));
            }
            Ok(if created {
                format!("contract {id} created")
            } else {
                format!("contract {id} changed")
            })
        }
        Action::AgiDeclaration { lab } => {
            let l = lab_index(world, lab)?;
            let quality = with_lab(world, l, |s| s.quality).unwrap_or(0.0);
            let mut frozen = 0;
            for c in world
                .resource_mut::<Contracts>()
                .0
                .iter_mut()
                .filter(|c| c.lab == l && c.licence)
            {
                c.frozen_quality.get_or_insert(quality);
                c.licence_exclusive = false;
                frozen += 1;
            }
            Ok(format!("{frozen} partner licence(s) frozen at quality {quality:.3}"))
        }
        Action::OpenWeights { lab, gap } => {
            let l = lab_index(world, lab)?;
            let gap = gap.unwrap_or(world.resource::<Params>().0.labs[l].open_weight_gap);
            with_lab(world, l, |s| s.open_release_gap = Some(gap));
            Ok(format!("open-weight release {gap} below frontier"))
        }
        Action::LabEntry { lab } => {
            let l = lab_index(world, lab)?;
            with_lab(world, l, |s| s.active = true);
            Ok("entered".into())
        }
        Action::ProviderEntry {
            provider,
            ramp_kgpu_per_month,
            ramp_months,
        } => {
            let p = provider_index(world, provider)?;
            with_provider(world, p, |s| {
                s.active = true;
                s.ramp
                    .extend(std::iter::repeat_n(*ramp_kgpu_per_month, *ramp_months as usize));
            });
            Ok(format!(
                "entered with a ramp of {ramp_kgpu_per_month} kGPU/month for {ramp_months} months"
            ))
        }
        Action::CapacityShock { provider, factor } => {
            let p = provider_index(world, provider)?;
            with_provider(world, p, |s| s.capacity *= factor);
            Ok(format!("capacity × {factor}"))
        }
        Action::Acquisition {
            provider,
            lab,
            blocked,
            merger_review,
        } => {
            let p = provider_index(world, provider)?;
            let l = lab_index(world, lab)?;
            if *blocked {
                return Ok("blocked by the regulator; nothing changes".into());
            }
            if *merger_review {
                let report = world.resource::<TickReport>();
                let share = |agent: &str| {
                    report
                        .shares
                        .iter()
                        .find(|r| r.market == Market::AiChannel && r.agent == agent)
                        .map_or(0.0, |r| r.share)
                };
                let hhi = report.metrics[Metric::HhiAiChannel];
                let (no, note) = merger_blocked(share(provider), share(lab), hhi);
                if no {
                    return Ok(format!(
                        "blocked under the 2023 Merger Guidelines: {note}; nothing changes"
                    ));
                }
            }
            with_lab(world, l, |s| {
                s.owner = Some(p);
                s.marketplace_listing = false;
            });
            for c in world
                .resource_mut::<Contracts>()
                .0
                .iter_mut()
                .filter(|c| c.lab == l && c.provider != p)
            {
                c.licence = false;
                c.licence_exclusive = false;
            }
            Ok(format!("{lab} now first-party of {provider}; other licences end"))
        }
        Action::BanBundling => {
            world.resource_mut::<Policy>().bundling_banned = true;
            Ok("suite bundles no longer favour the bundler".into())
        }
        Action::CapSwitchingCharges { cap } => {
            let mut reg = world.resource_mut::<Policy>();
            let cap = reg.egress_cap.map_or(*cap, |c| c.min(*cap));
            reg.egress_cap = Some(cap);
            Ok(format!("egress fees capped at {cap}"))
        }
        Action::BanExclusivity => {
            world.resource_mut::<Policy>().exclusivity_banned = true;
            Ok("exclusivity floors and exclusive licences no longer bind".into())
        }
        Action::RemoveLicensingPenalties => {
            world.resource_mut::<Policy>().licensing_penalties_removed = true;
            Ok("licensing penalties on rival clouds removed".into())
        }
        Action::Investigation { remedy, .. } => {
            let mut notes = Vec::new();
            for a in remedy {
                notes.push(apply_action(world, a)?);
            }
            Ok(format!("remedy: {}", notes.join("; ")))
        }
        Action::DemandShock { factor } => {
            world.resource_mut::<Demand>().ai_kgpu_per_unit *= factor;
            Ok(format!("enterprise AI demand × {factor}"))
        }
        Action::GpuPriceCycle {
            amplitude,
            period_months,
        } => {
            let tick = world.resource::<Clock>().tick;
            world.resource_mut::<Policy>().price_cycle = Some((tick, *amplitude, *period_months));
            Ok(format!("GPU price cycle ±{amplitude} over {period_months} months"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merger_guidelines_block_large_concentrating_deals_only() {
        assert!(merger_blocked(0.30, 0.10, 1700.0).0, "ΔHHI 600 into HHI 2,300");
        assert!(!merger_blocked(0.05, 0.05, 900.0).0, "ΔHHI 50 is below 100");
        assert!(
            !merger_blocked(0.10, 0.10, 1000.0).0,
            "post-merger HHI 1,200 is below 1,800"
        );
    }
}
