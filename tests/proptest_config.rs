//! Property: any value of any numeric config key is either refused up front, naming the key, or
//! gives a run whose outputs are all finite, with the shares of every non-empty market summing
//! to one. The keys are enumerated from the resolved baseline (`config::bounds::numeric_leaves`),
//! so a new parameter is covered without editing this test.
//!
//! 64 cases by default (a few seconds); run more with
//! `PROPTEST_CASES=5000 cargo test --test main proptest_config::`.

use std::sync::OnceLock;

use aimarket::config::{self, Market, bounds};
use aimarket::sim::resources::TickReport;
use aimarket::sim::{Observer, simulate};
use proptest::prelude::*;

use crate::common::repo;

/// The resolved baseline table and its numeric keys (with whether each holds an integer).
fn baseline() -> &'static (toml::Table, Vec<(String, bool)>) {
    static BASE: OnceLock<(toml::Table, Vec<(String, bool)>)> = OnceLock::new();
    BASE.get_or_init(|| {
        let c = config::load(&repo("configs/baseline.toml"), &[]).expect("baseline");
        let table = config::to_table(&c);
        let keys = bounds::numeric_leaves(&table)
            .into_iter()
            .map(|l| {
                let integer = config::get_key(&table, &l.key).is_some_and(toml::Value::is_integer);
                (l.key, integer)
            })
            .collect();
        (table, keys)
    })
}

/// A value for a key: extremes, edges and ordinary magnitudes of both signs (TOML has no NaN
/// here: `nan`/`inf` are rejected by every range check and covered by unit tests).
fn value(integer: bool) -> impl Strategy<Value = toml::Value> {
    if integer {
        prop_oneof![
            Just(0i64),
            Just(1),
            Just(-1),
            Just(u32::MAX as i64),
            Just(i64::MAX),
            Just(4_000_000_000),
            0i64..3_000,
            (0u32..19).prop_map(|e| 10i64.pow(e)),
        ]
        .prop_map(toml::Value::Integer)
        .boxed()
    } else {
        prop_oneof![
            Just(0.0f64),
            Just(-0.0),
            Just(1.0),
            Just(-1.0),
            Just(1e308),
            Just(-1e308),
            Just(f64::MIN_POSITIVE),
            Just(1e-300),
            (-1.0f64..1.0),
            (-12i32..12, -310i32..309, any::<bool>()).prop_map(|(m, e, neg)| {
                let v = f64::from(m) * 10f64.powi(e);
                if neg { -v } else { v }
            }),
        ]
        .prop_map(toml::Value::Float)
        .boxed()
    }
}

/// One to three (key, value) overrides.
fn overrides() -> impl Strategy<Value = Vec<(String, toml::Value)>> {
    let n = baseline().1.len();
    proptest::collection::vec(
        (0..n).prop_flat_map(|i| {
            let (key, integer) = baseline().1[i].clone();
            value(integer).prop_map(move |v| (key.clone(), v))
        }),
        1..4,
    )
}

/// Checks every tick's report.
struct Checked {
    problems: Vec<String>,
}

impl Observer for Checked {
    fn tick(&mut self, r: &TickReport) -> Result<(), String> {
        if let Some(m) = r.metrics.first_non_finite() {
            self.problems
                .push(format!("tick {}: {} is not finite", r.tick, m.name()));
        }
        for a in &r.agents {
            let values = [a.price, a.capacity_kgpu, a.utilisation, a.revenue_musd, a.compute_kgpu];
            let optional = [a.rent_share, a.quality, a.dependency];
            if values.iter().chain(optional.iter().flatten()).any(|v| !v.is_finite()) {
                self.problems
                    .push(format!("tick {}: agent row {a:?} is not finite", r.tick));
            }
        }
        for m in Market::all() {
            let rows: Vec<_> = r.shares.iter().filter(|s| s.market == m).collect();
            let amount: f64 = rows.iter().map(|s| s.amount).sum();
            let share: f64 = rows.iter().map(|s| s.share).sum();
            if !amount.is_finite() || rows.iter().any(|s| s.amount < 0.0 || !s.share.is_finite()) {
                self.problems.push(format!(
                    "tick {}: market {} has non-finite or negative rows",
                    r.tick,
                    m.name()
                ));
            } else if amount > 0.0 && (share - 1.0).abs() > 1e-9 {
                self.problems
                    .push(format!("tick {}: shares of {} sum to {share}", r.tick, m.name()));
            }
        }
        Ok(())
    }
}

/// Whether the error's key is the changed key or a table holding it (`labs.x.initial_hosts`
/// must sum to 1), `*` matching any id.
fn names_parent(error_key: &str, changed: &str) -> bool {
    let e: Vec<&str> = error_key.split(' ').next().unwrap_or("").split('.').collect();
    let c: Vec<&str> = changed.split('.').collect();
    e.len() <= c.len() && e.iter().zip(&c).all(|(a, b)| *a == "*" || a == b)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn any_numeric_value_is_refused_naming_its_key_or_runs_finite(sets in overrides()) {
        let mut table = baseline().0.clone();
        for (key, v) in &[("run.enterprises", toml::Value::Integer(300)), ("run.ticks", toml::Value::Integer(6))] {
            config::set_key(&mut table, key, v.clone()).unwrap();
        }
        for (key, v) in &sets {
            config::set_key(&mut table, key, v.clone()).unwrap();
        }
        match config::from_table(table, "prop.toml") {
            Err(e) => {
                let text = e.to_string();
                prop_assert!(!e.key.is_empty(), "no key named: {text}");
                // The message names a changed key (or its field, e.g. `providers.*.home_share`
                // or `price must be ≥ unit_cost` when unit_cost changed).
                let named = sets.iter().any(|(k, _)| {
                    let field = k.rsplit('.').next().unwrap_or(k);
                    text.contains(k.as_str()) || text.contains(field) || names_parent(&e.key, k)
                });
                prop_assert!(named, "{text} names none of {sets:?}");
            }
            Ok(mut c) => {
                // Size keys were validated as given; simulate a short run of the rest.
                c.run.enterprises = c.run.enterprises.min(300);
                c.run.ticks = c.run.ticks.min(6);
                let mut checked = Checked { problems: Vec::new() };
                let result = simulate(&c, &mut checked, &mut |_| {}, &|| false);
                prop_assert!(result.is_ok(), "{sets:?}: the run failed: {:?}", result.err());
                prop_assert!(checked.problems.is_empty(), "{sets:?}: {:?}", &checked.problems[..checked.problems.len().min(5)]);
            }
        }
    }
}
