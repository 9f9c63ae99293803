//! Owners and stakes in a running world: explicit corporate owners aggregate the owner-level
//! series and price jointly, `stake` events move the MHHI by the O'Brien–Salop arithmetic and a
//! controlling stake is ownership, the merger review reports the Guidelines' figures and
//! decides by its rule, and investigations can watch owner-level concentration.

use aimarket::config::{self, Config, Market, Metric};
use aimarket::sim::Simulation;
use aimarket::sim::agents::{LabIdx, LabState, ProviderIdx, ProviderState};
use aimarket::sim::events::EventLog;
use aimarket::sim::resources::{Layout, TickReport};

use crate::common::repo;

/// The baseline with `extra` TOML appended (events), `enterprises` agents, `ticks` months.
fn with_extra(enterprises: u32, ticks: u32, extra: &str) -> Config {
    crate::common::with_extra(enterprises, ticks, extra, &[])
}

/// Runs `config` for all its ticks, returning every report and the event log.
fn run(config: &Config) -> (Vec<TickReport>, Vec<(u32, String, String)>) {
    let mut sim = Simulation::new(config);
    let mut reports = Vec::new();
    while sim.ticks_done() < config.run.ticks {
        reports.push(sim.step().unwrap_or_else(|e| panic!("run failed: {e}")).clone());
    }
    let log = sim
        .world()
        .resource::<EventLog>()
        .0
        .iter()
        .map(|e| (e.tick, e.kind.clone(), e.note.clone()))
        .collect();
    (reports, log)
}

fn share(r: &TickReport, market: Market, agent: &str) -> f64 {
    r.shares
        .iter()
        .find(|s| s.market == market && s.agent == agent)
        .map(|s| s.share)
        .expect("agent in market")
}

fn owner_of(r: &TickReport, market: Market, agent: &str) -> String {
    r.shares
        .iter()
        .find(|s| s.market == market && s.agent == agent)
        .map(|s| s.owner.clone())
        .expect("agent in market")
}

/// Sum of the named shares of `owner` in `market`.
fn owner_share(r: &TickReport, market: Market, owner: &str) -> f64 {
    r.shares
        .iter()
        .filter(|s| s.market == market && !s.fringe && s.owner == owner)
        .map(|s| s.share)
        .sum()
}

fn price(sim: &mut Simulation, id: &str) -> f64 {
    let p = sim
        .world()
        .resource::<Layout>()
        .providers
        .iter()
        .position(|x| x == id)
        .unwrap();
    let world = sim.world_mut();
    let mut q = world.query::<(&ProviderIdx, &ProviderState)>();
    q.iter(world).find(|(i, _)| i.0 == p).map(|(_, s)| s.price).unwrap()
}

fn lab_owner(sim: &mut Simulation, id: &str) -> Option<usize> {
    let l = sim
        .world()
        .resource::<Layout>()
        .labs
        .iter()
        .position(|x| x == id)
        .unwrap();
    let world = sim.world_mut();
    let mut q = world.query::<(&LabIdx, &LabState)>();
    q.iter(world).find(|(i, _)| i.0 == l).and_then(|(_, s)| s.owner)
}

#[test]
fn baseline_owners_are_the_corporate_groups() {
    let config = with_extra(500, 1, "");
    let (reports, _) = run(&config);
    let r = &reports[0];
    assert_eq!(owner_of(r, Market::AiChannel, "gcp"), "alphabet");
    assert_eq!(owner_of(r, Market::AiChannel, "deepmind"), "alphabet");
    assert_eq!(owner_of(r, Market::AiChannel, "microsoft_mai"), "microsoft");
    assert_eq!(owner_of(r, Market::Compute, "self:deepmind"), "alphabet");
    assert_eq!(owner_of(r, Market::AiChannel, "openai"), "openai");
    // Owner HHI of the channel = per-agent HHI + 2 s_gcp s_deepmind + 2 s_azure s_mai (· 10^4).
    let s = |a| share(r, Market::AiChannel, a);
    let expected =
        r.metrics[Metric::HhiAiChannel] + 2e4 * s("gcp") * s("deepmind") + 2e4 * s("azure") * s("microsoft_mai");
    let got = r.metrics[Metric::HhiOwnerAiChannel];
    assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
}

