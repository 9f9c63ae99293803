//! Bad configurations: each kind of mistake (unknown key, wrong type, out-of-range number,
//! probability outside [0, 1], a contract naming an unknown provider or lab, shares not summing
//! to one, a TOML syntax error, a bad `--set`) makes `aimarket run` exit with code 2 and a
//! message naming the file, the key, the value found and what was expected — and write nothing.

use std::path::{Path, PathBuf};

use crate::common::*;

/// A copy of the baseline with one textual edit, written into `dir`.
fn bad_config(dir: &Path, name: &str, old: &str, new: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo("configs/baseline.toml")).expect("baseline readable");
    assert_eq!(
        text.matches(old).count(),
        1,
        "the edit {old:?} must match the baseline exactly once"
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text.replacen(old, new, 1)).expect("temp config written");
    path
}

/// Runs `aimarket run` on `config` with extra args into a fresh output dir under `dir` that
/// already holds one unrelated file; asserts exit code 2, that nothing was added to the output
/// dir, and returns stderr.
fn run_rejected(dir: &Path, config: &Path, extra: &[&str]) -> String {
    let out = dir.join(format!("out_{}", config.file_stem().unwrap().to_string_lossy()));
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "older results").unwrap();
    let mut args = vec![
        "run",
        config.to_str().unwrap(),
        "--enterprises",
        "1000",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = aimarket(&args, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(2), "bad input exits with 2; stderr: {stderr}");
    assert!(
        o.stdout.is_empty(),
        "nothing on stdout: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(
        dir_entries(&out),
        vec!["keep.txt".to_string()],
        "the output dir gained files; stderr: {stderr}"
    );
    assert_eq!(std::fs::read_to_string(out.join("keep.txt")).unwrap(), "older results");
    assert_eq!(stderr.lines().count(), 1, "one error line: {stderr}");
    stderr
}

/// Asserts that `stderr` is `error: <file>: ...` and contains every expected fragment.
fn assert_message(stderr: &str, file: &str, fragments: &[&str]) {
    assert!(
        stderr.starts_with(&format!("error: {file}: ")),
        "message does not start with the file {file}: {stderr}"
    );
    for f in fragments {
        assert!(stderr.contains(f), "message lacks {f:?}: {stderr}");
    }
}

/// One bad-config case: a name, the edit, and what the message must say (key, value, expectation).
struct Case {
    name: &'static str,
    old: &'static str,
    new: &'static str,
    fragments: &'static [&'static str],
}

