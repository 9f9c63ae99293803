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

use crate::common::repo;

const ENTERPRISES: u32 = 20_000;
const REPLICATES: u64 = 8;
/// Tick of 2027-01.
const Y2027: usize = 12;
/// Tick of 2030-01.
const Y2030: usize = 48;
const ALL: Range<usize> = 0..120;
const FINAL: Range<usize> = 119..120;

const NAMES: [&str; 9] = [
    "agi_declared",
    "balanced_partnership",
    "consolidation",
    "eu_data_act",
    "ftc_unbundling",
    "microsoft_first_party",
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
}

#[test]
fn ftc_unbundling_weakens_azure() {
    let s = scenario("ftc_unbundling");
    down(effect(&s, rent("azure"), ALL), "rent.azure");
    down(effect(&s, metric("hhi_ai_channel"), ALL), "hhi_ai_channel");
    down(effect(&s, metric("hhi_cloud"), FINAL), "hhi_cloud in 2035");
}

#[test]
fn openai_multicloud_lowers_openai_dependency_and_compute_concentration() {
    let s = scenario("openai_multicloud");
    down(
        effect(&s, dependency("openai"), 3..Y2030),
        "OpenAI's dependency 2026-04 to 2029",
    );
    down(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    // Finding: Azure's rent share does not fall — it invests less after OpenAI's early move
    // and its tighter capacity later carries a higher price.
    let azure = effect(&s, rent("azure"), FINAL);
    assert!(azure.ci_high > 0.0, "rent.azure does not fall: {azure:?}");
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
}

#[test]
fn balanced_partnership_lowers_dependency_but_not_channel_concentration() {
    let s = scenario("balanced_partnership");
    down(effect(&s, metric("mean_lab_dependency"), ALL), "mean lab dependency");
    down(effect(&s, dependency("anthropic"), ALL), "Anthropic's dependency");
    down(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    // Finding: OpenAI on Bedrock and Vertex takes spend from OpenAI's direct API and the small
    // marketplaces, not from Azure (home and suite affinity hold Azure's buyers).
    let channel = effect(&s, metric("hhi_ai_channel"), ALL);
    assert!(
        channel.ci_high > 0.0,
        "hhi_ai_channel does not fall significantly: {channel:?}"
    );
}

#[test]
fn open_weights_deconcentrate_the_channel_and_raise_rent_but_concentrate_the_model_layer() {
    let s = scenario("open_weights_surge");
    down(effect(&s, metric("hhi_ai_channel"), FINAL), "hhi_ai_channel in 2035");
    up(effect(&s, metric("infrastructure_rent"), ALL), "infrastructure rent");
    down(effect(&s, rent("azure"), ALL), "rent.azure");
    // Finding: open copies count as their lab's model, so OpenAI's model share grows.
    up(effect(&s, metric("hhi_model"), FINAL), "hhi_model in 2035");
}

#[test]
fn microsoft_first_party_grows_azures_rent_and_splits_the_model_layer() {
    let s = scenario("microsoft_first_party");
    up(effect(&s, rent("azure"), ALL), "rent.azure");
    let model = effect(&s, metric("hhi_model"), ALL);
    assert!(model.delta < 0.0, "hhi_model falls on average: {model:?}");
}

#[test]
fn stargate_entry_deconcentrates_compute() {
    let s = scenario("stargate_entry");
    down(effect(&s, metric("hhi_compute"), ALL), "hhi_compute");
    down(effect(&s, metric("hhi_compute"), FINAL), "hhi_compute in 2035");
    down(effect(&s, metric("infrastructure_rent"), ALL), "infrastructure rent");
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
    // 4 HHIs + 7 series + 6 provider rents, each final and average.
    assert_eq!(
        lines.count(),
        2 * (4 + aimarket::commands::compare::COMPARED_SERIES.len() + 6)
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a/manifest.json")).expect("manifest"))
            .expect("json");
    assert_eq!(manifest["seeds"][0].as_u64(), Some(derive_seed(20_260_101, 0, 0)));
    assert_eq!(manifest["replicates"].as_u64(), Some(3));
    assert_eq!(manifest["failed"].as_array().map(Vec::len), Some(0));
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
}