#[test]
fn providers_with_one_owner_price_jointly() {
    // Oracle owned by Microsoft: Azure and Oracle internalise the diversion between them, so
    // their prices rise above the independent ones (a merger of substitutes in a logit). If the
    // pricing ignored `providers.<id>.owner` (each provider its own owner), both runs would be
    // identical until the owner series, and this test would fail. Theory says so without
    // capacity constraints, so capacity is made ample: with the baseline's binding capacities
    // a full plant's price is set by clearing, and the co-owned Oracle's price fell (Azure
    // 3.18 → 3.37, Oracle 4.14 → 3.95 US$/GPU-h, months 12–59, 2,000 enterprises).
    let mut base = with_extra(2000, 10, "");
    for p in base.providers.values_mut() {
        p.capacity_kgpu = 1e6;
    }
    let mut joint = base.clone();
    joint.providers["oracle"].owner = Some("microsoft".into());
    let (mut a, mut b) = (Simulation::new(&base), Simulation::new(&joint));
    for _ in 0..10 {
        a.step().unwrap();
        b.step().unwrap();
    }
    let (az0, or0, az1, or1) = (
        price(&mut a, "azure"),
        price(&mut a, "oracle"),
        price(&mut b, "azure"),
        price(&mut b, "oracle"),
    );
    eprintln!("azure {az0} → {az1}, oracle {or0} → {or1}");
    assert!(
        az1 >= az0 - 1e-9 && or1 >= or0 - 1e-9,
        "no price falls: azure {az0} → {az1}, oracle {or0} → {or1}"
    );
    assert!(
        az1 + or1 > az0 + or0 + 1e-3,
        "joint pricing raises prices: azure {az0} → {az1}, oracle {or0} → {or1}"
    );
    // And the owner series count them as one firm: ΔHHI_owner(cloud) = 2 s_azure s_oracle.
    let (reports, _) = run(&joint);
    let r = &reports[0];
    let s = |p| share(r, Market::Cloud, p);
    let expected = r.metrics[Metric::HhiCloud] + 2e4 * s("azure") * s("oracle");
    assert!((r.metrics[Metric::HhiOwnerCloud] - expected).abs() < 1e-6);
}

#[test]
fn a_stake_event_moves_the_mhhi_by_the_obrien_salop_arithmetic() {
    // No stakes at first; Microsoft takes 27 % of OpenAI (proportional control) at tick 2.
    let mut config = with_extra(
        2000,
        5,
        "[[events]]\ntick = 2\nkind = \"stake\"\nowner = \"microsoft\"\ntarget = \"openai\"\nshare = 0.27\n",
    );
    config.stakes.clear();
    let (reports, log) = run(&config);
    for r in &reports[..2] {
        let (m, o) = (r.metrics[Metric::MhhiModel], r.metrics[Metric::HhiOwnerModel]);
        assert!((m - o).abs() < 1e-9 * o, "no stakes: MHHI {m} = owner HHI {o}");
    }
    assert!(
        log.iter()
            .any(|(t, k, n)| *t == 2 && k == "stake" && n.contains("27.0 %")),
        "{log:?}"
    );
    // Model market: Microsoft is MAI's owner. Hand formula (concentration.rs test): Microsoft
    // weighs OpenAI's profit by 0.27, OpenAI weighs Microsoft's by 0.27 / (0.27² + 0.73²).
    for r in &reports[2..] {
        let (sm, so) = (
            share(r, Market::Model, "microsoft_mai"),
            share(r, Market::Model, "openai"),
        );
        let delta = 1e4 * sm * so * (0.27 + 0.27 / (0.27f64.powi(2) + 0.73f64.powi(2)));
        let got = r.metrics[Metric::MhhiModel] - r.metrics[Metric::HhiOwnerModel];
        assert!((got - delta).abs() < 1e-5, "tick {}: ΔMHHI {got} vs {delta}", r.tick);
        // AI channel: Microsoft's channel is Azure + MAI.
        let (cm, co) = (
            owner_share(r, Market::AiChannel, "microsoft"),
            owner_share(r, Market::AiChannel, "openai"),
        );
        let delta = 1e4 * cm * co * (0.27 + 0.27 / (0.27f64.powi(2) + 0.73f64.powi(2)));
        let got = r.metrics[Metric::MhhiAiChannel] - r.metrics[Metric::HhiOwnerAiChannel];
        assert!(
            delta > 10.0 && (got - delta).abs() < 1e-5,
            "tick {}: ΔMHHI {got} vs {delta}",
            r.tick
        );
    }
}

