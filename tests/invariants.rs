//! Invariants that must hold at every tick of a full run: shares per market sum to one, HHI is
//! 10,000 · Σ share² over non-fringe agents, CR-n are the sums of the largest named shares, the
//! enterprise population is conserved, incremental holdings equal a from-scratch recount,
//! capacities are non-negative and no reported number is NaN or infinite.

use aimarket::config::Config;
use aimarket::config::{Market, Metric};
use aimarket::econ::choice::NO_OPTION;
use aimarket::econ::portfolio::NO_CLOUD;
use aimarket::sim::Simulation;
use aimarket::sim::agents::Enterprise;
use aimarket::sim::resources::{Holdings, Layout, Settlement, TickReport};

use crate::common::*;

/// Fringe flags of the agents of market `m`, in the report's agent order.
fn fringe_of_market(config: &Config, m: Market) -> Vec<bool> {
    let providers: Vec<bool> = config.providers.values().map(|p| p.fringe).collect();
    let labs: Vec<bool> = config.labs.values().map(|l| l.fringe).collect();
    match m {
        Market::Cloud => providers,
        Market::AiChannel | Market::Compute => providers.iter().chain(&labs).copied().collect(),
        Market::Model => labs,
        Market::ModelHoster => labs.iter().chain(&providers).copied().collect(),
    }
}

