//! A real multi-file C code base (the Lua 5.4 sources from the `lua-src` crate) built
//! with `make -j4 CC="distcc gcc"` against `distsetup serve`, no local fallback: every
//! unit must show up as a remote job in the server log.

use std::path::Path;
use std::process::Command;

use crate::support::server::*;

fn build(server: &Server, opts: &str, work: &Path) {
    let lua = lua_sources();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/server/lua");
    for f in ["Makefile", "probe.c"] {
        std::fs::copy(fixture.join(f), work.join(f)).unwrap();
    }
    let state = work.join(".distcc-state");
    std::fs::create_dir_all(&state).unwrap();
    let o = Command::new("make")
        .args(["-j4", "CC=distcc gcc"])
        .arg(format!("LUA_DIR={}", lua.display()))
        .current_dir(work)
        .env("DISTCC_HOSTS", server.hosts(&format!("/4{opts}")))
        .env("DISTCC_DIR", &state)
        .env("DISTCC_FALLBACK", "0")
        .env("DISTCC_SKIP_LOCAL_RETRY", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let run = Command::new(work.join("probe")).output().unwrap();
    assert!(run.status.success(), "{}", text(&run));
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "lua says 10 squares, sum 385\n"
    );
}

#[test]
fn lua_builds_entirely_on_the_server_over_protocol_1_and_lzo() {
    let lua = lua_sources();
    let units: Vec<String> = std::fs::read_dir(&lua)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".c") && !["lua.c", "luac.c", "onelua.c"].contains(&n.as_str()))
        .collect();
    assert!(units.len() > 25, "{units:?}");
    let server = Server::start(&["--jobs", "4"]);
    for (round, opts) in ["", ",lzo"].iter().enumerate() {
        let work = tempfile::tempdir().unwrap();
        build(&server, opts, work.path());
        let jobs = server.remote_jobs();
        let this_round: Vec<&String> = jobs
            .iter()
            .filter(|l| l.contains(&format!("(remote, protocol {})", round + 1)))
            .collect();
        assert_eq!(this_round.len(), units.len() + 1, "{this_round:#?}");
        assert!(this_round.iter().all(|l| l.contains("COMPILE_OK")));
        for u in units.iter().chain(std::iter::once(&"probe.c".to_string())) {
            assert!(
                this_round
                    .iter()
                    .any(|l| l.ends_with(&format!("{u} (remote, protocol {})", round + 1))),
                "{u} not compiled remotely"
            );
        }
    }
    assert!(server.tmp_leftovers().is_empty());
}
