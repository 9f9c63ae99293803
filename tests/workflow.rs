//! A researcher's workflow: outputs that explain themselves (dates in every per-month sweep
//! table, scenario names in points.csv, owner and fringe in shares.csv), no silent overwrite
//! of a run's results, configs embedded in the binary (run by name from anywhere, `init`),
//! provenance in every manifest and `rerun` reproducing a run byte for byte.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::common::*;

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the binary in `cwd`.
fn aimarket_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(binary())
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .output()
        .expect("the aimarket binary runs")
}

/// A CSV file as a header and rows of named fields.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = ::csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn small_run(out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "configs/baseline.toml",
        "--enterprises",
        "2000",
        "--ticks",
        "6",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    aimarket(&args, &[])
}

#[test]
fn shares_name_owner_and_fringe_and_the_named_hhi_is_recomputable_from_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = small_run(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shares = rows(&out.join("shares.csv"));
    let metrics = rows(&out.join("metrics.csv"));
    let owner = |market: &str, agent: &str| {
        let r = shares
            .iter()
            .find(|r| r["market"] == market && r["agent"] == agent)
            .unwrap_or_else(|| panic!("{market}/{agent} in shares.csv"));
        (r["owner"].clone(), r["fringe"].clone())
    };
    assert_eq!(owner("model", "microsoft_mai"), ("microsoft".into(), "false".into()));
    assert_eq!(owner("model", "deepmind"), ("alphabet".into(), "false".into()));
    assert_eq!(owner("model", "openai"), ("openai".into(), "false".into()));
    assert_eq!(
        owner("model", "open_community"),
        ("open_community".into(), "true".into())
    );
    assert_eq!(owner("cloud", "aws"), ("amazon".into(), "false".into()));
    assert_eq!(owner("cloud", "oracle"), ("oracle".into(), "false".into()));
    assert_eq!(owner("cloud", "other"), ("other".into(), "true".into()));
    assert_eq!(owner("compute", "self:deepmind"), ("alphabet".into(), "false".into()));
    assert_eq!(
        owner("ai_channel", "microsoft_mai"),
        ("microsoft".into(), "false".into())
    );
    // hhi_<m> is Σ (100·share)² over the rows with fringe false.
    let mut checked = 0;
    for m in &metrics {
        for market in ["cloud", "ai_channel", "model", "compute"] {
            let hhi: f64 = shares
                .iter()
                .filter(|r| r["tick"] == m["tick"] && r["market"] == market && r["fringe"] == "false")
                .map(|r| (100.0 * r["share"].parse::<f64>().unwrap_or(0.0)).powi(2))
                .sum();
            let want: f64 = m[&format!("hhi_{market}")].parse().unwrap();
            assert!(
                (hhi - want).abs() <= 1e-9 * want.max(1.0),
                "tick {} {market}: {hhi} from shares.csv, {want} in metrics.csv",
                m["tick"]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 4);
}

#[test]
fn an_acquisition_changes_the_owner_in_shares() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("acq.toml");
    std::fs::write(
        &cfg,
        format!(
            "extends = '{}'\n[[events]]\ntick = 2\nkind = \"acquisition\"\nprovider = \"aws\"\nlab = \"anthropic\"\nlabel = \"deal\"\n",
            repo("configs/baseline.toml").display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("run");
    let o = aimarket(
        &[
            "run",
            cfg.to_str().unwrap(),
            "--enterprises",
            "1000",
            "--ticks",
            "5",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let owners: Vec<(String, String)> = rows(&out.join("shares.csv"))
        .into_iter()
        .filter(|r| r["market"] == "model" && r["agent"] == "anthropic")
        .map(|r| (r["tick"].clone(), r["owner"].clone()))
        .collect();
    assert_eq!(owners.len(), 5);
    assert_eq!(owners[0].1, "anthropic");
    assert_eq!(owners[4].1, "amazon", "the owner of AWS: {owners:?}");
}

#[test]
fn sweep_tables_are_dated_and_points_name_scenarios_by_file_stem() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    let scenarios = repo("configs/scenarios");
    std::fs::write(
        &file,
        format!(
            "base = '{0}/../baseline.toml'\nscenarios = ['{0}/eu_data_act.toml', '{0}/consolidation.toml']\n\
             replicates = 2\nset = {{ \"run.enterprises\" = 300, \"run.ticks\" = 13 }}\n\
             [[axes]]\nkey = 'events.\"EU Data Act: no switching charges (from 2027-01-12)\".cap'\nvalues = [0.0]\n",
            scenarios.display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = aimarket(
        &[
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--trajectories",
        ],
        &[],
    );
    // consolidation has no such label: the axis key is refused, naming the file and the label.
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("names no event") && stderr(&o).contains("consolidation"),
        "{}",
        stderr(&o)
    );

    let text = std::fs::read_to_string(&file).unwrap().replace(
        "[[axes]]\nkey = 'events.\"EU Data Act: no switching charges (from 2027-01-12)\".cap'\nvalues = [0.0]\n",
        "[[axes]]\nkey = 'enterprise.switch_cost_base'\nvalues = [2.0, 3.0]\n",
    );
    std::fs::write(&file, text).unwrap();
    let o = aimarket(
        &[
            "sweep",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--trajectories",
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let points = rows(&out.join("points.csv"));
    let names: Vec<&str> = points.iter().map(|p| p["scenario"].as_str()).collect();
    assert_eq!(names, ["eu_data_act", "eu_data_act", "consolidation", "consolidation"]);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert!(
        manifest["scenarios"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("eu_data_act.toml"),
        "the manifest keeps the path"
    );
    for table in ["summary.csv", "trajectories.csv"] {
        let r = rows(&out.join(table));
        let dates: std::collections::BTreeSet<(String, String)> =
            r.iter().map(|r| (r["tick"].clone(), r["date"].clone())).collect();
        let want: std::collections::BTreeSet<(String, String)> = (0..13)
            .map(|t| (t.to_string(), format!("{}-{:02}", 2026 + t / 12, t % 12 + 1)))
            .collect();
        assert_eq!(dates, want, "{table}");
    }
}

#[test]
fn a_label_addressed_set_changes_the_event_and_an_unknown_label_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let key = "events.\"EU Data Act: no switching charges (from 2027-01-12)\"";
    let run = |set: &str, out: &Path| {
        aimarket(
            &[
                "run",
                "configs/scenarios/eu_data_act.toml",
                "--enterprises",
                "500",
                "--ticks",
                "14",
                "--quiet",
                "--set",
                set,
                "--out",
                out.to_str().unwrap(),
            ],
            &[],
        )
    };
    let out = tmp.path().join("a");
    let o = run(&format!("{key}.at=2026-06"), &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let moved = manifest["config"]["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| {
            e["label"]
                .as_str()
                .is_some_and(|l| l.starts_with("EU Data Act: no switching charges"))
        })
        .expect("the labelled event in the resolved config");
    assert_eq!(moved["at"], "2026-06");
    let fired = manifest["events_fired"].as_array().unwrap();
    assert!(
        fired.iter().any(|e| e["date"] == "2026-06"),
        "the moved event fires in 2026-06: {fired:?}"
    );
    let o = run("events.\"EU cap\".cap=0.01", &tmp.path().join("b"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: --set: events.\"EU cap\".cap names no event"),
        "{}",
        stderr(&o)
    );
    let o = run(&format!("{key}.cpa=0.01"), &tmp.path().join("c"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown field `cpa`, expected `cap`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_refuses_a_directory_holding_another_runs_results_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    assert!(small_run(&out, &[]).status.success());
    let before = std::fs::read(out.join("metrics.csv")).unwrap();
    // The same run again is harmless: it writes the same files.
    assert!(small_run(&out, &[]).status.success());
    let o = small_run(&out, &["--seed", "7"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("holds the results of another run") && stderr(&o).contains("--force"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read(out.join("metrics.csv")).unwrap(),
        before,
        "nothing was overwritten"
    );
    let o = small_run(&out, &["--seed", "7", "--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_ne!(std::fs::read(out.join("metrics.csv")).unwrap(), before);
}

#[test]
fn shipped_configs_run_by_name_from_any_directory_and_init_copies_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let o = aimarket_in(
        cwd,
        &["run", "baseline", "--enterprises", "500", "--ticks", "3", "--quiet"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(cwd.join("outputs/metrics.csv").is_file());
    // A scenario extends "../baseline.toml" inside the embedded set.
    let o = aimarket_in(cwd, &["validate", "eu_data_act", "--set", "run.ticks=24"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = aimarket_in(
        cwd,
        &[
            "compare",
            "baseline",
            "eu_data_act",
            "--enterprises",
            "300",
            "--ticks",
            "13",
            "--replicates",
            "2",
            "--quiet",
            "--out",
            "cmp",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = aimarket_in(cwd, &["sweep", "smoke", "--quiet", "--out", "sw"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(rows(&cwd.join("sw/runs.csv")).len(), 12);
    // `scenarios` lists the embedded set, and its hints work here.
    let o = aimarket_in(cwd, &["scenarios"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(text.contains("eu_data_act") && text.contains("built in"), "{text}");
    let hint = text
        .lines()
        .find_map(|l| l.strip_prefix("Run one:  aimarket "))
        .expect("a run hint");
    let mut args: Vec<&str> = hint.split_whitespace().collect();
    args.extend(["--enterprises", "300", "--ticks", "2", "--quiet", "--out", "hint"]);
    let o = aimarket_in(cwd, &args);
    assert!(o.status.success(), "the hint works here: {}", stderr(&o));

    // init writes every shipped config; the copy runs and extends as in the repository.
    let o = aimarket_in(cwd, &["init", "mine"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("history/ (2019, backtest)"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    for rel in [
        "baseline.toml",
        "scenarios/eu_data_act.toml",
        "sweeps/smoke.toml",
        "history/2019.toml",
    ] {
        assert_eq!(
            std::fs::read_to_string(cwd.join("mine").join(rel)).unwrap(),
            std::fs::read_to_string(repo("configs").join(rel)).unwrap(),
            "{rel}"
        );
    }
    let o = aimarket_in(cwd, &["validate", "mine/scenarios/eu_data_act.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = aimarket_in(cwd, &["validate", "mine/history/2019.toml"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = aimarket_in(cwd, &["init", "mine"]);
    assert_eq!(o.status.code(), Some(2), "init does not overwrite: {}", stderr(&o));
    assert!(aimarket_in(cwd, &["init", "mine", "--force"]).status.success());
    let o = aimarket_in(cwd, &["run", "baselin"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not the name of a shipped config"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn every_manifest_records_the_commit_and_rerun_reproduces_a_run_byte_for_byte() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = small_run(&out, &["--set", "enterprise.switch_cost_base=3.5", "--seed", "99"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let manifest = |p: &Path| -> serde_json::Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let m = manifest(&out.join("manifest.json"));
    let commit = m["git_commit"].as_str().expect("git_commit");
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo("."))
        .output();
    match head {
        Ok(h) if h.status.success() => {
            assert_eq!(commit.len(), 40, "{commit}");
            assert!(commit.chars().all(|c| c.is_ascii_hexdigit()), "{commit}");
            assert!(m["git_dirty"].is_boolean(), "{}", m["git_dirty"]);
        }
        _ => assert_eq!(commit, "unknown"),
    }
    let o = aimarket(&["rerun", out.join("manifest.json").to_str().unwrap(), "--quiet"], &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = out.join("rerun");
    for f in ["metrics.csv", "shares.csv", "agents.csv"] {
        assert!(
            std::fs::read(out.join(f)).unwrap() == std::fs::read(again.join(f)).unwrap(),
            "{f} differs after rerun"
        );
    }
    let strip = |mut v: serde_json::Value| {
        v.as_object_mut().unwrap().remove("wall_seconds");
        v
    };
    assert_eq!(
        strip(manifest(&out.join("manifest.json"))),
        strip(manifest(&again.join("manifest.json")))
    );
    // Sweep and compare manifests carry the commit too.
    let sw = tmp.path().join("sw");
    assert!(
        aimarket(&["sweep", "smoke", "--quiet", "--out", sw.to_str().unwrap()], &[])
            .status
            .success()
    );
    assert_eq!(manifest(&sw.join("manifest.json"))["git_commit"], commit);
    let cmp = tmp.path().join("cmp");
    let o = aimarket(
        &[
            "compare",
            "baseline",
            "eu_data_act",
            "--enterprises",
            "300",
            "--ticks",
            "13",
            "--replicates",
            "2",
            "--quiet",
            "--out",
            cmp.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(manifest(&cmp.join("manifest.json"))["git_commit"], commit);
    // A sweep's manifest is not a run's.
    let o = aimarket(&["rerun", sw.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is not the manifest of `aimarket run`"),
        "{}",
        stderr(&o)
    );
}
