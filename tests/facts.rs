//! `aimarket facts`: the stylized-facts report has one row per fact of docs/DATA.md §8, its
//! numbers are the same in facts.csv and facts.md and for any thread count, and bad input is
//! refused before anything runs.

use std::collections::BTreeSet;

use crate::common::aimarket;

fn report(out: &std::path::Path, threads: &str) -> (String, String) {
    let o = aimarket(
        &[
            "facts",
            "--replicates",
            "2",
            "--enterprises",
            "1500",
            "--ticks",
            "24",
            "--threads",
            threads,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
        &[],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (
        std::fs::read_to_string(out.join("facts.csv")).unwrap(),
        std::fs::read_to_string(out.join("facts.md")).unwrap(),
    )
}

#[test]
fn the_report_covers_the_13_facts_and_csv_and_markdown_agree_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv_text, md) = report(&tmp.path().join("one"), "1");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let ids: BTreeSet<u32> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ids, (1..=13).collect::<BTreeSet<u32>>());
    let verdicts = ["reproduced", "not reproduced", "not measured"];
    for r in &rows {
        assert!(verdicts.contains(&&r[10]), "{r:?}");
        // A fact that is not measured has no number; a measured one has a finite mean.
        let measured = r[10] != *"not measured";
        assert_eq!(!r[5].is_empty(), measured || !r[3].is_empty(), "{r:?}");
        if measured {
            assert!(r[5].parse::<f64>().unwrap().is_finite(), "{r:?}");
        }
    }
    // The markdown table has one row per fact, with the same verdict as the CSV.
    let table: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| #"))
        .collect();
    assert_eq!(table.len(), 13, "{md}");
    for line in table {
        let cells: Vec<&str> = line.split(" | ").collect();
        let id: u32 = cells[0].trim_start_matches("| ").parse().unwrap();
        let verdict = line.trim_end_matches(" |").rsplit(" | ").next().unwrap();
        let csv_verdict = &rows.iter().find(|r| r[0].parse::<u32>().unwrap() == id).unwrap()[10];
        assert_eq!(verdict, csv_verdict, "fact {id}");
        // Every mean of the CSV appears, rounded, in the fact's row.
        for r in rows
            .iter()
            .filter(|r| r[0].parse::<u32>().unwrap() == id && !r[5].is_empty())
        {
            let shown = format!("{:.3}", r[5].parse::<f64>().unwrap());
            assert!(line.contains(&shown), "fact {id}: {shown} missing in {line}");
        }
    }
    let (csv_two, md_two) = report(&tmp.path().join("two"), "2");
    assert_eq!(csv_two, csv_text, "facts.csv depends on the thread count");
    assert_eq!(md_two, md);
}

#[test]
fn bad_facts_input_is_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    for args in [
        vec!["facts", "--replicates", "1"],
        vec!["facts", "--regulation", "no_such_scenario"],
        vec!["facts", "--threads", "0"],
    ] {
        let mut all = args.clone();
        all.extend([
            "--enterprises",
            "500",
            "--ticks",
            "6",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        let o = aimarket(&all, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.trim().is_empty(), "{args:?} says why");
        assert!(!out.exists(), "{args:?} wrote {}", out.display());
    }
}
