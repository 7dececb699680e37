//! Times printed as Go prints them, for podman's output formats.

use chrono::{DateTime, Local, Utc};

/// The nanoseconds of `local` as Go prints a fraction: `.400920590` becomes
/// `.40092059`, and none at all when they are zero.
fn go_fraction(local: &DateTime<Local>) -> String {
    let nanos = format!("{:09}", local.timestamp_subsec_nanos());
    match nanos.trim_end_matches('0') {
        "" => String::new(),
        digits => format!(".{digits}"),
    }
}

/// Go's `time.Time.String()` of `time` in local time:
/// `2006-01-02 15:04:05.999999999 -0700 MST`, the fraction without trailing zeros.
/// The zone's name is `UTC` at offset zero and the offset again elsewhere (Go prints
/// an abbreviation such as `CET` there, which the system's zone data would give).
pub fn go_time_string(time: DateTime<Utc>) -> String {
    let local = time.with_timezone(&Local);
    let offset = local.format("%z").to_string();
    let zone = if offset == "+0000" { "UTC" } else { offset.as_str() };
    format!(
        "{}{} {offset} {zone}",
        local.format("%Y-%m-%d %H:%M:%S"),
        go_fraction(&local)
    )
}

/// Go's `time.RFC3339Nano` in local time: fraction without trailing zeros, `Z` for UTC.
pub fn go_rfc3339_nano(time: DateTime<Utc>) -> String {
    let local = time.with_timezone(&Local);
    let offset = local.format("%:z").to_string();
    let zone = if offset == "+00:00" { "Z" } else { offset.as_str() };
    format!("{}{}{zone}", local.format("%Y-%m-%dT%H:%M:%S"), go_fraction(&local))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_lose_trailing_zeros() {
        let t = DateTime::parse_from_rfc3339("2026-11-28T10:18:47.408147520Z")
            .unwrap()
            .with_timezone(&Utc);
        let text = go_rfc3339_nano(t);
        assert!(text.contains(":47.40814752"), "{text}");
        assert!(!text.contains(".408147520"), "{text}");
        let whole = DateTime::parse_from_rfc3339("2026-11-28T10:18:47Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(go_time_string(whole).contains(":47 "), "{}", go_time_string(whole));
        assert!(go_rfc3339_nano(whole).contains(":47"), "{}", go_rfc3339_nano(whole));
    }
}
