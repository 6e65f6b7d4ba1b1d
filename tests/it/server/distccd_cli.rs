//! Issue 12: an existing distccd unit or conf.d line keeps working when the binary is
//! swapped: distccd's option spellings, its `--version`, its exit statuses (101 bad
//! arguments, 102 busy port), and `--allow x/0` needing `--allow-anyone`.

use std::process::{Command, Output, Stdio};

use crate::support::server::{bin, text};

fn serve(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("serve")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn distccd_spellings_run_the_server() {
    let dir = tempfile::tempdir().unwrap();
    crate::support::server::open_to_all(dir.path(), dir.path());
    let pid = dir.path().join("serve.pid");
    let port = crate::support::free_port().to_string();
    let o = Command::new(bin())
        .args([
            "serve",
            "--daemon",
            "--no-detach",
            "--verbose",
            "--log-stderr",
            "--user",
            "nobody",
            "--listen",
            "127.0.0.1",
            "--port",
            &port,
            "--allow",
            "127.0.0.1",
            "--lifetime",
            "1",
            "--pid-file",
            pid.to_str().unwrap(),
        ])
        .env("TMPDIR", dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("listening on 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(err.contains("confinement: user nobody"), "{err}");
    assert!(err.contains("--lifetime: no longer accepting"), "{err}");
}

#[test]
fn version_is_distccd_style() {
    let o = serve(&["--version"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("(protocols 1 and 2) (default port 3632)"),
        "{out}"
    );
}

#[test]
fn bad_arguments_exit_101_and_a_busy_port_102() {
    for (args, says) in [
        (&["--bogus"][..], "--bogus"),
        (
            &["--allow", "127.0.0.1", "--enable-tcp-insecure"][..],
            "never serves TCP without",
        ),
        (&["--allow", "10.1.2.3/0"][..], "host bits"),
        (&["--allow", "0.0.0.0/0"][..], "--allow-anyone"),
        (&["--allow", "::/0"][..], "--allow-anyone"),
        (
            &["--allow", "127.0.0.1", "--max-object", "lots"][..],
            "positive size",
        ),
        (
            &[
                "--allow",
                "127.0.0.1",
                "--listen",
                "127.0.0.1",
                "--port",
                "0",
                "--user",
                "no-such-user-here",
            ][..],
            "no such user",
        ),
    ] {
        let o = serve(args);
        assert_eq!(o.status.code(), Some(101), "{args:?}: {}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(says),
            "{args:?}: {}",
            text(&o)
        );
    }
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let o = serve(&[
        "--allow",
        "127.0.0.1",
        "--listen",
        "127.0.0.1",
        "--port",
        &port,
    ]);
    assert_eq!(o.status.code(), Some(102), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot listen"));
}