/// Checks one tick's report against the accounting identities of shares and concentration.
fn check_report(config: &Config, report: &TickReport) {
    let tick = report.tick;
    for (metric, v) in report.metrics.iter() {
        assert!(v.is_finite(), "tick {tick}: metric {} = {v}", metric.name());
    }
    for m in Market::all() {
        let market = m.name();
        let rows: Vec<_> = report.shares.iter().filter(|r| r.market == m).collect();
        assert!(!rows.is_empty(), "tick {tick}: market {} has agents", market);
        let fringe = fringe_of_market(config, m);
        assert_eq!(
            rows.len(),
            fringe.len(),
            "tick {tick}: market {} lists every agent once",
            market
        );
        // Concentration by owner, recomputed from the rows: named shares summed by owner.
        let mut by_owner: std::collections::BTreeMap<&str, f64> = std::collections::BTreeMap::new();
        for r in rows.iter().filter(|r| !r.fringe) {
            *by_owner.entry(r.owner.as_str()).or_default() += r.share;
        }
        let owner_hhi: f64 = by_owner.values().map(|s| (100.0 * s).powi(2)).sum();
        let reported = report.metrics[aimarket::config::Metric::hhi_owner(m)];
        assert!(
            (owner_hhi - reported).abs() < 1e-6 * owner_hhi.max(1.0),
            "tick {tick}: {market} owner HHI {reported} vs {owner_hhi} from shares"
        );
        // Merging agents under one owner never lowers concentration.
        assert!(reported + 1e-9 >= report.metrics[aimarket::config::Metric::hhi(m)]);
        // Owner CR3 from the same sums; partial stakes only add cross terms (β, γ ≥ 0), so
        // the MHHI is never below the owner HHI.
        let mut owner_sorted: Vec<f64> = by_owner.values().copied().collect();
        owner_sorted.sort_by(|a, b| b.total_cmp(a));
        let owner_cr3: f64 = owner_sorted.iter().take(3).sum();
        let got_cr3 = report.metrics[aimarket::config::Metric::cr3_owner(m)];
        assert!(
            (got_cr3 - owner_cr3).abs() <= 1e-12,
            "tick {tick}: {market} owner CR3 {got_cr3} vs {owner_cr3} from shares"
        );
        assert!(report.metrics[aimarket::config::Metric::mhhi(m)] + 1e-9 >= reported);
        let total_amount: f64 = rows.iter().map(|r| r.amount).sum();
        let total_share: f64 = rows.iter().map(|r| r.share).sum();
        for r in &rows {
            assert!(
                r.share.is_finite() && r.amount.is_finite(),
                "tick {tick}: {} {} share {} amount {}",
                market,
                r.agent,
                r.share,
                r.amount
            );
            assert!(
                (0.0..=1.0).contains(&r.share),
                "tick {tick}: {} {} share {}",
                market,
                r.agent,
                r.share
            );
            assert!(
                r.amount >= 0.0,
                "tick {tick}: {} {} amount {}",
                market,
                r.agent,
                r.amount
            );
        }
        if total_amount > 0.0 {
            assert!(
                (total_share - 1.0).abs() <= 1e-9,
                "tick {tick}: shares of {} sum to {total_share}",
                market
            );
            for r in &rows {
                assert!(
                    (r.share - r.amount / total_amount).abs() <= 1e-12,
                    "tick {tick}: {} {} share is not amount/total",
                    market,
                    r.agent
                );
            }
        } else {
            assert_eq!(
                total_share, 0.0,
                "tick {tick}: an empty market {} has zero shares",
                market
            );
        }
        // Concentration recomputed from the share rows.
        let named: Vec<f64> = rows
            .iter()
            .zip(&fringe)
            .filter(|(_, f)| !**f)
            .map(|(r, _)| r.share)
            .collect();
        let hhi: f64 = named.iter().map(|s| 10_000.0 * s * s).sum();
        let mut sorted = named.clone();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let cr1: f64 = sorted.iter().take(1).sum();
        let cr3: f64 = sorted.iter().take(3).sum();
        let [got_hhi, got_cr1, got_cr3] = [Metric::hhi(m), Metric::cr1(m), Metric::cr3(m)].map(|k| report.metrics[k]);
        assert!(
            (got_hhi - hhi).abs() <= 1e-9 * 10_000.0,
            "tick {tick}: hhi_{} = {got_hhi}, expected {hhi}",
            market
        );
        assert!(
            (0.0..=10_000.0 + 1e-6).contains(&got_hhi),
            "tick {tick}: hhi_{} out of range",
            market
        );
        assert!(
            (got_cr1 - cr1).abs() <= 1e-12,
            "tick {tick}: cr1_{} = {got_cr1}, expected {cr1}",
            market
        );
        assert!(
            (got_cr3 - cr3).abs() <= 1e-12,
            "tick {tick}: cr3_{} = {got_cr3}, expected {cr3}",
            market
        );
    }
    let n_agents = config.providers.len() + config.labs.len();
    assert_eq!(
        report.agents.len(),
        n_agents,
        "tick {tick}: one row per provider and lab"
    );
    for a in &report.agents {
        let values = [
            Some(a.price),
            Some(a.capacity_kgpu),
            Some(a.utilisation),
            Some(a.revenue_musd),
            a.rent_share,
            a.quality,
            a.dependency,
            Some(a.compute_kgpu),
        ];
        assert!(
            values.iter().flatten().all(|v| v.is_finite()),
            "tick {tick}: non-finite value in agent row {a:?}"
        );
        assert!(
            a.capacity_kgpu >= 0.0,
            "tick {tick}: {} {} has capacity {}",
            a.kind,
            a.agent,
            a.capacity_kgpu
        );
        assert!(
            a.compute_kgpu >= 0.0,
            "tick {tick}: {} {} uses compute {}",
            a.kind,
            a.agent,
            a.compute_kgpu
        );
        assert!(
            a.utilisation >= 0.0 && a.utilisation <= 1.0 + 1e-9,
            "tick {tick}: {} {} utilisation {}",
            a.kind,
            a.agent,
            a.utilisation
        );
        if let Some(d) = a.dependency {
            assert!(
                (0.0..=1.0 + 1e-12).contains(&d),
                "tick {tick}: {} dependency {d}",
                a.agent
            );
        }
    }
    for (metric, v) in report.metrics.iter() {
        if metric.name().ends_with("_rate") {
            assert!(
                (0.0..=1.0).contains(&v),
                "tick {tick}: {} = {v} is not a rate",
                metric.name()
            );
        }
    }
}

