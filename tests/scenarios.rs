//! The scenario library: every scenario has a valid header and runs, and its effect against the
//! baseline has the sign stated in its header ("Expected", or "Finding" where the model
//! disagrees with the sources for a documented reason). Effects are paired differences over
//! replicates with common random numbers (as `aimarket compare`), asserted with a 95 % CI
//! that excludes 0 where the effect is clear.

use std::ops::Range;
use std::sync::OnceLock;

use aimarket::config::scenario as scenarios;
use aimarket::config::{self, Config};
use aimarket::sim::resources::TickReport;
use aimarket::sim::rng::derive_seed;
use aimarket::sim::{Observer, simulate};
use aimarket::stats::{Paired, paired};
use rayon::prelude::*;

use crate::common::{read_csv, repo};

/// Population of the runs: at 50,000 enterprises × 8 replicates the asserted effects are
/// resolved (at 20,000 the open-weights channel effect was not, after the 2019–22 estimates).
const ENTERPRISES: u32 = 50_000;
const REPLICATES: u64 = 8;
/// Tick of 2027-01.
const Y2027: usize = 12;
/// Tick of 2030-01.
const Y2030: usize = 48;
const ALL: Range<usize> = 0..120;
const FINAL: Range<usize> = 119..120;

const NAMES: [&str; 12] = [
    "agi_declared",
    "azure_exclusivity",
    "balanced_partnership",
    "cloud_investigation",
    "consolidation",
    "eu_data_act",
    "ftc_unbundling",
    "microsoft_first_party",
    "msft_credits",
    "open_weights_surge",
    "openai_multicloud",
    "stargate_entry",
];

#[derive(Default)]
struct Keep(Vec<TickReport>);

impl Observer for Keep {
    fn tick(&mut self, report: &TickReport) -> Result<(), String> {
        self.0.push(report.clone());
        Ok(())
    }
}

type Run = Vec<TickReport>;

fn load(path: &str, replicate: u64) -> Config {
    let overrides = vec![format!("run.enterprises={ENTERPRISES}")];
    let mut config = config::load(&repo(path), &overrides).unwrap_or_else(|e| panic!("{path} is valid: {e}"));
    // Derived seeds use all 64 bits (beyond TOML integers), so they are set on the typed config.
    config.run.seed = derive_seed(20_260_101, 0, replicate);
    config
}

fn run_replicates(path: &str) -> Vec<Run> {
    let configs: Vec<Config> = (0..REPLICATES).map(|r| load(path, r)).collect();
    configs
        .par_iter()
        .map(|c| {
            let mut keep = Keep::default();
            simulate(c, &mut keep, &mut |_| {}, &|| false).unwrap_or_else(|e| panic!("{path}: {e}"));
            keep.0
        })
        .collect()
}

fn base() -> &'static [Run] {
    static BASE: OnceLock<Vec<Run>> = OnceLock::new();
    BASE.get_or_init(|| run_replicates("configs/baseline.toml"))
}

fn metric(name: &str) -> impl Fn(&TickReport) -> f64 {
    let i = aimarket::config::Metric::from_name(name).unwrap_or_else(|| panic!("metric {name}"));
    move |r| r.metrics[i]
}

fn agent(
    name: &'static str,
    pick: fn(&aimarket::sim::resources::AgentRow) -> Option<f64>,
) -> impl Fn(&TickReport) -> f64 {
    move |r| r.agents.iter().find(|a| a.agent == name).and_then(pick).unwrap_or(0.0)
}

fn rent(provider: &'static str) -> impl Fn(&TickReport) -> f64 {
    agent(provider, |a| a.rent_share)
}

fn dependency(lab: &'static str) -> impl Fn(&TickReport) -> f64 {
    agent(lab, |a| a.dependency)
}

/// Paired effect of a scenario on the mean of `f` over `window`.
fn effect(scenario: &[Run], f: impl Fn(&TickReport) -> f64, window: Range<usize>) -> Paired {
    let mean = |run: &Run| run[window.clone()].iter().map(&f).sum::<f64>() / window.len() as f64;
    let b: Vec<f64> = base().iter().map(mean).collect();
    let s: Vec<f64> = scenario.iter().map(mean).collect();
    paired(&b, &s)
}

