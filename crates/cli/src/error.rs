//! Errors of the command line, what podman prints for a failure, and the
//! exit code it gives it.

use corral_define::{ErrorKind, HasKind};

use crate::format::FormatError;

/// podman's exit code for a failure of the engine or of the command line.
pub const ENGINE_ERROR: i32 = 125;

/// A mistake on the command line, or a failure podman reports in its own way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// Wrong arguments or flags (`unknown flag: --bogus`): exit code 125.
    #[error("{0}")]
    Usage(String),
    /// No command given (`missing command 'corral COMMAND'`).
    #[error("missing command '{0} COMMAND'")]
    MissingCommand(String),
    /// Printed as it is, without `Error: `, with its own exit code
    /// (podman exits 1 on a bad `--log-level`).
    #[error("{message}")]
    Exit { code: i32, message: String },
}

impl HasKind for CliError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArg
    }
}

/// The kind of one error of the chain, when it is one of corral's.
///
/// Every crate's error type that carries a kind is listed here; a crate
/// that adds one adds it to the list.
pub fn error_kind(cause: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    macro_rules! kind_of {
        ($($error:ty),* $(,)?) => {
            $(
                if let Some(error) = cause.downcast_ref::<$error>() {
                    return Some(HasKind::kind(error));
                }
            )*
        };
    }
    kind_of!(
        corral_define::DefineError,
        corral_lock::LockError,
        corral_attach::AttachError,
        corral_core::CoreError,
        corral_state::StateError,
        corral_storage::StorageError,
        corral_oci::OciError,
        FormatError,
        CliError,
    );
    None
}

/// The exit code podman gives `err`: the code of the first error in the
/// chain that has a kind (126 when the OCI runtime could not run the
/// command, 127 when it was not found), 125 otherwise.
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(CliError::Exit { code, .. }) = cause.downcast_ref::<CliError>() {
            return *code;
        }
        if let Some(kind) = error_kind(cause) {
            return kind.exit_code();
        }
    }
    ENGINE_ERROR
}

/// What podman prints on stderr for `err`: `Error: ` and the whole chain
/// (`outer: inner`); an OCI runtime failure is reworded
/// `Error: OCI runtime error: <reason>` as podman does.
pub fn error_text(err: &anyhow::Error) -> String {
    if let Some(CliError::Exit { message, .. }) = err.downcast_ref::<CliError>() {
        return message.clone();
    }
    let message = format!("{err:#}");
    let oci = ErrorKind::OciRuntime;
    if err.chain().any(|cause| error_kind(cause) == Some(oci)) {
        let suffix = format!(": {}", oci.text());
        let reason = message.strip_suffix(&suffix).unwrap_or(&message);
        return format!("Error: {}: {reason}", oci.text());
    }
    format!("Error: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;
    use corral_define::DefineError;

    #[test]
    fn exit_codes_follow_the_kind_anywhere_in_the_chain() {
        let plain = anyhow::anyhow!("something broke");
        assert_eq!(exit_code_for(&plain), 125);

        let denied = anyhow::Error::new(DefineError::new(ErrorKind::PermissionDenied, "exec failed"));
        assert_eq!(exit_code_for(&denied), 126);

        let not_found: anyhow::Result<()> = Err(DefineError::new(ErrorKind::CommandNotFound, "no such file").into());
        let wrapped = not_found.context("starting container web").unwrap_err();
        assert_eq!(exit_code_for(&wrapped), 127);

        let lock = anyhow::Error::new(corral_lock::LockError::NoSuchLock { id: 3 });
        assert_eq!(exit_code_for(&lock), 125);

        let log_level = anyhow::Error::new(CliError::Exit {
            code: 1,
            message: "bad level".into(),
        });
        assert_eq!(exit_code_for(&log_level), 1);
    }

    #[test]
    fn texts_carry_the_whole_chain() {
        let missing: anyhow::Result<()> = Err(DefineError::with_context(
            ErrorKind::NoSuchContainer,
            "no container with name or ID \"x\" found",
        )
        .into());
        let err = missing.context("inspecting object").unwrap_err();
        assert_eq!(
            error_text(&err),
            "Error: inspecting object: no container with name or ID \"x\" found: no such container"
        );
        let exit = anyhow::Error::new(CliError::Exit {
            code: 1,
            message: "as is".into(),
        });
        assert_eq!(error_text(&exit), "as is");
    }

    #[test]
    fn oci_runtime_errors_put_the_kind_first() {
        let err = anyhow::Error::new(DefineError::with_context(
            ErrorKind::OciRuntime,
            "crun: executable file `nope` not found",
        ));
        assert_eq!(
            error_text(&err),
            "Error: OCI runtime error: crun: executable file `nope` not found"
        );
    }
}