/// Recounts holdings from the enterprise portfolios and compares them with the incremental ones.
fn check_holdings(sim: &mut Simulation, enterprises: u32, total_size: u64) {
    let (n_slots, n_providers, n_labs) = {
        let layout = sim.world().resource::<Layout>();
        (layout.slots.n_slots(), layout.n_providers(), layout.n_labs())
    };
    let mut ai = vec![0u64; n_slots + 1];
    let mut cloud = vec![0u64; n_providers + 1];
    let mut ids = Vec::with_capacity(enterprises as usize);
    let mut size_sum = 0u64;
    let mut counts = (0u64, 0u64, 0u64);
    let world = sim.world_mut();
    let mut query = world.query::<&Enterprise>();
    for e in query.iter(world) {
        let p = &e.0;
        let (mc, mm, au) = aimarket::econ::portfolio::flags(p, n_labs);
        counts.0 += u64::from(mc);
        counts.1 += u64::from(mm);
        counts.2 += u64::from(au);
        let size = u64::from(p.size);
        for j in 0..p.ai.len() {
            if p.ai[j] == NO_OPTION {
                assert_eq!(p.ai_units[j], 0, "enterprise {}: an empty AI slot holds no units", p.id);
                continue;
            }
            assert!(
                usize::from(p.ai[j]) < n_slots,
                "enterprise {} has an invalid option",
                p.id
            );
            assert!(p.ai_units[j] > 0, "enterprise {}: a held option holds units", p.id);
            ai[usize::from(p.ai[j])] += size * u64::from(p.ai_units[j]);
        }
        ai[n_slots] += size * u64::from(p.ai_outside);
        let mut seen = Vec::new();
        for j in 0..p.cloud.len() {
            if p.cloud[j] == NO_CLOUD {
                assert_eq!(p.cloud_units[j], 0);
                continue;
            }
            let c = usize::from(p.cloud[j]);
            assert!(
                c < n_providers && !seen.contains(&c),
                "enterprise {}: one slot per provider",
                p.id
            );
            seen.push(c);
            cloud[c] += size * u64::from(p.cloud_units[j]);
        }
        cloud[n_providers] += size * u64::from(p.cloud_outside);
        assert!(p.n_model_families(n_labs) <= p.ai.len());
        size_sum += size;
        ids.push(p.id);
    }
    assert_eq!(ids.len(), enterprises as usize, "the enterprise count is conserved");
    ids.sort_unstable();
    assert!(
        ids.iter().enumerate().all(|(i, &id)| id == i as u32),
        "enterprise ids stay 0..n, each once"
    );
    assert_eq!(size_sum, total_size, "total enterprise size is conserved");
    let holdings = world.resource::<Holdings>();
    assert_eq!(holdings.ai, ai, "incremental AI holdings equal a recount");
    assert_eq!(holdings.cloud, cloud, "incremental cloud holdings equal a recount");
    assert_eq!(
        (holdings.multi_cloud, holdings.multi_model, holdings.ai_users),
        counts,
        "incremental multi-homing counts equal a recount"
    );
    let m = &holdings.month;
    if m.enterprises > 0 {
        assert_eq!(
            m.enterprises,
            u64::from(enterprises),
            "every enterprise is visited each tick"
        );
        assert!(
            m.ai_switches <= m.enterprises
                && m.channel_switches <= m.ai_switches
                && m.primary_switches <= m.enterprises
                && m.cloud_movers <= m.enterprises
        );
    }
}

/// Σ size of every enterprise.
fn total_size(sim: &mut Simulation) -> u64 {
    let world = sim.world_mut();
    let mut query = world.query::<&Enterprise>();
    query.iter(world).map(|e| u64::from(e.0.size)).sum()
}

