//! Object names: podman's rule `[a-zA-Z0-9][a-zA-Z0-9_.-]*`.

use crate::error::{DefineError, ErrorKind};

/// The pattern names must match, as podman prints it in its error.
pub const NAME_PATTERN: &str = "[a-zA-Z0-9][a-zA-Z0-9_.-]*";

/// Longest name accepted; longer names cannot be used in hostnames or paths.
pub const MAX_NAME_LEN: usize = 253;

/// Checks a container, pod or volume name against podman's rule.
pub fn validate_name(name: &str) -> Result<(), DefineError> {
    let mut bytes = name.bytes();
    let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !first_ok || !rest_ok {
        return Err(DefineError::new(
            ErrorKind::InvalidArg,
            format!("names must match {NAME_PATTERN}: {name:?}: invalid argument"),
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(DefineError::new(
            ErrorKind::InvalidArg,
            format!("name {name:?} is longer than {MAX_NAME_LEN} characters: invalid argument"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_and_rejects() {
        for ok in ["a", "web", "my_ctr.1-x", "0abc", "A"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "_a", ".a", "a b", "a/b", "ä", "a:b"] {
            let err = validate_name(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArg, "{bad}");
            assert!(err.to_string().contains(NAME_PATTERN));
        }
        assert!(validate_name(&"a".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    proptest! {
        #[test]
        fn valid_by_pattern(name in "[a-zA-Z0-9][a-zA-Z0-9_.-]{0,40}") {
            prop_assert!(validate_name(&name).is_ok());
        }

        #[test]
        fn invalid_start(name in "[_.-][a-zA-Z0-9_.-]{0,10}") {
            prop_assert!(validate_name(&name).is_err());
        }
    }
}
