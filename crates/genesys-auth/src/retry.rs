//! When to try a request again, and how long to wait: pure decisions, no sleeping.

/// Why an attempt failed, as far as retrying is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure<'a> {
    /// The server answered with this status (and maybe a `Retry-After` header).
    Status {
        /// HTTP status.
        status: u16,
        /// The `Retry-After` header value.
        retry_after: Option<&'a str>,
    },
    /// No answer at all (connection refused or dropped, DNS, timeout).
    Network,
}

impl<'a> Failure<'a> {
    /// The failure an HTTP exchange ended in: `status` of the answer (and its `Retry-After`), or `None` when no
    /// answer came. Drivers feed their transport's result through this into [`RetryPolicy::decide`].
    ///
    /// ```
    /// use genesys_auth::Failure;
    /// assert_eq!(Failure::from_answer(None, None), Failure::Network);
    /// assert_eq!(Failure::from_answer(Some(429), Some("3")), Failure::Status { status: 429, retry_after: Some("3") });
    /// ```
    pub fn from_answer(status: Option<u16>, retry_after: Option<&'a str>) -> Self {
        match status {
            Some(status) => Failure::Status { status, retry_after },
            None => Failure::Network,
        }
    }
}

/// Retry rules: 429 (honouring `Retry-After`), 502, 503, 504 and network failures are retried with
/// exponential backoff and jitter, within a bounded number of attempts and total time.
///
/// A request that spends an authorization code is retried only on 429, which says it was not processed:
/// after any other failure the code may already be used, and a second try would get `invalid_grant`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Backoff before the first retry; doubled each time.
    pub base_delay_ms: u64,
    /// Largest backoff between two attempts.
    pub max_delay_ms: u64,
    /// Largest `Retry-After` honoured; a longer one ends the retries (the official SDKs cap at 180 s).
    pub max_retry_after_ms: u64,
    /// No retry is started that would end after this much time since the first attempt.
    pub max_total_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay_ms: 500,
            max_delay_ms: 10_000,
            max_retry_after_ms: 180_000,
            max_total_ms: 60_000,
        }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..Self::default() }
    }

    /// Whether to retry after `attempts` failed attempts, `elapsed_ms` after the first began; `Some(delay_ms)`
    /// to wait before the next attempt. `random` is any random number (for jitter); `now_ms` reads HTTP-dates.
    ///
    /// ```
    /// use genesys_auth::{Failure, RetryPolicy};
    /// let p = RetryPolicy::default();
    /// let busy = Failure::Status { status: 429, retry_after: Some("2") };
    /// assert_eq!(p.decide(busy, false, 1, 0, 0, 0), Some(2000));
    /// let bad_gateway = Failure::Status { status: 502, retry_after: None };
    /// assert_eq!(p.decide(bad_gateway, true, 1, 0, 0, 0), None); // never retry a spent code
    /// ```
    pub fn decide(
        &self,
        failure: Failure<'_>,
        spends_code: bool,
        attempts: u32,
        elapsed_ms: u64,
        random: u32,
        now_ms: u64,
    ) -> Option<u64> {
        if attempts >= self.max_attempts {
            return None;
        }
        let retry_after = match failure {
            Failure::Status { status: 429, retry_after } => retry_after.and_then(|v| parse_retry_after(v, now_ms)),
            Failure::Status { status: 502..=504, .. } | Failure::Network if !spends_code => None,
            _ => return None,
        };
        let exp = self.base_delay_ms.saturating_mul(1u64 << attempts.saturating_sub(1).min(20)).min(self.max_delay_ms);
        // "Equal jitter": half fixed, half random, so a storm of clients spreads out.
        let backoff = exp / 2 + u64::from(random) % (exp / 2 + 1);
        let delay = match retry_after {
            Some(ms) if ms > self.max_retry_after_ms => return None,
            // A server that says "rate limited" gets at least the normal backoff, also when its Retry-After is 0
            // or a date already past: never a burst.
            Some(ms) => ms.max(backoff),
            None => backoff,
        };
        (elapsed_ms.saturating_add(delay) <= self.max_total_ms).then_some(delay)
    }
}

