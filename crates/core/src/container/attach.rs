//! `attach` to the main process of a running container, and `start_and_attach`
//! (podman's StartAndAttach): connect first, then start, so no output is lost.

use corral_attach::{AttachEnd, AttachOptions, AttachSocket, AttachStreams};
use corral_define::{ContainerStatus, ErrorKind, HasKind};

use super::Container;
use crate::error::Result;

impl Container {
    /// Attaches `streams` to the running (or created) container's main process
    /// through conmon's attach socket until its output ends or the user detaches.
    /// Stdin is connected only when the container keeps stdin open (`-i`).
    pub async fn attach(&self, streams: AttachStreams<'_>, options: AttachOptions) -> Result<AttachEnd> {
        let socket = {
            let (_guard, rec) = self.lock_and_sync().await?;
            if !matches!(rec.state.state, ContainerStatus::Created | ContainerStatus::Running) {
                return Err(self.invalid(format!(
                    "can only attach to created or running containers: it is {}",
                    rec.state.state
                )));
            }
            self.connect_attach_socket()?
        };
        self.event("attach");
        let streams = self.attachable_streams(streams);
        let options = self.attach_options(options);
        Ok(corral_attach::attach_connected(&socket, streams, options).await?)
    }

    /// Starts the container with `streams` attached, connected before the process
    /// starts so none of its output is lost, and waits for it to exit. Returns its
    /// exit code, or None when the user detached (the container keeps running).
    pub async fn start_and_attach(&self, streams: AttachStreams<'_>, options: AttachOptions) -> Result<Option<i32>> {
        self.start_dependencies().await?;
        let socket = {
            let (_guard, mut rec) = self.lock_and_sync().await?;
            let initialized_here = match rec.state.state {
                ContainerStatus::Created => false,
                ContainerStatus::Configured | ContainerStatus::Stopped | ContainerStatus::Exited => {
                    self.init_unlocked(&mut rec, false).await?;
                    true
                }
                _ => return Err(self.invalid("must be in Created or Stopped state to be started")),
            };
            // conmon made the socket when it created the container; the process
            // writes nothing before the runtime's start.
            let socket = self.connect_attach_socket()?;
            if initialized_here {
                // Skips start_unlocked's check for a start cut short (a runtime
                // `state` call, about 10 ms of every `run`).
                self.start_initialized_unlocked(&mut rec).await?;
            } else {
                self.start_unlocked(&mut rec, false).await?;
            }
            socket
        };
        self.event("attach");
        let streams = self.attachable_streams(streams);
        let options = self.attach_options(options);
        match corral_attach::attach_connected(&socket, streams, options).await? {
            AttachEnd::Detached => Ok(None),
            AttachEnd::OutputEnded | AttachEnd::StdinClosed => match self.wait().await {
                Ok(code) => Ok(Some(code)),
                // Removed (`--rm`) by the exit command before we looked: the exit
                // code is in the `died` event it recorded.
                Err(e) if e.kind() == ErrorKind::NoSuchContainer => self.recorded_exit_code().map(Some).ok_or(e),
                Err(e) => Err(e),
            },
        }
    }

    /// The exit code of this container's last `died` event.
    fn recorded_exit_code(&self) -> Option<i32> {
        let filters = [format!("container={}", self.id()), "event=died".to_string()];
        self.rt
            .events(&filters, None, None)
            .ok()?
            .into_iter()
            .rev()
            .find(|e| e.id == self.id())?
            .container_exit_code
            .into()
    }

    fn connect_attach_socket(&self) -> Result<AttachSocket> {
        let path = self.oci().attach_socket_path(&self.handle())?;
        Ok(AttachSocket::connect(&path)?)
    }

    /// The caller's streams, without stdin when the container's stdin is closed.
    fn attachable_streams<'a>(&self, mut streams: AttachStreams<'a>) -> AttachStreams<'a> {
        if !self.config.misc.stdin {
            streams.stdin = None;
        }
        streams
    }

    /// The caller's options with what the container decides: its terminal, and
    /// conmon's control FIFO for resizing it.
    fn attach_options(&self, mut options: AttachOptions) -> AttachOptions {
        options.tty = self.config.misc.terminal;
        if options.ctl_path.is_none() {
            options.ctl_path = Some(self.rt.bundle_dir(self.id()).join(corral_attach::conmon::CTL_FIFO_NAME));
        }
        options
    }
}
