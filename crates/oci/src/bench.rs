//! Start-up costs of containers and exec sessions through conmon, against
//! the runtime's own `run` on the same bundle (the floor), for
//! `cargo xtask bench oci`.

use std::fmt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use corral_define::ContainerState;

use crate::error::OciError;
use crate::handle::ExecOptions;
use crate::runtime::OciRuntime;
use crate::testutil::TestEnv;

/// Medians of `iterations` runs of each measurement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchReport {
    pub runtime: String,
    pub iterations: usize,
    /// create + start + exit file of `true` through conmon.
    pub create_start_wait: Duration,
    /// `runtime run` of `true` on the same kind of bundle.
    pub runtime_run: Duration,
    /// An attached exec of `true` in a running container, to its exit code.
    pub exec: Duration,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let rt = &self.runtime;
        writeln!(f, "oci bench ({rt}, median of {}):", self.iterations)?;
        let rows = [
            (format!("conmon+{rt} create+start+wait `true`"), self.create_start_wait),
            (format!("{rt} run `true` (floor)"), self.runtime_run),
            ("exec `true` (attached)".to_string(), self.exec),
        ];
        for (i, (label, took)) in rows.iter().enumerate() {
            let end = if i + 1 == rows.len() { "" } else { "\n" };
            write!(f, "  {label:<40} {:8.1} ms{end}", ms(*took))?;
        }
        Ok(())
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Measures the runtime called `runtime_name` (`crun`, `runc`).
pub async fn measure(runtime_name: &str, iterations: usize) -> Result<BenchReport, OciError> {
    let iterations = iterations.max(1);
    let mut env = TestEnv::new(runtime_name)?;
    let rt = env.runtime()?;

    let mut create_start_wait = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let ctr = env.container(&["true"])?;
        let mut state = ContainerState::default();
        let exit_file = rt.exit_file_path(&ctr)?;
        let began = Instant::now();
        rt.create_container(&ctr, &mut state, None).await?;
        rt.start_container(&ctr, &mut state).await?;
        let exit = crate::status::wait_for_exit_file(&exit_file, Duration::from_secs(60)).await?;
        create_start_wait.push(began.elapsed());
        if exit.map(|e| e.code) != Some(0) {
            return Err(OciError::Conmon(format!("`true` did not exit 0 in {}", ctr.id)));
        }
        rt.delete_container(&ctr).await?;
    }

    let mut runtime_run = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let ctr = env.container(&["true"])?;
        let mut cmd = tokio::process::Command::new(&rt.path);
        cmd.args(env.runtime_flags())
            .args(["run", "--bundle"])
            .arg(&ctr.bundle_dir)
            .arg(&ctr.id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let began = Instant::now();
        let out = cmd.output().await.map_err(|e| OciError::io("running", &rt.path, e))?;
        runtime_run.push(began.elapsed());
        if !out.status.success() {
            return Err(OciError::runtime_command(
                &rt.name,
                &String::from_utf8_lossy(&out.stderr),
            ));
        }
        env.remove(&ctr.id, &ctr.conmon_pid_file);
    }

    let ctr = env.container(&["sleep", "1000"])?;
    let mut state = ContainerState::default();
    rt.create_container(&ctr, &mut state, None).await?;
    rt.start_container(&ctr, &mut state).await?;
    let opts = ExecOptions {
        command: vec!["true".into()],
        ..Default::default()
    };
    let mut exec = Vec::with_capacity(iterations);
    for i in 0..iterations {
        let session_id = format!("bench-{i}");
        let began = Instant::now();
        let session = rt.exec_container(&ctr, &session_id, &opts, false, None).await?;
        let code = session.wait(Duration::from_secs(60)).await?;
        exec.push(began.elapsed());
        if code != 0 {
            return Err(OciError::Conmon(format!("exec `true` exited {code}")));
        }
        rt.exec_container_cleanup(&ctr, &session_id).await?;
    }
    rt.stop_container(&ctr, &state, 0, true).await?;

    Ok(BenchReport {
        runtime: runtime_name.to_string(),
        iterations,
        create_start_wait: median(create_start_wait),
        runtime_run: median(runtime_run),
        exec: median(exec),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_samples() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(5), ms(1), ms(3)]), ms(3));
        assert_eq!(median(vec![]), Duration::ZERO);
    }
}
