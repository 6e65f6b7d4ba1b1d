//! Real Meson and CMake projects built through serve with the distcc client's default
//! settings (only DISTCC_HOSTS and a private state directory): their configure checks
//! must get distccd's answers, so the client never backs serve off, and every unit of
//! the build compiles on serve (issue 21: Meson sent 0 of 34 units to the old serve).

use std::path::Path;
use std::process::{Command, Output};

use crate::support::require;
use crate::support::server::*;

const UNITS: usize = 12;

fn sources(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..UNITS {
        let name = format!("unit{i}.c");
        write(
            dir,
            &name,
            &format!(
                "#include <stdio.h>\n#include \"config.h\"\n\
                 int unit{i}(int x) {{ return x * {i} + (int)sizeof(long); }}\n"
            ),
        );
        names.push(name);
    }
    let decls: String = (0..UNITS).map(|i| format!("int unit{i}(int);\n")).collect();
    let calls: String = (0..UNITS).map(|i| format!("s += unit{i}(s);\n")).collect();
    write(
        dir,
        "main.c",
        &format!(
            "#include <stdio.h>\n{decls}int main(void) {{ int s = 1;\n{calls}printf(\"%d\\n\", s); return 0; }}\n"
        ),
    );
    names.push("main.c".into());
    names
}

/// The client's defaults: no fallback or retry settings, only where the hosts are and a
/// state directory of the test's own (backoff files land there).
fn distcc_env(cmd: &mut Command, server: &Server, state: &Path) {
    cmd.env("DISTCC_HOSTS", server.hosts(""))
        .env("DISTCC_DIR", state)
        .env_remove("DISTCC_FALLBACK")
        .env_remove("DISTCC_SKIP_LOCAL_RETRY")
        .env_remove("DISTCC_BACKOFF_PERIOD");
}

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{cmd:?}: {}", text(&o));
    o
}

/// Every unit appears as a successful remote compile in serve's log.
fn every_unit_compiled_on_serve(server: &Server, units: &[String], what: &str) {
    let jobs = server.remote_jobs_at_least(units.len());
    for u in units {
        let here = jobs.iter().any(|l| {
            l.contains("COMPILE_OK")
                && (l.contains(&format!(" {u} (remote")) || l.contains(&format!("/{u} (remote")))
        });
        assert!(
            here,
            "{what}: {u} was not compiled on serve:\n{}",
            server.log_text()
        );
    }
    eprintln!(
        "{what}: {} of {} units compiled on serve",
        units.len(),
        units.len()
    );
}

#[test]
fn a_meson_project_compiles_every_unit_on_serve_with_the_clients_defaults() {
    if !require("meson and ninja", which("meson") && which("ninja")) {
        return;
    }
    let server = Server::start(&["--jobs", "4"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let units = sources(w);
    let list: Vec<String> = units.iter().map(|u| format!("'{u}'")).collect();
    write(
        w,
        "meson.build",
        &format!(
            "project('p', 'c')\ncc = meson.get_compiler('c')\n\
             conf = configuration_data()\n\
             conf.set('HAVE_SHADOW', cc.has_argument('-Wshadow'))\n\
             conf.set('HAVE_PRINTF', cc.has_function('printf', prefix: '#include <stdio.h>'))\n\
             conf.set('SIZEOF_LONG', cc.sizeof('long'))\n\
             conf.set('COMPILES', cc.compiles('int x;', name: 'a plain compile'))\n\
             conf.set('HAS_HEADER', cc.has_header('stdio.h'))\n\
             configure_file(output: 'config.h', configuration: conf)\n\
             executable('app', [{}])\n",
            list.join(", ")
        ),
    );
    let state = w.join(".distcc-state");
    std::fs::create_dir(&state).unwrap();
    let mut setup = Command::new("meson");
    setup
        .args(["setup", "build"])
        .current_dir(w)
        .env("CC", "distcc gcc");
    distcc_env(&mut setup, &server, &state);
    run(&mut setup);
    let mut ninja = Command::new("ninja");
    ninja.args(["-C", "build"]).current_dir(w);
    distcc_env(&mut ninja, &server, &state);
    run(&mut ninja);
    let app = Command::new(w.join("build/app")).output().unwrap();
    assert!(app.status.success());
    every_unit_compiled_on_serve(&server, &units, "meson");
}

#[test]
fn a_cmake_project_compiles_every_unit_on_serve_with_the_clients_defaults() {
    if !require("cmake and make", which("cmake") && which("make")) {
        return;
    }
    let server = Server::start(&["--jobs", "4"]);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let units = sources(w);
    write(w, "config.h.in", "#cmakedefine HAVE_STDIO_H 1\n");
    write(
        w,
        "CMakeLists.txt",
        &format!(
            "cmake_minimum_required(VERSION 3.13)\nproject(p C)\n\
             include(CheckIncludeFile)\ninclude(CheckCCompilerFlag)\n\
             check_include_file(stdio.h HAVE_STDIO_H)\n\
             check_c_compiler_flag(-Wshadow HAVE_WSHADOW)\n\
             configure_file(config.h.in config.h)\n\
             include_directories(${{CMAKE_CURRENT_BINARY_DIR}})\n\
             add_executable(app {})\n",
            units.join(" ")
        ),
    );
    let state = w.join(".distcc-state");
    std::fs::create_dir(&state).unwrap();
    let mut configure = Command::new("cmake");
    configure
        .args([
            "-S",
            ".",
            "-B",
            "build",
            "-DCMAKE_C_COMPILER_LAUNCHER=distcc",
        ])
        .current_dir(w);
    distcc_env(&mut configure, &server, &state);
    run(&mut configure);
    let mut build = Command::new("cmake");
    build.args(["--build", "build", "--", "-j4"]).current_dir(w);
    distcc_env(&mut build, &server, &state);
    run(&mut build);
    let app = Command::new(w.join("build/app")).output().unwrap();
    assert!(app.status.success());
    every_unit_compiled_on_serve(&server, &units, "cmake");
}

fn which(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}