const CASES: &[Case] = &[
    // ---- Ownership: stakes and provider owners ----
    Case {
        name: "stake_holder_unknown",
        old: "owner = \"microsoft\"\ntarget = \"openai\"",
        new: "owner = \"nvidia\"\ntarget = \"openai\"",
        fragments: &["stakes[0].owner", "\"nvidia\"", "expected one of", "alphabet"],
    },
    Case {
        name: "stake_target_unknown",
        old: "target = \"openai\"",
        new: "target = \"openia\"",
        fragments: &["stakes[0].target", "\"openia\"", "expected one of"],
    },
    Case {
        name: "stake_controlling_by_default",
        old: "\nshare = 0.27 ",
        new: "\nshare = 0.6 ",
        fragments: &["stakes[0].control", "[0, 0.5]", "got 0.6", "proportional control"],
    },
    Case {
        name: "stakes_leave_no_residual_owner",
        old: "\nshare = 0.14 ",
        new: "\nshare = 0.85 ",
        fragments: &["stakes.*.share (target anthropic)", "below 1", "1.014"],
    },
    Case {
        name: "stake_of_the_owner_in_itself",
        old: "owner = \"alphabet\"\ntarget = \"anthropic\"",
        new: "owner = \"alphabet\"\ntarget = \"deepmind\"",
        fragments: &["stakes[2].target", "already owned by \"alphabet\""],
    },
    Case {
        name: "provider_owner_empty",
        old: "owner = \"amazon\"                ",
        new: "owner = \"\"                ",
        fragments: &["providers.aws.owner", "is empty", "expected an owner name"],
    },
    Case {
        name: "pricing_damping_out_of_range",
        old: "damping = 0.25 ",
        new: "damping = 1.5 ",
        fragments: &["pricing.damping", "must be in [", "got 1.5"],
    },
    Case {
        name: "pricing_rule_unknown",
        old: "\nrule = \"best_response\"",
        new: "\nrule = \"cournot\"",
        fragments: &["pricing.rule", "`cournot`", "expected `best_response` or `utilisation`"],
    },
    Case {
        name: "fee_rule_unknown",
        old: "fee_rule = \"best_response\"",
        new: "fee_rule = \"posted\"",
        fragments: &[
            "pricing.fee_rule",
            "`posted`",
            "expected `configured` or `best_response`",
        ],
    },
    Case {
        name: "pricing_price_ceiling_not_above_cost",
        old: "max_price_ratio = 10.0",
        new: "max_price_ratio = 1.0",
        fragments: &["pricing.max_price_ratio", "> 1", "got 1"],
    },
    Case {
        name: "lab_id_equal_to_a_provider_id",
        old: "[labs.meta]",
        new: "[labs.oracle]",
        fragments: &["labs.oracle", "\"oracle\"", "provider and lab ids to be distinct"],
    },
    Case {
        name: "unknown_key",
        old: "review_probability = 0.08",
        new: "review_probability = 0.08\nreveiw_rate = 0.1",
        fragments: &[
            "enterprise.reveiw_rate",
            "unknown field `reveiw_rate`",
            "expected one of",
            "`review_probability`",
        ],
    },
    Case {
        name: "wrong_type_string_for_number",
        old: "review_probability = 0.08 ",
        new: "review_probability = \"often\" ",
        fragments: &["enterprise.review_probability", "\"often\"", "expected f64"],
    },
    Case {
        name: "wrong_type_fraction_for_integer",
        old: "ticks = 120 ",
        new: "ticks = 12.5 ",
        fragments: &["run.ticks", "12.5", "expected u32"],
    },
    Case {
        name: "wrong_type_unknown_variant",
        old: "marketplace = \"open\"            # Bedrock",
        new: "marketplace = \"closed\"            # Bedrock",
        fragments: &[
            "providers.aws.marketplace",
            "`closed`",
            "expected `open` or `partners_only`",
        ],
    },
    Case {
        name: "out_of_range_ratio",
        old: "size_max_ratio = 10000.0",
        new: "size_max_ratio = 0.5",
        fragments: &["enterprise.size_max_ratio", "must be in [1, ", "got 0.5"],
    },
    Case {
        name: "out_of_range_negative_fee",
        old: "egress_fee = 0.06               # egress",
        new: "egress_fee = -0.06               # egress",
        fragments: &["providers.aws.egress_fee", "must be in [0, ∞)", "got -0.06"],
    },
    Case {
        name: "out_of_range_price_below_cost",
        old: "price = 4.2 ",
        new: "price = 1.5 ",
        fragments: &["providers.aws.price", "must be ≥ unit_cost (2)", "got 1.5"],
    },
    Case {
        name: "probability_above_one",
        old: "review_probability = 0.08",
        new: "review_probability = 1.4",
        fragments: &["enterprise.review_probability", "must be in [0, 1]", "got 1.4"],
    },
    Case {
        name: "probability_below_zero",
        old: "move_penalty = 0.3",
        new: "move_penalty = -0.3",
        fragments: &["lab_behaviour.move_penalty", "must be in [0, 1]", "got -0.3"],
    },
    Case {
        name: "contract_probability_above_one",
        old: "revenue_share = 0.2 ",
        new: "revenue_share = 1.2 ",
        fragments: &["contracts.msft_openai.revenue_share", "must be in [0, 1]", "got 1.2"],
    },
    Case {
        name: "contract_unknown_provider",
        old: "provider = \"oracle\"\nstart",
        new: "provider = \"ibm\"\nstart",
        fragments: &[
            "contracts.oracle_openai.provider",
            "unknown provider \"ibm\"",
            "expected one of aws, azure, gcp, oracle, coreweave, other",
        ],
    },
    Case {
        name: "contract_unknown_lab",
        old: "lab = \"xai\"\nprovider = \"azure\"",
        new: "lab = \"grok\"\nprovider = \"azure\"",
        fragments: &[
            "contracts.msft_xai.lab",
            "unknown lab \"grok\"",
            "expected one of openai, anthropic",
        ],
    },
    // --- contracts that bind and lab finances (issue 10 §2–§3) ---
    Case {
        name: "credit_draw_months_below_one",
        old: "credit_draw_months = 12.0 ",
        new: "credit_draw_months = 0.5 ",
        fragments: &["lab_behaviour.credit_draw_months", "must be in [1, 1200]", "got 0.5"],
    },
    Case {
        name: "cash_runway_months_below_one",
        old: "cash_runway_months = 24.0 ",
        new: "cash_runway_months = 0.0 ",
        fragments: &["lab_behaviour.cash_runway_months", "must be in [1, 1200]", "got 0"],
    },
    Case {
        name: "funding_amount_negative",
        old: "amount_musd = 5000.0",
        new: "amount_musd = -5000.0",
        fragments: &["labs.anthropic.funding.2026-02.amount_musd", "got -5000"],
    },
    Case {
        name: "home_shares_not_summing_to_one",
        old: "home_share = 0.28 ",
        new: "home_share = 0.38 ",
        fragments: &["providers.*.home_share", "must sum to 1", "got 1.1"],
    },
    Case {
        name: "initial_hosts_not_summing_to_one",
        old: "initial_hosts = { aws = 0.6, gcp = 0.3, azure = 0.1 }",
        new: "initial_hosts = { aws = 0.6, gcp = 0.3, azure = 0.2 }",
        fragments: &["labs.anthropic.initial_hosts", "must sum to 1", "got 1.09"],
    },
    Case {
        name: "initial_hosts_unknown_provider",
        old: "initial_hosts = { gcp = 1.0 }",
        new: "initial_hosts = { tpu_cloud = 1.0 }",
        fragments: &[
            "labs.deepmind.initial_hosts.tpu_cloud",
            "unknown provider \"tpu_cloud\"",
            "expected one of aws",
        ],
    },
    Case {
        name: "lab_owner_unknown_provider",
        old: "owner = \"gcp\"",
        new: "owner = \"alphabet\"",
        fragments: &[
            "labs.deepmind.owner",
            "unknown provider \"alphabet\"",
            "expected one of aws",
        ],
    },
];

