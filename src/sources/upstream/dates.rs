//! Lenient date parsing for upstream feeds.
//!
//! Ministry feeds are written by many content systems, and not all of them
//! follow RFC 822. This module accepts, in order: RFC 2822 (named zones such
//! as `GMT`/`EST`, missing seconds, wrong or missing day names, two-digit
//! years), RFC 3339, ISO 8601 without a zone, and the `dd/mm/yyyy hh:mm`
//! form common on Arabic sites (day first, never US month first).
//!
//! A date without a zone is taken in the source's configured `timezone`
//! (a fixed offset such as `+04:00`; UTC when not configured). A date that
//! cannot be read yields `None`; the caller then uses the first-seen time.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Parse a date as found in a feed, reading zone-less dates as UTC.
pub fn parse_date(input: &str) -> Option<DateTime<Utc>> {
    parse_date_in(input, 0)
}

/// Parse a date as found in a feed, reading zone-less dates at
/// `default_offset` seconds east of UTC; `None` when it cannot be read.
pub fn parse_date_in(input: &str, default_offset: i32) -> Option<DateTime<Utc>> {
    let s = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.is_empty() {
        return None;
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(&s) {
        return Some(d.with_timezone(&Utc));
    }
    if let Some(d) = parse_rfc822ish(&s, default_offset) {
        return Some(d);
    }
    parse_iso_or_numeric(&s, default_offset)
}

/// Offset of a named zone (RFC 822 section 5, plus the Gulf zone).
fn named_zone(z: &str) -> Option<i32> {
    let h = match z.to_ascii_uppercase().as_str() {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        "EST" => -5,
        "EDT" => -4,
        "CST" => -6,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "GST" => 4,
        "AST" => 3,
        _ => return None,
    };
    Some(h * 3600)
}

/// `+0400`, `-05:00`, `+04` or a named zone, in seconds east of UTC.
fn parse_zone(z: &str) -> Option<i32> {
    if let Some(off) = named_zone(z) {
        return Some(off);
    }
    let (sign, rest) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (
            digits[..2].parse::<i32>().ok()?,
            digits[2..].parse::<i32>().ok()?,
        ),
        _ => return None,
    };
    if h > 14 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

fn month(name: &str) -> Option<u32> {
    let lower = name.to_ascii_lowercase();
    let m = match lower.get(..3)? {
        "jan" => 1,
        "feb" => 2,
        "mar" => 3,
        "apr" => 4,
        "may" => 5,
        "jun" => 6,
        "jul" => 7,
        "aug" => 8,
        "sep" => 9,
        "oct" => 10,
        "nov" => 11,
        "dec" => 12,
        _ => return None,
    };
    Some(m)
}

fn parse_time(t: &str) -> Option<NaiveTime> {
    let mut parts = t.split(':');
    let h: u32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let s: u32 = match parts.next() {
        Some(s) => s.split('.').next()?.parse().ok()?,
        None => 0,
    };
    if parts.next().is_some() {
        return None;
    }
    NaiveTime::from_hms_opt(h, m, s)
}

fn with_offset(naive: NaiveDateTime, offset_secs: i32) -> Option<DateTime<Utc>> {
    let tz = FixedOffset::east_opt(offset_secs)?;
    tz.from_local_datetime(&naive)
        .single()
        .map(|d| d.with_timezone(&Utc))
}

/// `[Day,] DD Mon YYYY HH:MM[:SS] [zone]`, tolerating a wrong day name.
fn parse_rfc822ish(s: &str, default_offset: i32) -> Option<DateTime<Utc>> {
    // Drop the day name whatever it says: "Fri," "Friday," or "Fri".
    let mut tokens: Vec<&str> = s.split([' ', ',']).filter(|t| !t.is_empty()).collect();
    let has_day_name = tokens.len() >= 3
        && tokens[0].chars().all(|c| c.is_ascii_alphabetic())
        && tokens[1].parse::<u32>().is_ok()
        && month(tokens[2]).is_some();
    if has_day_name {
        tokens.remove(0);
    }
    if tokens.len() < 3 {
        return None;
    }
    // Either "DD Mon YYYY" or "Mon DD YYYY".
    let (day, mon, year) = if let (Ok(d), Some(m)) = (tokens[0].parse::<u32>(), month(tokens[1])) {
        (d, m, tokens[2])
    } else if let (Some(m), Ok(d)) = (month(tokens[0]), tokens[1].parse::<u32>()) {
        (d, m, tokens[2])
    } else {
        return None;
    };
    let mut year: i32 = year.parse().ok()?;
    if year < 100 {
        year += if year < 50 { 2000 } else { 1900 };
    }
    let date = NaiveDate::from_ymd_opt(year, mon, day)?;
    let time = match tokens.get(3) {
        Some(t) => parse_time(t)?,
        None => NaiveTime::MIN,
    };
    let offset = match tokens.get(4) {
        Some(z) => parse_zone(z)?,
        None => default_offset,
    };
    if tokens.len() > 5 {
        return None;
    }
    with_offset(date.and_time(time), offset)
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][zone]` and `DD/MM/YYYY[ HH:MM[:SS]]`.
fn parse_iso_or_numeric(s: &str, default_offset: i32) -> Option<DateTime<Utc>> {
    let (date_part, rest) = match s.find([' ', 'T']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let date = if date_part.contains('-') {
        NaiveDate::parse_from_str(date_part, "%Y-%m-%d").ok()?
    } else if date_part.contains('/') {
        NaiveDate::parse_from_str(date_part, "%d/%m/%Y").ok()?
    } else if date_part.contains('.') {
        NaiveDate::parse_from_str(date_part, "%d.%m.%Y").ok()?
    } else {
        return None;
    };
    if rest.is_empty() {
        return with_offset(date.and_time(NaiveTime::MIN), default_offset);
    }
    // Split the time from a trailing zone: "09:00:00+04:00", "09:00 GMT", "09:00Z".
    let split = rest
        .char_indices()
        .find(|(_, c)| matches!(c, '+' | '-' | 'Z' | 'z' | ' '))
        .map(|(i, _)| i);
    let (time_part, zone_part) = match split {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let time = parse_time(time_part)?;
    let offset = if zone_part.is_empty() {
        default_offset
    } else {
        parse_zone(zone_part)?
    };
    with_offset(date.and_time(time), offset)
}

/// Parse a configured fixed offset such as `+04:00`, `-0530` or `UTC`.
pub fn parse_offset(z: &str) -> Option<i32> {
    parse_zone(z.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_less_dates_use_the_source_offset() {
        let d = parse_date_in("27/11/2026 07:45", 4 * 3600).unwrap();
        assert_eq!(d, utc("2026-11-27T03:45:00Z"));
        let d = parse_date_in("2026-11-22 09:00:00", 4 * 3600).unwrap();
        assert_eq!(d, utc("2026-11-22T05:00:00Z"));
        let d = parse_date_in("Fri, 27 Nov 2026 09:00", 4 * 3600).unwrap();
        assert_eq!(d, utc("2026-11-27T05:00:00Z"));
        // An explicit zone wins.
        let d = parse_date_in("Fri, 27 Nov 2026 09:00 GMT", 4 * 3600).unwrap();
        assert_eq!(d, utc("2026-11-27T09:00:00Z"));
        assert_eq!(parse_offset("+04:00"), Some(14400));
        assert_eq!(parse_offset("UTC"), Some(0));
        assert_eq!(parse_offset("Asia/Muscat"), None);
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "Fri, 27 Nov 2026 09:00:00 +0400",
                Some("2026-11-27T05:00:00Z"),
            ),
            (
                "Fri, 20 Nov 2026 08:15:00 GMT",
                Some("2026-11-20T08:15:00Z"),
            ),
            (
                "Fri, 20 Nov 2026 08:15:00 EST",
                Some("2026-11-20T13:15:00Z"),
            ),
            ("Fri, 27 Nov 2026 09:00 +0400", Some("2026-11-27T05:00:00Z")),
            // Day name does not match the date (27 Nov 2026 is a Friday).
            (
                "Mon, 27 Nov 2026 09:00:00 +0400",
                Some("2026-11-27T05:00:00Z"),
            ),
            (
                "Friday, 27 Nov 2026 09:00:00 UT",
                Some("2026-11-27T09:00:00Z"),
            ),
            ("27 Nov 2026 09:00:00 +04:00", Some("2026-11-27T05:00:00Z")),
            ("27 Nov 26 09:00 GMT", Some("2026-11-27T09:00:00Z")),
            (
                "Fri, 27 November 2026 09:00:00 GMT",
                Some("2026-11-27T09:00:00Z"),
            ),
            (
                "  Sun,  15 Nov 2026  10:00:00 +0400 ",
                Some("2026-11-15T06:00:00Z"),
            ),
            ("2026-11-22T09:00:00+04:00", Some("2026-11-22T05:00:00Z")),
            ("2026-11-22T09:00:00.123Z", Some("2026-11-22T09:00:00.123Z")),
            ("2026-11-22T09:00:00", Some("2026-11-22T09:00:00Z")),
            ("2026-11-22 09:00:00", Some("2026-11-22T09:00:00Z")),
            ("2026-11-22 09:00", Some("2026-11-22T09:00:00Z")),
            ("2026-11-22 09:00:00 +0400", Some("2026-11-22T05:00:00Z")),
            ("2026-11-22", Some("2026-11-22T00:00:00Z")),
            ("27/11/2026 07:45", Some("2026-11-27T07:45:00Z")),
            ("05/11/2026 07:45:10", Some("2026-11-05T07:45:10Z")),
            ("27/11/2026", Some("2026-11-27T00:00:00Z")),
            ("", None),
            ("yesterday", None),
            ("32/11/2026 07:45", None),
            ("Fri, 27 Nov 2026 25:00:00 GMT", None),
            ("2026-13-01", None),
        ];
        for (input, want) in cases {
            let got = parse_date(input);
            assert_eq!(got, want.map(utc), "parsing {input:?}");
        }
    }
}