fn down(p: Paired, what: &str) {
    assert!(p.ci_high < 0.0, "{what} should fall: {p:?}");
}

fn up(p: Paired, what: &str) {
    assert!(p.ci_low > 0.0, "{what} should rise: {p:?}");
}

fn scenario(name: &str) -> Vec<Run> {
    run_replicates(&format!("configs/scenarios/{name}.toml"))
}

#[test]
fn every_scenario_has_a_header_and_the_listing_names_them_all() {
    let found = scenarios::discover(&repo("configs/scenarios")).expect("headers parse");
    let names: Vec<&str> = found.iter().map(|s| s.header.name.as_str()).collect();
    assert_eq!(names, NAMES);
    for s in &found {
        let text = std::fs::read_to_string(&s.path).expect("read");
        assert!(
            text.contains("extends = \"../baseline.toml\""),
            "{} changes the baseline by extension",
            s.header.name
        );
        assert!(!s.header.expected.is_empty() && !s.header.source.is_empty());
    }
    let out = std::process::Command::new(crate::common::binary())
        .args(["scenarios", "--dir"])
        .arg(repo("configs/scenarios"))
        .output()
        .expect("binary runs");
    assert!(out.status.success());
    let listing = String::from_utf8_lossy(&out.stdout);
    for n in NAMES {
        assert!(listing.lines().any(|l| l.starts_with(n)), "{n} listed: {listing}");
    }
}

#[test]
fn eu_data_act_raises_switching_but_leaves_cloud_homes_alone() {
    let s = scenario("eu_data_act");
    up(
        effect(&s, metric("provider_switching_rate"), Y2027..120),
        "provider switching from 2027",
    );
    up(effect(&s, metric("switching_rate"), Y2027..120), "switching from 2027");
    // Finding: egress charges enter the AI-supplier choice only; cloud-home migration has its
    // own cost, so hhi_cloud does not move.
    let cloud = effect(&s, metric("hhi_cloud"), FINAL);
    assert!(cloud.delta.abs() < 2.0, "hhi_cloud unchanged: {cloud:?}");
}

