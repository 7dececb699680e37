//! Prints the start-up medians: `cargo test -p corral-oci --features bench
//! --test bench -- --ignored --nocapture`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn print_medians() {
    for runtime in ["crun", "runc"] {
        let report = corral_oci::bench::measure(runtime, 15).await.expect("measure");
        println!("{report}");
        assert!(report.create_start_wait > report.runtime_run / 10);
    }
}
