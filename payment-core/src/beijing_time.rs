//! Beijing time (UTC+8, no daylight saving) from and to Unix seconds, whatever the machine's zone.
//!
//! Alipay's common parameter `timestamp` is `yyyy-MM-dd HH:mm:ss` in Beijing time
//! (<https://opendocs.alipay.com/common/02kf5q>), and so are `notify_time`, `gmt_payment` and
//! `time_expire`; UnionPay's `txnTime` and `payTimeout` are `yyyyMMddHHmmss` in Beijing time. A
//! Worker's clock is UTC and SDKs that format "local time" get this wrong on UTC machines, so the
//! civil-date arithmetic is done here, from the Unix seconds the caller passes (no clock is read).

use std::fmt;

use crate::error::{Error, Result};

/// Beijing is UTC+8 all year round.
const OFFSET_SECONDS: u64 = 8 * 3600;
const SECONDS_PER_DAY: u64 = 86_400;
/// The last second a four-digit year can show: 9999-12-31 23:59:59 Beijing time.
const MAX_UNIX: u64 = 253_402_300_799 - OFFSET_SECONDS;

/// A wall-clock time in Beijing, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BeijingTime {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl BeijingTime {
    /// The Beijing wall-clock time at `unix` seconds since 1970-01-01T00:00:00Z.
    ///
    /// # Errors
    /// [`Error::Malformed`] `"timestamp"` after 9999-12-31 23:59:59 Beijing time.
    pub fn from_unix(unix: u64) -> Result<Self> {
        if unix > MAX_UNIX {
            return Err(Error::Malformed { what: "timestamp" });
        }
        let local = unix + OFFSET_SECONDS;
        let (year, month, day) = civil_from_days(local / SECONDS_PER_DAY);
        let seconds = local % SECONDS_PER_DAY;
        Ok(Self {
            year,
            month,
            day,
            hour: (seconds / 3600) as u32,
            minute: (seconds / 60 % 60) as u32,
            second: (seconds % 60) as u32,
        })
    }

    /// Unix seconds of this wall-clock time.
    pub fn unix(self) -> u64 {
        let days = days_from_civil(self.year, self.month, self.day);
        // Never negative: `parts` refuses anything before 1970-01-01 08:00:00 Beijing time.
        (days * SECONDS_PER_DAY + u64::from(self.hour) * 3600 + u64::from(self.minute) * 60 + u64::from(self.second))
            .saturating_sub(OFFSET_SECONDS)
    }

    /// Alipay's format, `yyyy-MM-dd HH:mm:ss`.
    pub fn to_alipay(self) -> String {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// UnionPay's format, `yyyyMMddHHmmss`.
    pub fn to_compact(self) -> String {
        format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }

    /// Parses Alipay's `yyyy-MM-dd HH:mm:ss` (exactly that; a real calendar date).
    ///
    /// # Errors
    /// [`Error::Malformed`] `what` for anything else.
    pub fn parse_alipay(text: &str, what: &'static str) -> Result<Self> {
        let b = text.as_bytes();
        let separators_ok = b.len() == 19
            && b[4] == b'-'
            && b[7] == b'-'
            && b[10] == b' '
            && b[13] == b':'
            && b[16] == b':';
        if !separators_ok {
            return Err(Error::Malformed { what });
        }
        Self::parts(text, [(0, 4), (5, 7), (8, 10), (11, 13), (14, 16), (17, 19)], what)
    }

    /// Parses UnionPay's `yyyyMMddHHmmss` (exactly fourteen digits; a real calendar date).
    ///
    /// # Errors
    /// [`Error::Malformed`] `what` for anything else.
    pub fn parse_compact(text: &str, what: &'static str) -> Result<Self> {
        if text.len() != 14 {
            return Err(Error::Malformed { what });
        }
        Self::parts(text, [(0, 4), (4, 6), (6, 8), (8, 10), (10, 12), (12, 14)], what)
    }

    fn parts(text: &str, ranges: [(usize, usize); 6], what: &'static str) -> Result<Self> {
        let mut numbers = [0_u32; 6];
        for (number, (from, to)) in numbers.iter_mut().zip(ranges) {
            let digits = text.get(from..to).ok_or(Error::Malformed { what })?;
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Error::Malformed { what });
            }
            *number = digits.parse().map_err(|_| Error::Malformed { what })?;
        }
        let [year, month, day, hour, minute, second] = numbers;
        let valid = (1970..=9999).contains(&year)
            && (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60
            // Before 08:00 on 1970-01-01 Beijing time is before the Unix epoch.
            && !(year == 1970 && month == 1 && day == 1 && hour < 8);
        if !valid {
            return Err(Error::Malformed { what });
        }
        Ok(Self { year, month, day, hour, minute, second })
    }
}