#[test]
fn every_bad_config_case_names_file_key_value_and_expectation_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    for case in CASES {
        let path = bad_config(tmp.path(), case.name, case.old, case.new);
        let stderr = run_rejected(tmp.path(), &path, &[]);
        assert_message(&stderr, &path.display().to_string(), case.fragments);
    }
}

#[test]
fn a_syntax_error_names_the_file_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("configs/baseline.toml")).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("price = 4.2 "))
        .expect("aws price line")
        + 1;
    let path = bad_config(tmp.path(), "syntax", "price = 4.2 ", "price = = 4.2 ");
    let stderr = run_rejected(tmp.path(), &path, &[]);
    assert_message(
        &stderr,
        &path.display().to_string(),
        &["is not valid TOML", &format!("(line {line})")],
    );
}

#[test]
fn a_missing_config_file_is_bad_input() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("absent.toml");
    let stderr = run_rejected(tmp.path(), &path, &[]);
    assert_message(&stderr, &path.display().to_string(), &["cannot be read"]);
}

#[test]
fn set_of_a_nonexistent_key_is_rejected_with_its_name() {
    let tmp = tempfile::tempdir().unwrap();
    let base = repo("configs/baseline.toml");
    // An unknown leaf in an existing table.
    let stderr = run_rejected(tmp.path(), &base, &["--set", "enterprise.reveiw_rate=0.1"]);
    assert!(
        stderr.contains("enterprise.reveiw_rate")
            && stderr.contains("unknown field `reveiw_rate`")
            && stderr.contains("expected one of"),
        "{stderr}"
    );
    // A path through a table that does not exist.
    let tmp2 = tempfile::tempdir().unwrap();
    let stderr = run_rejected(tmp2.path(), &base, &["--set", "providers.ibm.price=3"]);
    assert_message(&stderr, "--set", &["providers.ibm.price", "does not exist", "ibm"]);
    // Not a key=value pair at all.
    let tmp3 = tempfile::tempdir().unwrap();
    let stderr = run_rejected(tmp3.path(), &base, &["--set", "enterprise.review_probability"]);
    assert_message(
        &stderr,
        "--set",
        &["expected key=value", "enterprise.review_probability"],
    );
}