/// Steps a whole run, checking the report and the holdings after every tick.
/// Money adds up, recomputed from the month's flows: providers' revenue plus labs' revenue less
/// what labs paid hosts (revenue shares cancel: paid by labs, received by providers) is exactly
/// what enterprises paid, AI spend plus the egress fees of leavers (relative 1e-9).
fn check_money(sim: &mut Simulation, t: u32) {
    let f = &sim.world().resource::<Settlement>().0;
    let paid: f64 = f.slot_spend.iter().sum::<f64>() + f.egress_paid.iter().sum::<f64>();
    let received: f64 = f.provider_revenue.iter().sum::<f64>() + f.lab_revenue.iter().sum::<f64>()
        - f.lab_host_bills.iter().sum::<f64>();
    assert!(
        (paid - received).abs() <= 1e-9 * paid.abs().max(1.0),
        "tick {t}: enterprises paid {paid}, sellers received {received}"
    );
}

fn check_full_run(config: &Config) {
    let enterprises = config.run.enterprises;
    let mut sim = Simulation::new(config);
    let total_size = total_size(&mut sim);
    check_holdings(&mut sim, enterprises, total_size);
    let mut ticks = 0;
    for t in 0..config.run.ticks {
        let report = sim.step().unwrap_or_else(|e| panic!("tick {t} failed: {e}")).clone();
        assert_eq!(report.tick, t);
        check_report(config, &report);
        check_holdings(&mut sim, enterprises, total_size);
        check_money(&mut sim, t);
        ticks += 1;
    }
    assert_eq!(ticks, config.run.ticks);
}

#[test]
fn baseline_run_keeps_every_accounting_invariant_at_every_tick() {
    // The shipped baseline as is: 100,000 enterprises over 120 months.
    check_full_run(&baseline(&[]));
}

#[test]
fn invariants_hold_with_frequent_reviews_and_migrations() {
    // Many switches and home moves stress the incremental holdings.
    check_full_run(&small_baseline(
        5_000,
        60,
        &[
            "run.seed=7",
            "enterprise.review_probability=0.9",
            "enterprise.cloud_review_probability=0.5",
            "enterprise.migration_cost=0.5",
            "enterprise.switch_cost_base=0.5",
        ],
    ));
}

#[test]
fn invariants_hold_when_capacity_is_scarce_and_prices_move() {
    // Demand far above capacity: rationing, price caps and investment responses all bind.
    check_full_run(&small_baseline(
        5_000,
        60,
        &[
            "run.seed=11",
            "demand.ai_inference_kgpu=20000",
            "providers.*.price_response=0.5",
            "providers.*.invest_rate=0",
        ],
    ));
}

#[test]
fn invariants_hold_in_every_shipped_scenario_with_its_events() {
    let dir = repo("configs/scenarios");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("dir entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect()
        })
        .unwrap_or_default();
    paths.sort();
    for path in paths {
        let overrides = ["run.enterprises=3000".to_string()];
        let config = aimarket::config::load(&path, &overrides).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("scenario {}", path.display());
        check_full_run(&config);
    }
}

#[test]
fn resources_are_created_before_the_enterprises_and_ticks_create_none() {
    // bevy 0.20 stores resources as entities in sparse sets indexed by entity index: a resource
    // entity placed after N enterprises costs 4 bytes per enterprise (the memory target is
    // ≤ 100 bytes per enterprise). Every resource entity must come before every enterprise.
    use bevy_ecs::entity::Entity;
    use bevy_ecs::query::With;
    use bevy_ecs::resource::IsResource;
    let mut sim = Simulation::new(&small_baseline(5_000, 12, &[]));
    let last_resource = |sim: &mut Simulation| {
        let world = sim.world_mut();
        let mut q = world.query_filtered::<Entity, With<IsResource>>();
        q.iter(world).map(|e| e.index_u32()).max().expect("resources exist")
    };
    let first_enterprise = {
        let world = sim.world_mut();
        let mut q = world.query_filtered::<Entity, With<Enterprise>>();
        q.iter(world).map(|e| e.index_u32()).min().expect("enterprises exist")
    };
    assert!(
        last_resource(&mut sim) < first_enterprise,
        "a resource entity sits after the enterprises"
    );
    for _ in 0..12 {
        sim.step().expect("tick");
    }
    assert!(
        last_resource(&mut sim) < first_enterprise,
        "a tick created a resource after the enterprises"
    );
}