impl fmt::Display for BeijingTime {
    /// `yyyy-MM-dd HH:mm:ss`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_alipay())
    }
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian; after Howard Hinnant's
/// `civil_from_days` (<https://howardhinnant.github.io/date_algorithms.html>), unsigned because
/// nothing here is before 1970.
fn civil_from_days(days: u64) -> (u32, u32, u32) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of a 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year as u32, month as u32, day as u32)
}

/// (year, month, day) to days since 1970-01-01; the inverse of [`civil_from_days`] for years ≥ 1970.
fn days_from_civil(year: u32, month: u32, day: u32) -> u64 {
    let year = u64::from(year) - u64::from(month <= 2);
    let era = year / 400;
    let year_of_era = year % 400;
    let month = u64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + u64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    (era * 146_097 + day_of_era).saturating_sub(719_468)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        // The Unix epoch is 08:00 in Beijing.
        assert_eq!(BeijingTime::from_unix(0).unwrap().to_alipay(), "1970-01-01 08:00:00");
        // 2019-08-15 07:56:25Z, the notify_time of the alipay_notify.json vector in UTC.
        let t = BeijingTime::from_unix(1_565_855_785).unwrap();
        assert_eq!(t.to_alipay(), "2019-08-15 15:56:25");
        assert_eq!(t.to_compact(), "20190815155625");
        // 16:00Z on New Year's Eve is already the next year in Beijing.
        assert_eq!(BeijingTime::from_unix(1_704_038_400).unwrap().to_alipay(), "2024-01-01 00:00:00");
        assert_eq!(BeijingTime::from_unix(1_704_038_399).unwrap().to_alipay(), "2023-12-31 23:59:59");
        // Leap days, including the 400-year rule.
        assert_eq!(BeijingTime::from_unix(951_782_400).unwrap().to_alipay(), "2000-02-29 08:00:00");
        assert_eq!(BeijingTime::from_unix(1_709_193_600).unwrap().to_alipay(), "2024-02-29 16:00:00");
        assert_eq!(BeijingTime::from_unix(MAX_UNIX).unwrap().to_alipay(), "9999-12-31 23:59:59");
        assert!(BeijingTime::from_unix(MAX_UNIX + 1).is_err());
    }

    #[test]
    fn parsers_are_strict() {
        let t = BeijingTime::parse_alipay("2019-08-15 15:56:25", "t").unwrap();
        assert_eq!(t.unix(), 1_565_855_785);
        assert_eq!(BeijingTime::parse_compact("20190815155625", "t").unwrap(), t);
        assert_eq!(BeijingTime::parse_alipay("1970-01-01 08:00:00", "t").unwrap().unix(), 0);
        for bad in [
            "2019-08-15 15:56",
            "2019-08-15T15:56:25",
            "2019-02-29 00:00:00",
            "2019-13-01 00:00:00",
            "2019-00-01 00:00:00",
            "2019-04-31 00:00:00",
            "2019-08-15 24:00:00",
            "2019-08-15 23:60:00",
            "2019-08-15 23:59:60",
            "1970-01-01 07:59:59",
            "1969-12-31 23:00:00",
            "2019-08-15 15:56:2x",
            "2019-08-15 +5:56:25",
            " 2019-08-15 15:56:2",
        ] {
            assert_eq!(BeijingTime::parse_alipay(bad, "t"), Err(Error::Malformed { what: "t" }), "{bad}");
        }
        for bad in ["2019081515562", "201908151556250", "2019-8151556250", "20190229000000", "2019081515562x"] {
            assert!(BeijingTime::parse_compact(bad, "t").is_err(), "{bad}");
        }
        assert!(BeijingTime::parse_compact("20000229000000", "t").is_ok());
        assert!(BeijingTime::parse_compact("19000229000000", "t").is_err());
    }

    proptest! {
        #[test]
        fn every_second_round_trips(unix in 0..=MAX_UNIX) {
            let t = BeijingTime::from_unix(unix).unwrap();
            prop_assert_eq!(t.unix(), unix);
            prop_assert_eq!(BeijingTime::parse_alipay(&t.to_alipay(), "t").unwrap(), t);
            prop_assert_eq!(BeijingTime::parse_compact(&t.to_compact(), "t").unwrap(), t);
        }

        #[test]
        fn days_map_one_to_one(days in 0_u64..2_932_896) {
            let (y, m, d) = civil_from_days(days);
            prop_assert!((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m));
            prop_assert_eq!(days_from_civil(y, m, d), days);
            // The next day is the next calendar day.
            let (y2, m2, d2) = civil_from_days(days + 1);
            let expected = if d < days_in_month(y, m) { (y, m, d + 1) } else if m < 12 { (y, m + 1, 1) } else { (y + 1, 1, 1) };
            prop_assert_eq!((y2, m2, d2), expected);
        }
    }
}
