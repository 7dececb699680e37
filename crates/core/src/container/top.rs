//! `top`: the processes of a running container, as `ps` inside it lists them.

use corral_attach::{AttachOptions, AttachStreams};

use super::Container;
use super::exec::ExecRequest;
use crate::error::{CoreError, Result};

impl Container {
    /// Runs `ps` with `args` in the running container and returns its output
    /// lines, the header first (podman's fallback when its descriptors do not
    /// apply). A failing `ps` is an error carrying what it printed.
    pub async fn top(&self, args: &[String]) -> Result<Vec<String>> {
        let request = ExecRequest {
            command: std::iter::once("ps".to_string()).chain(args.iter().cloned()).collect(),
            ..Default::default()
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let streams = AttachStreams::new().stdout(&mut out).stderr(&mut err);
        let code = self.exec(&request, streams, AttachOptions::default()).await?;
        if code != 0 {
            return Err(CoreError::InvalidArg(format!(
                "ps in container {} failed with exit code {code}: {}",
                self.id(),
                String::from_utf8_lossy(&err).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out).lines().map(str::to_string).collect())
    }
}
