//! `cargo xtask bench oci`: container and exec start-up through conmon, for
//! crun and runc, against each runtime's own `run` on the same bundle.

use anyhow::Result;

const ITERATIONS: usize = 15;

pub fn run() -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    for name in ["crun", "runc"] {
        let report = runtime.block_on(corral_oci::bench::measure(name, ITERATIONS))?;
        println!("{report}");
        let floor = report.runtime_run.as_secs_f64();
        if floor > 0.0 {
            println!(
                "  ratio to the floor: create+start+wait {:.1}x, exec {:.1}x",
                report.create_start_wait.as_secs_f64() / floor,
                report.exec.as_secs_f64() / floor
            );
        }
    }
    Ok(())
}
