//! The options of `GenesysAuth.create` (and of the Rust API, which hands the same options to the engine).

use genesys_auth::{Error, RetryPolicy};

/// No `region` option.
pub(crate) const MISSING_REGION: Error =
    Error::InvalidConfig { field: "region", reason: "region is required, e.g. \"mypurecloud.ie\" or \"eu_west_1\"" };

/// No `clientId` option.
pub(crate) const MISSING_CLIENT_ID: Error = Error::InvalidConfig {
    field: "clientId",
    reason: "clientId is required: the id of the OAuth client in Genesys Cloud admin",
};

/// A count or a duration from JS: finite and not negative, else not given.
pub(crate) fn whole(n: Option<f64>) -> Option<u64> {
    n.filter(|n| n.is_finite() && *n >= 0.0).map(|n| n as u64)
}

/// The `retry` option: maxAttempts, baseDelayMs, maxDelayMs, maxRetryAfterMs, maxTotalMs, each where given; the
/// others keep their defaults, and attempts stay within 1..=20.
pub(crate) fn retry_policy(values: [Option<u64>; 5]) -> RetryPolicy {
    let d = RetryPolicy::default();
    let [attempts, base, max_delay, max_retry_after, max_total] = values;
    RetryPolicy {
        max_attempts: attempts.map_or(d.max_attempts, |n| n.clamp(1, 20) as u32),
        base_delay_ms: base.unwrap_or(d.base_delay_ms),
        max_delay_ms: max_delay.unwrap_or(d.max_delay_ms),
        max_retry_after_ms: max_retry_after.unwrap_or(d.max_retry_after_ms),
        max_total_ms: max_total.unwrap_or(d.max_total_ms),
    }
}