#[test]
fn agi_declaration_moves_openai_spend_off_azure() {
    let s = scenario("agi_declared");
    down(effect(&s, rent("azure"), FINAL), "rent.azure in 2035");
    down(effect(&s, metric("hhi_ai_channel"), FINAL), "hhi_ai_channel in 2035");
    up(
        effect(&s, metric("direct_api_share"), FINAL),
        "direct_api_share in 2035",
    );
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises: AI
    // consumer surplus −579 [−595, −562], total welfare −1,110 [−1,174, −1,047]).
    down(surplus_at_base(&s, ALL), "AI consumer surplus at the base's prices");
    down(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn ftc_unbundling_weakens_azure() {
    let s = scenario("ftc_unbundling");
    down(effect(&s, rent("azure"), ALL), "rent.azure");
    down(effect(&s, metric("hhi_ai_channel"), ALL), "hhi_ai_channel");
    down(effect(&s, metric("hhi_cloud"), FINAL), "hhi_cloud in 2035");
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises: AI
    // consumer surplus −462 [−478, −447], total welfare −872 [−984, −760]).
    down(surplus_at_base(&s, ALL), "AI consumer surplus at the base's prices");
    down(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn openai_multicloud_lowers_openai_dependency_and_compute_concentration() {
    let s = scenario("openai_multicloud");
    down(
        effect(&s, dependency("openai"), 3..Y2030),
        "OpenAI's dependency 2026-04 to 2029",
    );
    // Compute concentration over the decade falls a little, as expected (−6 [−8, −4] at 100,000
    // enterprises; with configured model fees it rose, +14).
    down(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    // Azure's rent share: with contracts that bind alone it fell by 2035, as the header expects;
    // with the 2026 record in the baseline too (OpenAI's models on Bedrock from 2026-04) the
    // fall is small (−0.001 [−0.002, −0.000] at 100,000 × 8) and not always significant at this
    // size, so it is not asserted either way.
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises:
    // total welfare +245 [+130, +360]).
    up(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn consolidation_concentrates_compute_and_cloud_but_not_the_channel() {
    let s = scenario("consolidation");
    // With multi-homed AI portfolios the channel HHI no longer rises significantly (finding in
    // the scenario's header); the acquirers' marketplaces pull new cloud projects instead.
    up(effect(&s, metric("hhi_cloud"), ALL), "hhi_cloud");
    up(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    up(effect(&s, metric("mean_lab_dependency"), ALL), "mean lab dependency");
    up(effect(&s, rent("azure"), ALL), "rent.azure");
    up(effect(&s, rent("aws"), ALL), "rent.aws");
    // Customers are worse off (significant at 20,000 and 100,000 enterprises; not decomposed).
    down(
        effect(&s, metric("consumer_surplus_ai_musd"), ALL),
        "AI consumer surplus",
    );
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises: AI
    // consumer surplus −1,958 [−2,044, −1,872], total welfare −2,904 [−2,973, −2,836]).
    down(surplus_at_base(&s, ALL), "AI consumer surplus at the base's prices");
    down(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn a_cloud_investigation_opens_on_the_hhi_and_its_remedy_deconcentrates_cloud() {
    let s = scenario("cloud_investigation");
    // Nothing changes before the remedy (2028-10 at the earliest: the HHI crosses 1,800 in
    // 2026-12, + 1 month to read it, + 21 months): the runs are the baseline's.
    let before = effect(&s, metric("hhi_cloud"), 0..Y2027);
    assert_eq!(before.delta, 0.0, "identical before the investigation: {before:?}");
    down(effect(&s, metric("hhi_cloud"), FINAL), "hhi_cloud in 2035");
    down(effect(&s, metric("hhi_cloud"), ALL), "hhi_cloud");
    up(
        effect(&s, metric("provider_switching_rate"), Y2030..120),
        "provider switching after the remedy",
    );
    up(
        effect(&s, metric("consumer_surplus_cloud_musd"), ALL),
        "cloud consumer surplus",
    );
}

#[test]
fn balanced_partnership_lowers_dependency_and_channel_concentration() {
    let s = scenario("balanced_partnership");
    down(effect(&s, metric("mean_lab_dependency"), ALL), "mean lab dependency");
    down(effect(&s, dependency("anthropic"), ALL), "Anthropic's dependency");
    down(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    // Finding (the header's): the model layer concentrates (Anthropic, no longer tied to AWS,
    // grows): +56 [+34, +77] over the decade and +103 [+58, +148] in 2035 at 100,000
    // enterprises. With strategic model fees neither is resolved at this test's size (+49
    // [−14, +112] over the decade), so it is not asserted here.
    // Its consumer surplus gain is significant at this size too.
    up(
        effect(&s, metric("consumer_surplus_ai_musd"), ALL),
        "AI consumer surplus",
    );
    // The header's fall of hhi_ai_channel (−47 [−75, −20] at 100,000 enterprises) is near the
    // resolution of this test's size, so it is not asserted here.
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises: AI
    // consumer surplus +796 [+757, +835], total welfare +867 [+724, +1,010]).
    up(surplus_at_base(&s, ALL), "AI consumer surplus at the base's prices");
    up(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn open_weights_deconcentrate_the_channel_and_raise_rent_but_concentrate_the_model_layer() {
    let s = scenario("open_weights_surge");
    down(effect(&s, metric("hhi_ai_channel"), ALL), "hhi_ai_channel");
    up(effect(&s, metric("infrastructure_rent"), ALL), "infrastructure rent");
    up(
        effect(&s, metric("consumer_surplus_ai_musd"), ALL),
        "AI consumer surplus",
    );
    down(effect(&s, rent("azure"), ALL), "rent.azure");
    // Finding: open copies count as their lab's model, so OpenAI's model share grows.
    up(effect(&s, metric("hhi_model"), ALL), "hhi_model");
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises: AI
    // consumer surplus +3,929 [+3,804, +4,054], total welfare −869 [−967, −770]: customers gain less
    // than sellers lose).
    up(surplus_at_base(&s, ALL), "AI consumer surplus at the base's prices");
    down(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn microsoft_first_party_grows_azures_rent_and_lab_dependency() {
    let s = scenario("microsoft_first_party");
    // Since issue 10 (contracts that bind, lab finances) Azure's own rent share no longer rises
    // significantly over the decade (+0.001, n.s.) and falls by 2035; the market's rent rises.
    down(effect(&s, rent("azure"), FINAL), "rent.azure in 2035");
    up(effect(&s, metric("infrastructure_rent"), ALL), "infrastructure rent");
    // Finding: the entrant trains on Azure and loads its fleet, so every lab's host dependency
    // rises; the model layer does not split (hhi_model not significant, see the header).
    up(effect(&s, metric("mean_lab_dependency"), ALL), "mean lab dependency");
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises: AI
    // consumer surplus −1,457 [−1,562, −1,353], total welfare −1,488 [−1,609, −1,367]).
    down(surplus_at_base(&s, ALL), "AI consumer surplus at the base's prices");
    down(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

/// Tick of 2027-01 as a window end: the first year.
const Y2026: Range<usize> = 0..Y2027;

#[test]
fn msft_credits_buy_openai_compute_and_are_no_cash_for_azure() {
    let s = scenario("msft_credits");
    // Credit-paid compute costs OpenAI no cash: it trains more and its quality rises in the
    // year the credits are drawn (before issue 10 every quantity moved by exactly 0).
    up(
        effect(&s, agent("openai", |a| a.quality), Y2026),
        "OpenAI's quality in 2026",
    );
    // Finding (strategic model fees): in the year the credits are drawn compute concentration
    // falls (OpenAI's extra compute spills to other hosts); over the decade it does not move
    // significantly (−2 [−6, +1] at 100,000 enterprises). With configured fees it rose.
    down(effect(&s, metric("hhi_compute"), Y2026), "hhi_compute in 2026");
    // Paid in kind: Azure's cash revenue from OpenAI, and so its rent, falls.
    down(effect(&s, rent("azure"), Y2026), "rent.azure in 2026");
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises:
    // total welfare +307 [+184, +431], significant only in this conversion).
    up(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn azure_exclusivity_ties_openai_to_azure_and_concentrates_compute() {
    let s = scenario("azure_exclusivity");
    up(effect(&s, dependency("openai"), ALL), "OpenAI's dependency");
    up(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    up(effect(&s, rent("azure"), ALL), "rent.azure");
    // Welfare at the base's prices (2026–35 averages; docs/MODEL.md §7.10, at 100,000 enterprises: AI
    // consumer surplus −390 [−489, −290], total welfare −510 [−641, −379]).
    down(surplus_at_base(&s, ALL), "AI consumer surplus at the base's prices");
    down(welfare_at_base(&s, ALL), "total welfare at the base's prices");
}

#[test]
fn stargate_entry_deconcentrates_compute() {
    let s = scenario("stargate_entry");
    down(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    // With strategic model fees the entrant's capacity lowers the compute price over the decade
    // (−0.17 [−0.17, −0.16] US$/GPU-h at 100,000 enterprises), as expected; with configured fees
    // it rose.
    down(effect(&s, metric("mean_compute_price"), ALL), "mean compute price");
    // Finding: total welfare at the fixed reference falls (−607 [−688, −525] at 100,000), but at
    // the base's prices, the conversion that adds up with profits in US$, it rises (+431 [+363,
    // +500]): customers' gain from cheaper compute outweighs the providers' loss.
    up(welfare_at_base(&s, ALL), "total welfare at the base's prices");
    down(
        effect(&s, metric("total_welfare_musd"), ALL),
        "total welfare at the reference",
    );
}

/// Paired effect on AI consumer surplus (`profits` false) or AI-layer welfare (`profits` true)
/// with consumer surplus at the base replicate's own marginal utility of money each month (as
/// `compare`'s `consumer_surplus_ai_at_base_musd` and `total_welfare_at_base_musd`).
fn at_base(scenario: &[Run], window: Range<usize>, profits: bool) -> Paired {
    use aimarket::config::Metric as M;
    let value = |run: &Run, base: &Run| {
        window
            .clone()
            .map(|t| {
                let (r, b) = (&run[t].metrics, &base[t].metrics);
                let surplus = aimarket::econ::surplus::at_marginal_utility(
                    r[M::ConsumerSurplusAiMusd],
                    r[M::AiSurplusReferenceRatio],
                    r[M::AiMarginalUtilityOfMoney],
                    b[M::AiMarginalUtilityOfMoney],
                );
                surplus
                    + if profits {
                        r[M::ProviderProfitMusd] + r[M::LabProfitMusd]
                    } else {
                        0.0
                    }
            })
            .sum::<f64>()
            / window.len() as f64
    };
    let b: Vec<f64> = base().iter().map(|b| value(b, b)).collect();
    let s: Vec<f64> = scenario.iter().zip(base()).map(|(s, b)| value(s, b)).collect();
    paired(&b, &s)
}

fn welfare_at_base(scenario: &[Run], window: Range<usize>) -> Paired {
    at_base(scenario, window, true)
}

fn surplus_at_base(scenario: &[Run], window: Range<usize>) -> Paired {
    at_base(scenario, window, false)
}

fn compare_cmd(args: &[&str], out: &std::path::Path) -> std::process::Output {
    std::process::Command::new(crate::common::binary())
        .current_dir(repo(""))
        .arg("compare")
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .output()
        .expect("binary runs")
}

#[test]
fn compare_writes_a_paired_table_with_common_seeds_whatever_the_thread_count() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "configs/baseline.toml",
        "configs/scenarios/eu_data_act.toml",
        "--replicates",
        "3",
        "--enterprises",
        "2000",
    ];
    let out = compare_cmd(&args, &dir.path().join("a"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("eu_data_act") && table.contains("hhi_cloud") && table.contains("rent.azure"),
        "{table}"
    );
    let csv = std::fs::read_to_string(dir.path().join("a/comparison.csv")).expect("comparison.csv");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("scenario,quantity,window,replicates,base_mean,scenario_mean,delta,ci_low,ci_high,significant")
    );
    // Every metric + the surplus series at the base's prices + 6 provider rents + one profit per
    // corporate owner, each final and average.
    let rows: Vec<&str> = lines.collect();
    let owners = rows
        .iter()
        .filter(|l| l.split(',').nth(1).is_some_and(|q| q.starts_with("profit.")))
        .count()
        / 2;
    assert!(owners >= 10, "{owners} owners");
    let at_base = aimarket::commands::compare::AtBase::ALL.len();
    assert_eq!(
        rows.len(),
        2 * (aimarket::config::Metric::all().count() + at_base + 6 + owners)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a/manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["seeds"][0].as_u64(), Some(derive_seed(20_260_101, 0, 0)));
    assert_eq!(manifest["replicates"].as_u64(), Some(3));
    assert_eq!(manifest["failed"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        manifest["seeds_hex"][0].as_str().map(str::to_string),
        Some(format!("0x{:016x}", derive_seed(20_260_101, 0, 0)))
    );
    assert!(
        !dir.path().join("a/trajectories.csv").exists(),
        "only with --trajectories"
    );
    let one = compare_cmd(&[&args[..], &["--threads", "1"]].concat(), &dir.path().join("b"));
    assert!(one.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b/comparison.csv")).expect("csv"),
        csv
    );
}

#[test]
fn compare_rejects_mismatched_runs_and_bad_arguments_before_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let short = dir.path().join("short.toml");
    std::fs::write(
        &short,
        format!(
            "extends = '{}'\n[run]\nticks = 60\n",
            repo("configs/baseline.toml").display()
        ),
    )
    .expect("write");
    let out = compare_cmd(
        &["configs/baseline.toml", short.to_str().expect("utf-8 path")],
        &dir.path().join("o"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("short.toml") && err.contains("60") && err.contains("same months"),
        "{err}"
    );
    let out = compare_cmd(
        &[
            "configs/baseline.toml",
            "configs/scenarios/eu_data_act.toml",
            "--replicates",
            "0",
        ],
        &dir.path().join("o"),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("o").exists(), "nothing written");
    // Nothing to compare, and a bad --scenario-set key, are refused before anything runs.
    let out = compare_cmd(&["configs/baseline.toml"], &dir.path().join("o"));
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--scenario-set"));
    let out = compare_cmd(
        &["configs/baseline.toml", "--scenario-set", "enterprise.swich_cost=1"],
        &dir.path().join("o"),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--scenario-set") && err.contains("swich_cost"), "{err}");
    assert!(!dir.path().join("o").exists(), "nothing written");
}

/// A CSV file as header-keyed rows.
fn f(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column} = {:?} is a number", row[column]))
}

#[test]
fn owner_profits_add_up_to_providers_and_labs_profit_in_every_replicate_even_after_acquisitions() {
    // consolidation moves labs to new owners (Amazon–Anthropic, …): each month's agent profits
    // are summed by that month's owner, so the owners' profits still add up to the total.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = compare_cmd(
        &[
            "configs/baseline.toml",
            "configs/scenarios/consolidation.toml",
            "--replicates",
            "2",
            "--enterprises",
            "1500",
            "--ticks",
            "36",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let replicates = read_csv(&dir.path().join("replicates.csv"));
    let mut checked = 0;
    for role in ["base", "scenario"] {
        for window in ["final", "average"] {
            for r in ["0", "1"] {
                let cell = |q: &str| -> Vec<f64> {
                    replicates
                        .iter()
                        .filter(|x| {
                            x["role"] == role
                                && x["replicate"] == r
                                && x["window"] == window
                                && (x["quantity"] == q || (q == "profit." && x["quantity"].starts_with("profit.")))
                        })
                        .map(|x| x["value"].parse::<f64>().unwrap())
                        .collect()
                };
                let owners: f64 = cell("profit.").iter().sum();
                let total = cell("provider_profit_musd")[0] + cell("lab_profit_musd")[0];
                assert!(
                    (owners - total).abs() <= 1e-9 * total.abs().max(1.0),
                    "{role} {window} replicate {r}: owners {owners} vs total {total}"
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8);
    // The acquirer's profit moves: Amazon owns Anthropic in the scenario.
    let comparison = read_csv(&dir.path().join("comparison.csv"));
    let anthropic = comparison
        .iter()
        .find(|x| x["quantity"] == "profit.anthropic" && x["window"] == "final")
        .expect("an Anthropic row");
    assert_eq!(
        anthropic["scenario_mean"].parse::<f64>().unwrap(),
        0.0,
        "acquired: it owns nothing"
    );
}

#[test]
fn compare_trajectories_end_at_the_final_rows_and_replicates_reproduce_the_deltas() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = compare_cmd(
        &[
            "configs/baseline.toml",
            "configs/scenarios/eu_data_act.toml",
            "--replicates",
            "3",
            "--enterprises",
            "2000",
            "--ticks",
            "24",
            "--trajectories",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let comparison = read_csv(&dir.path().join("comparison.csv"));
    let trajectories = read_csv(&dir.path().join("trajectories.csv"));
    let replicates = read_csv(&dir.path().join("replicates.csv"));
    let quantities: Vec<&String> = comparison
        .iter()
        .filter(|r| r["window"] == "final")
        .map(|r| &r["quantity"])
        .collect();
    let owners = quantities.iter().filter(|q| q.starts_with("profit.")).count();
    assert!(owners >= 10, "one profit.<owner> per corporate owner: {quantities:?}");
    let at_base = aimarket::commands::compare::AtBase::ALL.len();
    assert_eq!(
        quantities.len(),
        aimarket::config::Metric::all().count() + at_base + 6 + owners
    );
    // Every quantity has 24 months, dated from 2026-01; the last equals the `final` row.
    assert_eq!(trajectories.len(), 24 * quantities.len());
    assert_eq!(trajectories[0]["date"], "2026-01");
    for c in comparison.iter().filter(|r| r["window"] == "final") {
        let months: Vec<_> = trajectories
            .iter()
            .filter(|t| t["scenario"] == c["scenario"] && t["quantity"] == c["quantity"])
            .collect();
        assert_eq!(months.len(), 24, "{}", c["quantity"]);
        let last = months[23];
        assert_eq!((last["tick"].as_str(), last["date"].as_str()), ("23", "2027-12"));
        for (t, k) in [
            ("base_mean", "base_mean"),
            ("scenario_mean", "scenario_mean"),
            ("delta", "delta"),
            ("delta_ci_low", "ci_low"),
            ("delta_ci_high", "ci_high"),
            ("replicates", "replicates"),
        ] {
            assert_eq!(last[t], c[k], "{} {t}", c["quantity"]);
        }
        let base_low = f(last, "base_ci_low");
        assert!(base_low <= f(last, "base_mean") && f(last, "base_mean") <= f(last, "base_ci_high"));
    }
    // Per-replicate values: the seeds are written exactly, as decimal and as hex strings, and
    // the mean of the paired differences reproduces every delta.
    let seeds: Vec<u64> = (0..3).map(|r| derive_seed(20_260_101, 0, r)).collect();
    for r in &replicates {
        let i: usize = r["replicate"].parse().expect("replicate");
        assert_eq!(r["seed"], seeds[i].to_string());
        assert_eq!(r["seed_hex"], format!("0x{:016x}", seeds[i]));
    }
    for c in &comparison {
        let value = |role: &str, label: &str, rep: usize| {
            let row = replicates
                .iter()
                .find(|r| {
                    r["role"] == role
                        && r["scenario"] == label
                        && r["quantity"] == c["quantity"]
                        && r["window"] == c["window"]
                        && r["replicate"] == rep.to_string()
                })
                .unwrap_or_else(|| panic!("{role} {label} {} {} {rep}", c["quantity"], c["window"]));
            f(row, "value")
        };
        let d: Vec<f64> = (0..3)
            .map(|r| value("scenario", &c["scenario"], r) - value("base", "baseline", r))
            .collect();
        let mean = d.iter().sum::<f64>() / 3.0;
        let delta = f(c, "delta");
        assert!(
            (mean - delta).abs() <= 1e-9 * delta.abs().max(1.0),
            "{} {}: {mean} vs {delta}",
            c["quantity"],
            c["window"]
        );
    }
}

#[test]
fn compare_scenario_set_finds_an_effect_that_matters_and_none_where_nothing_can_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let common = ["--replicates", "4", "--enterprises", "2000", "--ticks", "24"];
    // Cheaper switching: enterprises re-choose their AI supplier much more often.
    let args = [
        &[
            "configs/baseline.toml",
            "--scenario-set",
            "enterprise.switch_cost_base=1",
        ][..],
        &common[..],
    ]
    .concat();
    let out = compare_cmd(&args, &dir.path().join("cost"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let label = "set:enterprise.switch_cost_base=1";
    assert!(String::from_utf8_lossy(&out.stdout).contains(label));
    let rows = read_csv(&dir.path().join("cost/comparison.csv"));
    let switching = rows
        .iter()
        .find(|r| r["scenario"] == label && r["quantity"] == "switching_rate" && r["window"] == "average")
        .expect("switching_rate row");
    assert!(f(switching, "delta") > 0.0, "{switching:?}");
    assert_eq!(switching["significant"], "true", "{switching:?}");
    // A lab's display name cannot change any decision: every difference is exactly 0.
    let args = [
        &[
            "configs/baseline.toml",
            "--scenario-set",
            "labs.openai.name=OpenAI Group",
        ][..],
        &common[..],
    ]
    .concat();
    let out = compare_cmd(&args, &dir.path().join("name"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = read_csv(&dir.path().join("name/comparison.csv"));
    assert!(!rows.is_empty());
    for r in &rows {
        assert_eq!(r["scenario"], "set:labs.openai.name=OpenAI Group");
        for k in ["delta", "ci_low", "ci_high"] {
            assert_eq!(f(r, k), 0.0, "{} {}: {r:?}", r["quantity"], r["window"]);
        }
        assert_eq!(r["significant"], "false");
    }
    // --set applies to the base and every scenario: the same change on both sides is no change.
    let args = [
        &[
            "configs/baseline.toml",
            "--set",
            "enterprise.switch_cost_base=1",
            "--scenario-set",
            "enterprise.switch_cost_base=1",
        ][..],
        &common[..],
    ]
    .concat();
    let out = compare_cmd(&args, &dir.path().join("both"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows = read_csv(&dir.path().join("both/comparison.csv"));
    assert!(rows.iter().all(|r| f(r, "delta") == 0.0));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("both/manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["overrides"][0], "enterprise.switch_cost_base=1");
    assert_eq!(
        manifest["scenarios"][0]["scenario_set"][0],
        "enterprise.switch_cost_base=1"
    );
}

#[test]
fn common_calibration_starts_every_scenario_from_its_base_replicates_outside_options() {
    let dir = tempfile::tempdir().expect("temp dir");
    let common = ["--replicates", "2", "--enterprises", "2000", "--ticks", "12"];
    let margins = [
        "configs/baseline.toml",
        "--scenario-set",
        "pricing.margin_rule=best_response",
    ];
    let run = |extra: &[&str], name: &str| {
        let args = [&margins[..], extra, &common[..]].concat();
        let out = compare_cmd(&args, &dir.path().join(name));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        dir.path().join(name)
    };
    let pinned = run(&["--common-calibration"], "pinned");
    let own = run(&[], "own");
    // The manifest holds, per replicate, the base's calibration, computed here independently.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(pinned.join("manifest.json")).expect("manifest")).expect("json");
    assert_eq!(manifest["common_calibration"], true);
    let calibrations = manifest["calibrations"].as_array().expect("calibrations");
    assert_eq!(calibrations.len(), 2);
    let mut expected = Vec::new();
    for (r, c) in calibrations.iter().enumerate() {
        let mut config = crate::common::small_baseline(2_000, 12, &[]);
        config.run.seed = derive_seed(20_260_101, 0, r as u64);
        let want = aimarket::sim::run::Calibration::of(&aimarket::sim::Simulation::new(&config));
        assert_eq!(c["cloud_outside_utility"].as_f64(), Some(want.cloud_outside_utility));
        assert_eq!(c["ai_outside_utility"].as_f64(), Some(want.ai_outside_utility));
        expected.push(want);
    }
    assert_ne!(
        expected[0], expected[1],
        "the calibration depends on the sampled enterprises"
    );
    // Replicate 0 of the scenario equals a run of the scenario with those values set by hand.
    let (v, a) = (expected[0].cloud_outside_utility, expected[0].ai_outside_utility);
    let cloud = format!("demand.cloud_outside_utility={v}");
    let ai = format!("demand.ai_outside_utility={a}");
    let by_hand = run(&["--scenario-set", &cloud, "--scenario-set", &ai], "by_hand");
    let scenario_values = |dir: &std::path::Path| {
        read_csv(&dir.join("replicates.csv"))
            .into_iter()
            .filter(|r| r["role"] == "scenario" && r["replicate"] == "0")
            .map(|r| ((r["quantity"].clone(), r["window"].clone()), r["value"].clone()))
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    let (p, h, o) = (
        scenario_values(&pinned),
        scenario_values(&by_hand),
        scenario_values(&own),
    );
    assert!(!p.is_empty());
    assert_eq!(p, h, "common calibration = the base's outside options set by hand");
    // Without it the scenario calibrates its own outside options, and its path differs.
    let key = ("direct_api_share".to_string(), "average".to_string());
    assert_ne!(p[&key], o[&key]);
    // The base runs are the same either way.
    let base = |dir: &std::path::Path| {
        read_csv(&dir.join("replicates.csv"))
            .into_iter()
            .filter(|r| r["role"] == "base")
            .map(|r| r["value"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(base(&pinned), base(&own));
}