#[test]
fn a_controlling_stake_makes_the_target_owned() {
    let config = with_extra(
        1000,
        4,
        "[[events]]\ntick = 2\nkind = \"stake\"\nowner = \"microsoft\"\ntarget = \"openai\"\nshare = 0.6\n",
    );
    let mut sim = Simulation::new(&config);
    for _ in 0..2 {
        sim.step().unwrap();
    }
    assert_eq!(lab_owner(&mut sim, "openai"), None);
    let r = sim.step().unwrap().clone();
    let azure = sim
        .world()
        .resource::<Layout>()
        .providers
        .iter()
        .position(|p| p == "azure");
    assert_eq!(lab_owner(&mut sim, "openai"), azure, "OpenAI first-party of Azure");
    assert_eq!(owner_of(&r, Market::Model, "openai"), "microsoft");
    // Every stake in OpenAI lapsed (the holders are bought out): the baseline's other stakes
    // (in Anthropic) remain.
    let live = &sim.world().resource::<aimarket::sim::resources::Params>().0.stakes;
    assert!(live.iter().all(|s| s.target != "openai") && live.iter().any(|s| s.target == "anthropic"));
}

/// The number after `label` in a review note, e.g. `"Δ "` → ΔHHI.
fn figure(note: &str, label: &str) -> f64 {
    let rest = &note[note.find(label).unwrap_or_else(|| panic!("{label} in {note}")) + label.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(rest.len());
    rest[..end]
        .parse()
        .unwrap_or_else(|_| panic!("number after {label} in {note}"))
}

#[test]
fn the_merger_review_reports_the_guidelines_figures_and_decides_by_its_rule() {
    let review = |rule: &str, threshold: f64| {
        with_extra(
            2000,
            4,
            &format!(
                "[[events]]\ntick = 3\nkind = \"acquisition\"\nprovider = \"aws\"\nlab = \"anthropic\"\nreview = {{ market = \"ai_channel\", rule = \"{rule}\", guppi_threshold = {threshold} }}\n"
            ),
        )
    };
    let (reports, log) = run(&review("report", 0.05));
    let note = &log.iter().find(|(_, k, _)| k == "acquisition").expect("fired").2;
    assert!(
        note.contains("not blocked") && note.contains("first-party"),
        "report never blocks: {note}"
    );
    // The figures from last month's owner-aggregated channel shares, by hand.
    let r = &reports[2];
    let (sa, sb) = (
        owner_share(r, Market::AiChannel, "amazon"),
        owner_share(r, Market::AiChannel, "anthropic"),
    );
    assert!((figure(note, "(Δ ") - (2e4 * sa * sb).round()).abs() <= 1.0, "{note}");
    assert!(
        (figure(note, "HHI ") - r.metrics[Metric::HhiOwnerAiChannel].round()).abs() <= 1.0,
        "{note}"
    );
    assert!(
        (figure(note, "merged share ") - (100.0 * (sa + sb) * 10.0).round() / 10.0).abs() <= 0.1,
        "{note}"
    );
    // Diversion with the outside option: σ = (1 − s_0) s.
    let s0 = r.metrics[Metric::AiOutsideShare];
    let d = (1.0 - s0) * sb / (1.0 - (1.0 - s0) * sa);
    assert!((figure(note, "diversion amazon→anthropic ") - d).abs() < 5e-4, "{note}");
    // GUPPI positive: a zero threshold blocks, a threshold of 100 % does not.
    let (_, log0) = run(&review("guppi", 0.0));
    assert!(
        log0.iter()
            .any(|(_, k, n)| k == "acquisition" && n.starts_with("blocked")),
        "{log0:?}"
    );
    let (_, log1) = run(&review("guppi", 1.0));
    assert!(
        log1.iter()
            .any(|(_, k, n)| k == "acquisition" && n.contains("not blocked")),
        "{log1:?}"
    );
}

#[test]
fn an_investigation_can_watch_owner_level_concentration() {
    // A threshold between the per-agent and the owner HHI of the channel: only the owner-level
    // investigation opens.
    let probe = run(&with_extra(2000, 2, "")).0;
    let (h, ho) = (
        probe[0].metrics[Metric::HhiAiChannel],
        probe[0].metrics[Metric::HhiOwnerAiChannel],
    );
    assert!(ho > h + 100.0, "owners add concentration: {h} vs {ho}");
    let watch = |measure: &str| {
        with_extra(
            2000,
            2,
            &format!(
                "[[events]]\nkind = \"investigation\"\nmarket = \"ai_channel\"\nmeasure = \"{measure}\"\nthreshold = {}\nremedy = [{{ kind = \"ban_bundling\" }}]\n",
                (h + ho) / 2.0
            ),
        )
    };
    let (_, owner_log) = run(&watch("hhi_owner"));
    assert!(
        owner_log.iter().any(|(t, k, _)| *t == 1 && k == "investigation"),
        "{owner_log:?}"
    );
    let (_, agent_log) = run(&watch("hhi"));
    assert!(!agent_log.iter().any(|(_, k, _)| k == "investigation"), "{agent_log:?}");
}

#[test]
fn the_cloud_investigation_scenario_opens_and_imposes_its_remedy() {
    let config = config::load(
        &repo("configs/scenarios/cloud_investigation.toml"),
        &["run.enterprises=2000".to_string(), "run.ticks=48".to_string()],
    )
    .expect("valid scenario");
    let (_, log) = run(&config);
    let opened = log.iter().find(|(_, k, _)| k == "investigation").expect("opens").0;
    for kind in ["cap_switching_charges", "remove_licensing_penalties"] {
        let t = log
            .iter()
            .find(|(_, k, _)| k == kind)
            .unwrap_or_else(|| panic!("{kind}: {log:?}"))
            .0;
        assert_eq!(t, opened + 21, "{kind} 21 months after opening");
    }
}

#[test]
fn bad_ownership_events_are_rejected_naming_the_key() {
    let cases = [
        (
            "[[events]]\ntick = 1\nkind = \"stake\"\nowner = \"nvidia\"\ntarget = \"anthropic\"\nshare = 0.05\n",
            "events[0].owner",
            "\"nvidia\"",
        ),
        (
            "[[events]]\ntick = 1\nkind = \"stake\"\nowner = \"meta\"\ntarget = \"mistral\"\nshare = 0.7\n",
            "events[0].control",
            "owns no provider",
        ),
        (
            "[[events]]\ntick = 1\nkind = \"acquisition\"\nprovider = \"aws\"\nlab = \"anthropic\"\nreview = { market = \"gpu\" }\n",
            "events[0].review.market",
            "\"gpu\"",
        ),
        (
            "[[events]]\ntick = 1\nkind = \"acquisition\"\nprovider = \"aws\"\nlab = \"anthropic\"\nreview = { rule = \"vibes\" }\n",
            "events[0]",
            "vibes",
        ),
        (
            "[[events]]\nkind = \"investigation\"\nmarket = \"cloud\"\nmeasure = \"cr9\"\nremedy = [{ kind = \"ban_bundling\" }]\n",
            "events[0].measure",
            "hhi_owner",
        ),
    ];
    for (extra, key, fragment) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(
            &path,
            format!("extends = '{}'\n{extra}", repo("configs/baseline.toml").display()),
        )
        .unwrap();
        let e = config::load(&path, &[]).expect_err(extra);
        let text = e.to_string();
        assert!(text.contains(key) && text.contains(fragment), "{extra}: {text}");
    }
}

#[test]
fn a_stake_is_addressable_by_its_index_for_set_and_sweeps() {
    // Amazon's share of Anthropic is an assumption (range 0.10–0.33): `--set stakes[1].share`.
    let c = config::load(&repo("configs/baseline.toml"), &["stakes[1].share=0.3".to_string()]).expect("valid");
    assert_eq!((c.stakes[1].owner.as_str(), c.stakes[1].share), ("amazon", 0.3));
    let table = config::to_table(&c);
    assert_eq!(
        config::get_key(&table, "stakes[1].share").and_then(toml::Value::as_float),
        Some(0.3)
    );
    // An index past the list is refused, naming the key.
    let e = config::load(&repo("configs/baseline.toml"), &["stakes[9].share=0.3".to_string()]).unwrap_err();
    assert!(e.to_string().contains("stakes[9].share"), "{e}");
}
