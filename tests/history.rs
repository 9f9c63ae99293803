//! The history config (`configs/history/2019.toml`, issue 11 §2): the market of late 2019 run to
//! 2025-12 with the dated record as events. It must validate, span 2019-10 … 2025-12, fire every
//! dated event in its month, and keep the baseline's behavioural parameters (only initial
//! conditions and events may differ, so that a calibration of the baseline carries over).

use std::collections::BTreeMap;

use aimarket::config::{self, Config};
use serde_json::Value;

use crate::common::{aimarket, read_csv, repo};

const HISTORY: &str = "configs/history/2019.toml";

fn history() -> Config {
    config::load(&repo(HISTORY), &[]).expect("the history config is valid")
}

#[test]
fn history_config_validates_and_spans_2019_10_to_2025_12() {
    let o = aimarket(&["validate", HISTORY], &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let cfg = history();
    assert_eq!(cfg.run.start, "2019-10");
    let last = config::Month::parse(&cfg.run.start)
        .unwrap()
        .plus(i64::from(cfg.run.ticks) - 1);
    assert_eq!(last.to_string(), "2025-12");
    // The market of late 2019: Synergy's shares, no CoreWeave yet, the later labs dormant.
    assert_eq!(cfg.providers["aws"].home_share, 0.33);
    assert_eq!(cfg.providers["azure"].home_share, 0.18);
    assert_eq!(cfg.providers["coreweave"].home_share, 0.0);
    for (lab, month) in [
        ("anthropic", "2021-05"),
        ("xai", "2023-03"),
        ("mistral", "2023-06"),
        ("microsoft_mai", "2025-08"),
    ] {
        assert_eq!(cfg.labs[lab].entry.as_deref(), Some(month), "{lab}");
    }
    // The name resolves to the embedded copy from any directory.
    let tmp = tempfile::tempdir().unwrap();
    let o = std::process::Command::new(crate::common::binary())
        .args(["validate", "history/2019"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("75 months from 2019-10"));
}

#[test]
fn every_dated_event_of_the_history_fires_in_its_month() {
    let cfg = history();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("h");
    let o = aimarket(
        &[
            "run",
            HISTORY,
            "--enterprises",
            "2000",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let metrics = read_csv(&out.join("metrics.csv"));
    assert_eq!(metrics.len(), 75);
    assert_eq!(metrics[0]["date"], "2019-10");
    assert_eq!(metrics[74]["date"], "2025-12");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let fired = manifest["events_fired"].as_array().unwrap();
    // label → months it fired in.
    let mut by_label: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in fired {
        by_label
            .entry(e["label"].as_str().unwrap().to_string())
            .or_default()
            .push(e["date"].as_str().unwrap().to_string());
    }
    let mut dated = 0;
    for (i, e) in cfg.events.iter().enumerate() {
        let at =
            e.at.as_deref()
                .unwrap_or_else(|| panic!("events[{i}] is dated with `at`"));
        let label = e.label.as_deref().unwrap_or_else(|| panic!("events[{i}] has a label"));
        assert_eq!(
            by_label.get(label).map(Vec::as_slice),
            Some(&[at.to_string()][..]),
            "events[{i}] \"{label}\" fires once, in {at}"
        );
        dated += 1;
    }
    assert!(dated >= 30, "the record has {dated} dated events");
    // Labels are unique, so the check above cannot be satisfied by another event.
    let mut labels: Vec<&str> = cfg.events.iter().filter_map(|e| e.label.as_deref()).collect();
    labels.sort_unstable();
    labels.dedup();
    assert_eq!(labels.len(), cfg.events.len());
    // Entries fire at their `entry` months.
    for (id, month) in [
        ("anthropic", "2021-05"),
        ("xai", "2023-03"),
        ("mistral", "2023-06"),
        ("microsoft_mai", "2025-08"),
        ("coreweave", "2023-01"),
    ] {
        let kind = if id == "coreweave" {
            "provider_entry"
        } else {
            "lab_entry"
        };
        assert!(
            fired
                .iter()
                .any(|e| e["kind"] == kind && e["date"] == month && e["label"].as_str().unwrap().starts_with(id)),
            "{id} enters in {month}: {fired:?}"
        );
    }
    // The months of the record's turning points (DATA §7), pinned so that an edit of `at` shows.
    let months_of = |kind: &str| -> Vec<&str> {
        fired
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| e["date"].as_str().unwrap())
            .collect()
    };
    assert_eq!(months_of("demand_shock"), ["2022-12", "2023-12", "2024-12"]);
    assert_eq!(months_of("open_weights"), ["2024-03", "2025-08"]);
    assert_eq!(months_of("funding"), ["2025-03"]);
    for (label, month) in [
        (
            "Microsoft–OpenAI $10B (23 Jan 2023): credits, Azure licence, revenue share",
            "2023-01",
        ),
        ("Microsoft–OpenAI: exclusivity → ROFR (21 Jan 2025)", "2025-01"),
        (
            "Microsoft–OpenAI restructuring (28 Oct 2025): ROFR removed, +$250B Azure",
            "2025-10",
        ),
        ("OpenAI–AWS $38B (3 Nov 2025)", "2025-11"),
    ] {
        assert_eq!(by_label[label], [month], "{label}");
    }
    // ChatGPT's shock shows: enterprise AI spend jumps in 2022-12.
    let ai = |d: &str| -> f64 {
        metrics.iter().find(|r| r["date"] == d).unwrap()["ai_spend_musd"]
            .parse()
            .unwrap()
    };
    assert!(
        ai("2022-12") > 2.0 * ai("2022-11"),
        "{} → {}",
        ai("2022-11"),
        ai("2022-12")
    );
}

/// The keys of a serialised section, without those that `drop` names.
fn section(v: &Value, drop: impl Fn(&str) -> bool) -> BTreeMap<String, Value> {
    v.as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !drop(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[test]
fn history_keeps_the_baselines_behavioural_parameters() {
    let h = serde_json::to_value(history()).unwrap();
    let b = serde_json::to_value(config::load(&repo("configs/baseline.toml"), &[]).unwrap()).unwrap();
    let initial = |k: &str| k.starts_with("initial_");
    assert_eq!(section(&h["enterprise"], initial), section(&b["enterprise"], initial));
    assert_eq!(h["lab_behaviour"], b["lab_behaviour"]);
    assert_eq!(h["pricing"], b["pricing"]);
    let demand_rules = |k: &str| !(k.contains("growth") || k.contains("trend"));
    // Growth of cloud spend is a sourced path of `set` events from the 2019 level; AI growth and
    // the outside options' trends are the baseline's.
    let mut hd = section(&h["demand"], demand_rules);
    let mut bd = section(&b["demand"], demand_rules);
    hd.remove("cloud_growth_per_year");
    bd.remove("cloud_growth_per_year");
    assert_eq!(hd, bd);
    let provider_rules = [
        "owner",
        "price_response",
        "target_utilisation",
        "invest_rate",
        "invest_response",
        "build_lag_months",
        "egress_fee",
        "bundle_strength",
        "suite_share",
        "marketplace",
        "marketplace_margin",
        "cloud_price_index",
        "fringe",
    ];
    for (id, p) in b["providers"].as_object().unwrap() {
        for k in provider_rules {
            assert_eq!(h["providers"][id][k], p[k], "providers.{id}.{k}");
        }
    }
    let lab_rules = [
        "owner",
        "budget_growth_per_year",
        "model_fee",
        "direct_api",
        "open_weight",
        "open_weight_gap",
        "fringe",
    ];
    for (id, l) in b["labs"].as_object().unwrap() {
        for k in lab_rules {
            assert_eq!(h["labs"][id][k], l[k], "labs.{id}.{k}");
        }
    }
}
