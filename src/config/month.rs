//! Calendar months (`YYYY-MM`), the model's unit of time.

use std::fmt;

/// A calendar month, stored as months since year 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    /// Parses `YYYY-MM` (month 01–12).
    pub fn parse(s: &str) -> Result<Month, String> {
        let bad = || format!("expected a month as YYYY-MM, got \"{s}\"");
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: i32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month(year * 12 + month - 1))
    }

    /// The month `ticks` months later.
    pub fn plus(self, ticks: i64) -> Month {
        Month(self.0 + ticks as i32)
    }

    /// Months from `origin` to `self` (negative if earlier).
    pub fn ticks_since(self, origin: Month) -> i64 {
        i64::from(self.0 - origin.0)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0.div_euclid(12), self.0.rem_euclid(12) + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_round_trip() {
        let m = Month::parse("2026-01").unwrap();
        assert_eq!(m.to_string(), "2026-01");
        assert_eq!(m.plus(13).to_string(), "2027-02");
        assert_eq!(Month::parse("2027-01").unwrap().ticks_since(m), 12);
    }

    #[test]
    fn rejects_malformed_months() {
        for bad in ["2026-13", "2026-00", "26-01", "2026/01", "2026-1", ""] {
            assert!(Month::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
