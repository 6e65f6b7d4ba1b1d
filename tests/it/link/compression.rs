//! Compression on the link: each codec forced through the real relay and `serve --tls`
//! gives the object a plain compile gives, and `top` shows the codec and why.

use super::relay::relay_over_tls_with;
use super::*;
use crate::relay::support::Relay;

/// Header-heavy enough that every payload shrinks (some 60 KiB preprocessed).
const SOURCE: &str = "#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n\
#include <unistd.h>\n#include <signal.h>\n\
int answer(const char *s) { return (int)strlen(s) + getpid() % 2 + SIGINT; }\n";

fn plain_object(dir: &Path) -> Vec<u8> {
    let o = Command::new("gcc")
        .args(["-c", "big.c", "-o", "plain.o"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    std::fs::read(dir.join("plain.o")).unwrap()
}

fn compile_with(codec: &str) -> (serde_json::Value, TlsVolunteer) {
    let vol = TlsVolunteer::start(&[]);
    let (_master, relay) = relay_over_tls_with(&vol, &["--link-compression", codec]);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "big.c", SOURCE);
    let o = distcc(
        &relay.hosts(2),
        &["gcc", "-c", "big.c", "-o", "big.o"],
        dir.path(),
        &[],
    );
    assert_compiled(&o, dir.path(), "big.o", &vol);
    let state = relay.settled_state();
    assert_eq!(
        Relay::host(&state, &vol.addr())["done"].as_u64(),
        Some(1),
        "not compiled on the volunteer ({codec}): {state:#}\nrelay: {}",
        relay.log_text()
    );
    assert_eq!(
        std::fs::read(dir.path().join("big.o")).unwrap(),
        plain_object(dir.path()),
        "{codec}: the object differs from a plain compile's"
    );
    if codec == "zstd" || codec == "lzo" {
        let top = Command::new(bin())
            .args([
                "top",
                "--relay",
                &format!("127.0.0.1:{}", relay.port),
                "--once",
            ])
            .output()
            .unwrap();
        let shown = String::from_utf8_lossy(&top.stdout).into_owned();
        let row = shown
            .lines()
            .find(|l| l.starts_with(&vol.addr()))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(row.contains(&format!(" tls+{codec} ")), "{shown}");
        assert!(
            shown.contains(&format!(
                "    compression {codec}: forced by --link-compression"
            )),
            "{shown}"
        );
    }
    (Relay::host(&state, &vol.addr()).clone(), vol)
}

#[test]
fn each_forced_codec_compiles_the_same_object_and_top_shows_it() {
    for (codec, transport) in [("zstd", "tls+zstd"), ("lzo", "tls+lzo"), ("none", "tls")] {
        let (host, _vol) = compile_with(codec);
        assert_eq!(host["transport"], transport, "{host:#}");
        let link = host["link"].as_str().unwrap_or_default();
        assert!(
            link.starts_with(&format!("{codec}: forced by --link-compression")),
            "{host:#}"
        );
        // What went over the link compressed, and how small (none: nothing).
        let sent = link.split_once("; sent ").map(|(_, s)| s.to_owned());
        if codec == "none" {
            assert_eq!(sent, None, "{host:#}");
        } else {
            let sent = sent.unwrap_or_else(|| panic!("nothing compressed: {host:#}"));
            let n: Vec<u64> = sent.split(' ').filter_map(|w| w.parse().ok()).collect();
            assert!(n.len() == 2 && n[1] * 2 < n[0], "{host:#}");
        }
    }
}

#[test]
fn auto_measures_the_master_and_says_why() {
    let (host, _vol) = compile_with("auto");
    let link = host["link"].as_str().unwrap_or_default();
    // One job sampled both codecs on this master; the loopback link is either not
    // measured yet (a small reply) or fast: nothing is worth compressing.
    assert!(link.starts_with("none: "), "{host:#}");
    // Both codecs were timed on this master's first bytes, and the numbers are shown.
    for codec in ["lzo", "zstd"] {
        let shown = link
            .split(", ")
            .any(|part| part.starts_with(&format!("{codec} ")) && part.contains(" MB/s ×"));
        assert!(shown, "{codec} not measured: {host:#}");
    }
    assert_eq!(host["transport"], "tls", "{host:#}");
}