#[test]
fn set_of_an_invalid_value_is_rejected_like_a_bad_file() {
    let tmp = tempfile::tempdir().unwrap();
    let base = repo("configs/baseline.toml");
    let stderr = run_rejected(tmp.path(), &base, &["--set", "enterprise.review_probability=2"]);
    assert!(
        stderr.contains("enterprise.review_probability must be in [0, 1], got 2"),
        "{stderr}"
    );
    let tmp2 = tempfile::tempdir().unwrap();
    let stderr = run_rejected(tmp2.path(), &base, &["--set", "enterprise.review_probability=often"]);
    assert!(
        stderr.contains("enterprise.review_probability")
            && stderr.contains("\"often\"")
            && stderr.contains("expected f64"),
        "{stderr}"
    );
}

#[test]
fn validate_reports_the_same_error_as_run() {
    let tmp = tempfile::tempdir().unwrap();
    let path = bad_config(
        tmp.path(),
        "prob",
        "review_probability = 0.08",
        "review_probability = 1.4",
    );
    let o = aimarket(&["validate", path.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_message(
        &stderr,
        &path.display().to_string(),
        &["enterprise.review_probability", "must be in [0, 1]", "got 1.4"],
    );
}

#[test]
fn a_rejected_run_does_not_create_a_missing_output_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let path = bad_config(
        tmp.path(),
        "prob",
        "review_probability = 0.08",
        "review_probability = 1.4",
    );
    let out = tmp.path().join("never_made");
    let o = aimarket(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists(), "the output dir was created for a rejected config");
}

#[test]
fn a_bound_the_config_breaks_is_named_by_its_key_not_by_the_first_set_event() {
    // The history config has `set` events; each is checked by validating the config with its
    // value applied, which used to report a too-large population as `events[0].value`.
    let o = aimarket(
        &[
            "validate",
            "configs/history/2019.toml",
            "--set",
            "run.enterprises=100000000",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("run.enterprises must be ≤ 50000000"), "{err}");
    assert!(!err.contains("events["), "{err}");
    // A set event whose own value breaks a bound is still named as the event's value.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.toml");
    std::fs::write(
        &file,
        format!(
            "extends = '{}'\n[[events]]\nat = \"2026-06\"\nkind = \"set\"\nkey = \"enterprise.cloud_gravity\"\nvalue = 1000.0\n",
            repo("configs/baseline.toml").display()
        ),
    )
    .unwrap();
    let o = aimarket(&["validate", file.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(".value is rejected") && err.contains("enterprise.cloud_gravity"),
        "{err}"
    );
}

#[test]
fn a_set_event_of_a_price_the_sellers_choose_is_refused_under_best_response() {
    // Under best-response rules the general-cloud index, the model fee and the marketplace margin
    // are the sellers' choices: a `set` of them would silently do nothing, so it is refused with the rule named;
    // under `configured` the same event is valid.
    let tmp = tempfile::tempdir().unwrap();
    for (key, rule, strategic_rule) in [
        ("providers.aws.cloud_price_index", "pricing.cloud_price_rule", ""),
        ("labs.openai.model_fee", "pricing.fee_rule", ""),
        (
            "providers.aws.marketplace_margin",
            "pricing.margin_rule",
            "[pricing]\nmargin_rule = \"best_response\"\n",
        ),
    ] {
        let write = |name: &str, extra: &str| {
            let file = tmp.path().join(name);
            std::fs::write(
                &file,
                format!(
                    "extends = '{}'\n{extra}[[events]]\nat = \"2026-06\"\nkind = \"set\"\nkey = \"{key}\"\nvalue = 1.2\n",
                    repo("configs/baseline.toml").display()
                ),
            )
            .unwrap();
            file
        };
        let strategic = write("strategic.toml", strategic_rule);
        let o = aimarket(&["validate", strategic.to_str().unwrap()], &[]);
        assert_eq!(o.status.code(), Some(2), "{key}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(key) && err.contains(rule) && err.contains("configured"),
            "{err}"
        );
        let field = rule.rsplit('.').next().unwrap();
        let configured = write("configured.toml", &format!("[pricing]\n{field} = \"configured\"\n"));
        let o = aimarket(&["validate", configured.to_str().unwrap()], &[]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{key}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
}