/// Parses `Retry-After`: delay-seconds or an HTTP-date (RFC 9110 §10.2.3), as milliseconds from `now_ms`.
/// A huge value stays huge (saturating): a longer requested wait must never read as no wait at all, so
/// [`RetryPolicy::decide`] stops on it as on any wait beyond its cap.
///
/// ```
/// use genesys_auth::parse_retry_after;
/// assert_eq!(parse_retry_after("120", 0), Some(120_000));
/// assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:01:00 GMT", 30_000), Some(30_000));
/// ```
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim_ascii();
    if !value.is_empty() && value.len() <= 40 && value.bytes().all(|b| b.is_ascii_digit()) {
        // Digits beyond u64 are still a (very long) number of seconds.
        return Some(crate::parse_decimal(value).map_or(u64::MAX, |secs| secs.saturating_mul(1000)));
    }
    Some(imf_fixdate_ms(value)?.saturating_sub(now_ms))
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`, the form RFC 9110 requires senders to use) into epoch
/// milliseconds. Written here rather than taken from a date crate: it is the only date format we read, and a
/// date crate would be one more dependency in the browser bundle (checked against `httpdate` in tests/reference.rs).
fn imf_fixdate_ms(value: &str) -> Option<u64> {
    const MONTHS: [&[u8]; 12] =
        [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
    let b = value.as_bytes();
    let shape_ok = b.len() == 29
        && &b[3..5] == b", "
        && b[7] == b' '
        && b[11] == b' '
        && b[16] == b' '
        && b[19] == b':'
        && b[22] == b':'
        && &b[25..] == b" GMT";
    if !shape_ok {
        return None;
    }
    let num = |r: core::ops::Range<usize>| -> Option<u64> {
        b[r].iter().try_fold(0u64, |n, &c| c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0')))
    };
    let month = MONTHS.iter().position(|m| *m == &b[8..11])? as u64 + 1;
    let (day, year) = (num(5..7)?, num(12..16)?);
    let (h, m, s) = (num(17..19)?, num(20..22)?, num(23..25)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=month_days).contains(&day) || year < 1970 || h > 23 || m > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm), for years from 1970 on.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some((days * 86_400 + h * 3600 + m * 60 + s) * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 4,
        base_delay_ms: 1000,
        max_delay_ms: 8000,
        max_retry_after_ms: 180_000,
        max_total_ms: 60_000,
    };

    fn status(status: u16, retry_after: Option<&str>) -> Failure<'_> {
        Failure::Status { status, retry_after }
    }

    #[test]
    fn a_retry_after_of_zero_or_in_the_past_still_waits_the_normal_backoff() {
        let past = "Thu, 01 Jan 1970 00:00:10 GMT";
        for (attempt, floor) in [(1, 500), (2, 1000), (3, 2000)] {
            for retry_after in ["0", past] {
                let delay = P.decide(status(429, Some(retry_after)), false, attempt, 0, 0, 60_000);
                assert_eq!(delay, Some(floor), "{retry_after}, attempt {attempt}");
            }
        }
        // A longer Retry-After than the backoff is honoured as it is.
        assert_eq!(P.decide(status(429, Some("5")), false, 1, 0, 0, 0), Some(5000));
    }

    #[test]
    fn retry_after_is_honoured_in_seconds_and_dates() {
        assert_eq!(P.decide(status(429, Some("3")), false, 1, 0, 7, 0), Some(3000));
        // Thu, 01 Jan 1970 00:00:10 GMT is 10 s after the epoch.
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", 4_000), Some(6_000));
        assert_eq!(parse_retry_after("soon", 0), None);
        assert_eq!(parse_retry_after("99999999999999999999", 0), Some(u64::MAX));
        assert_eq!(parse_retry_after("100000", 0), Some(100_000_000));
        assert_eq!(imf_fixdate_ms("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777_000));
        assert_eq!(imf_fixdate_ms("Tue, 29 Feb 2028 00:00:00 GMT"), Some(1_835_395_200_000));
        assert_eq!(imf_fixdate_ms("Sun, 06 Nov 1994 08:49:37 UTC"), None);
        assert_eq!(imf_fixdate_ms("Sun, 06 Xyz 1994 08:49:37 GMT"), None);
        assert_eq!(imf_fixdate_ms("Sun, 6 Nov 1994 08:49:37 GMT"), None);
        assert_eq!(imf_fixdate_ms("Sat, 31 Feb 2026 00:00:00 GMT"), None);
        assert_eq!(imf_fixdate_ms("Sun, 29 Feb 2026 00:00:00 GMT"), None);
        assert_eq!(imf_fixdate_ms("Wed, 31 Apr 2026 00:00:00 GMT"), None);
    }

    #[test]
    fn retry_after_beyond_the_cap_gives_up() {
        // A longer requested wait never means sooner retries: beyond the cap (a day or more included) it stops.
        for long in ["181", "3600", "100000", "99999999999999999999"] {
            assert_eq!(P.decide(status(429, Some(long)), false, 1, 0, 0, 0), None, "{long}");
        }
    }

    #[test]
    fn retry_after_at_the_cap_is_still_honoured() {
        let p = RetryPolicy { max_total_ms: u64::MAX, ..P };
        assert_eq!(p.decide(status(429, Some("179")), false, 1, 0, 0, 0), Some(179_000));
        assert_eq!(p.decide(status(429, Some("180")), false, 1, 0, 0, 0), Some(180_000));
        assert_eq!(p.decide(status(429, Some("181")), false, 1, 0, 0, 0), None);
    }

    #[test]
    fn backoff_grows_with_jitter_within_bounds() {
        for attempt in 1..4 {
            let exp = (1000u64 << (attempt - 1)).min(8000);
            for random in [0, 1, 999, u32::MAX] {
                let d = P.decide(status(503, None), false, attempt, 0, random, 0).unwrap_or(0);
                assert!(d >= exp / 2 && d <= exp, "attempt {attempt}: {d}");
            }
        }
    }

    #[test]
    fn attempts_and_total_time_are_bounded() {
        assert_eq!(P.decide(status(503, None), false, 4, 0, 0, 0), None);
        assert_eq!(P.decide(status(503, None), false, 1, 59_999, 0, 0), None);
        assert_eq!(RetryPolicy::none().decide(status(503, None), false, 1, 0, 0, 0), None);
    }

    #[test]
    fn code_spending_requests_retry_only_on_429() {
        assert_eq!(P.decide(status(503, None), true, 1, 0, 0, 0), None);
        assert_eq!(P.decide(Failure::Network, true, 1, 0, 0, 0), None);
        assert_eq!(P.decide(status(429, Some("1")), true, 1, 0, 0, 0), Some(1000));
    }

    #[test]
    fn other_statuses_are_not_retried() {
        for s in [400, 401, 403, 404, 500, 501] {
            assert_eq!(P.decide(status(s, None), false, 1, 0, 0, 0), None, "{s}");
        }
    }

    #[test]
    fn jitter_reaches_both_ends_of_its_range() {
        // Attempt 1 backs off 1000 ms: half fixed, half random, so 500..=1000 and both ends reachable.
        assert_eq!(P.decide(status(503, None), false, 1, 0, 0, 0), Some(500));
        assert_eq!(P.decide(status(503, None), false, 1, 0, 500, 0), Some(1000));
        assert_eq!(P.decide(status(503, None), false, 1, 0, 501, 0), Some(500));
        assert_eq!(P.decide(status(503, None), false, 2, 0, 1000, 0), Some(2000));
    }

    #[test]
    fn leap_years_follow_the_gregorian_rule() {
        assert!(imf_fixdate_ms("Tue, 29 Feb 2000 00:00:00 GMT").is_some(), "divisible by 400");
        assert_eq!(imf_fixdate_ms("Mon, 29 Feb 2100 00:00:00 GMT"), None, "divisible by 100 only");
        assert!(imf_fixdate_ms("Thu, 29 Feb 2024 00:00:00 GMT").is_some());
        assert_eq!(imf_fixdate_ms("Fri, 01 Mar 2100 00:00:00 GMT"), Some(4_107_542_400_000));
    }

    #[test]
    fn clock_fields_are_bounded_each_on_its_own() {
        assert!(imf_fixdate_ms("Thu, 31 Dec 2026 23:59:60 GMT").is_some(), "a leap second");
        for bad in [
            "Thu, 31 Dec 2026 24:00:00 GMT",
            "Thu, 31 Dec 2026 23:60:00 GMT",
            "Thu, 31 Dec 2026 23:59:61 GMT",
            "Wed, 31 Dec 1969 23:59:59 GMT",
        ] {
            assert_eq!(imf_fixdate_ms(bad), None, "{bad}");
        }
    }
}
