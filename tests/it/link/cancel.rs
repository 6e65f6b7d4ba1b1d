//! Cancellation: when the master drops a job's stream (the relay's hedging cancels the
//! loser), `serve --tls` kills the running compile at once, not when it would have ended.

use tokio::io::AsyncWriteExt as _;

use super::refusals::paired;
use super::*;
use crate::support::server::{process_with_arg, request, wait_until};

/// A compiler that sleeps (for `marker` seconds, a number no other process has) before
/// it compiles.
fn sleeping_toolchain(dir: &Path, marker: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let tc = dir.join("toolchain");
    std::fs::create_dir(&tc).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&tc, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cc = write(
        &tc,
        "sleepy-linux-gnu-gcc",
        &format!("#!/bin/sh\nsleep {marker}\nexec gcc \"$@\"\n"),
    );
    std::fs::set_permissions(&cc, std::fs::Permissions::from_mode(0o755)).unwrap();
    tc
}

#[test]
fn a_dropped_stream_kills_the_running_compile_and_the_next_job_compiles() {
    let work = tempfile::tempdir().unwrap();
    let marker = "127.625";
    let tc = sleeping_toolchain(work.path(), marker);
    let mut p = paired(&["--toolchain", tc.to_str().unwrap()]);
    let link = p.master.link_to(&p.vol.addr());
    let req = request(
        2,
        &["sleepy-linux-gnu-gcc", "-c", "t.c", "-o", "t.o"],
        "int x;\n",
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut job = rt.block_on(async {
        let mut job = link.open_stream().await.unwrap();
        job.write_all(&req).await.unwrap();
        job.flush().await.unwrap();
        job
    });
    wait_until("the compile to start", Duration::from_secs(20), || {
        process_with_arg(marker)
    });
    // The master gives up on the job: the stream is dropped (RESET), the link stays.
    rt.block_on(async {
        job.flush().await.unwrap();
        drop(job);
        tokio::time::sleep(Duration::from_millis(10)).await;
    });
    wait_until(
        "the sleeping compiler to die",
        Duration::from_secs(20),
        || !process_with_arg(marker),
    );
    let log = p.vol.wait_log("cancelled by the master");
    assert!(
        log.contains("client: 127.0.0.1") && log.contains("cancelled by the master"),
        "{log}"
    );
    p.assert_healthy();
}
