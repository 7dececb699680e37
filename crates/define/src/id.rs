//! Object IDs: 64 lowercase hex characters from the OS's CSPRNG.

use crate::error::{DefineError, ErrorKind};

/// Length of a full ID in hex characters.
pub const ID_LEN: usize = 64;
/// Length of the short form shown by `ps` and friends.
pub const SHORT_ID_LEN: usize = 12;

/// Makes a new random ID.
///
/// Like libpod, an ID that parses as a plain decimal number is rejected and
/// drawn again, so that it can never be mistaken for a numeric argument.
pub fn new_id() -> Result<String, DefineError> {
    loop {
        let mut bytes = [0u8; ID_LEN / 2];
        getrandom::fill(&mut bytes)
            .map_err(|e| DefineError::new(ErrorKind::Internal, format!("reading random bytes for a new ID: {e}")))?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !id.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

/// The 12-character form of an ID (or the whole string if it is shorter).
pub fn short_id(id: &str) -> &str {
    id.get(..SHORT_ID_LEN).unwrap_or(id)
}

/// True when `s` has the form of a full ID: 64 lowercase hex characters.
pub fn is_full_id(s: &str) -> bool {
    s.len() == ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True when `s` could be the start of an ID (non-empty lowercase hex, at most 64 chars).
pub fn is_id_prefix(s: &str) -> bool {
    !s.is_empty() && s.len() <= ID_LEN && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_are_full_distinct_and_not_numeric() {
        let a = new_id().unwrap();
        let b = new_id().unwrap();
        assert!(is_full_id(&a), "{a}");
        assert_ne!(a, b);
        assert!(!a.bytes().all(|c| c.is_ascii_digit()));
        assert_eq!(short_id(&a).len(), SHORT_ID_LEN);
        assert!(a.starts_with(short_id(&a)));
    }

    #[test]
    fn prefix_and_full_forms() {
        assert!(is_id_prefix("abc"));
        assert!(!is_id_prefix(""));
        assert!(!is_id_prefix("ABC"));
        assert!(!is_id_prefix("xyz"));
        assert!(!is_full_id("abc"));
        assert_eq!(short_id("abc"), "abc");
    }
}
