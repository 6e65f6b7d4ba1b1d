//! Ports: the compile and stats ports must be free, and not taken by another unit
//! we or the distro wrote; and the warnings about names that may reach the wrong compiler.

use super::*;

/// `--port N` / `--stats-port N` in a service file we or the distro wrote.
pub(super) fn ports_in(text: &str) -> Vec<(String, u16)> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let (opt, val) = match w.split_once('=') {
            Some((o, v)) if o.starts_with("--") => (o, Some(v)),
            _ => (*w, words.get(i + 1).copied()),
        };
        if opt == "--port" || opt == "--stats-port" {
            if let Some(p) = val.and_then(|v| v.parse().ok()) {
                out.push((opt.to_string(), p));
            }
        }
    }
    out
}

/// The TCP ports something listens on, from the text of `/proc/net/tcp` or
/// `/proc/net/tcp6` (one socket a line after the header: `sl local_address rem_address st
/// ...`, the local address `HEXADDR:HEXPORT`, state `0A` for LISTEN). Lines that do not
/// parse are skipped. Planning reads these facts instead of binding ports to try them.
pub fn listening_ports(table: &str) -> BTreeSet<u16> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let local = fields.nth(1)?;
            let state = fields.nth(1)?;
            let (_, port) = local.rsplit_once(':')?;
            (state == "0A").then(|| u16::from_str_radix(port, 16).ok())?
        })
        .collect()
}

pub(super) fn check_ports(
    settings: &Settings,
    facts: &Facts,
    service: &Service,
    port: u16,
    stats_port: u16,
    (notes, warnings): (&mut Vec<String>, &mut Vec<String>),
    tc_name: &str,
) -> Result<(), Error> {
    let profile = &settings.profile;
    let root = &settings.root;
    let v = &profile.volunteer;
    let ours = [(port, "the compile port"), (stats_port, "the stats port")];
    let mut taken: Vec<(u16, String)> = vec![(
        v.stats_port,
        format!("distccd's default stats port {}", v.stats_port),
    )];
    if settings.server == ServerKind::Distccd {
        taken.push((
            v.port,
            format!("the system distccd ({}) port {}", v.service, v.port),
        ));
    }
    // Other services distsetup or the distro wrote in the service directory.
    let dir = root.path(&v.service_dir);
    let own_file = root.path(&service.file);
    if let Ok(rd) = std::fs::read_dir(&dir) {
        let mut files: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        files.sort();
        for f in files {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !(name.starts_with("distccd") || name.starts_with("distsetup-serve")) {
                continue;
            }
            let f = if f.is_dir() { f.join("run") } else { f };
            if f == own_file {
                continue;
            }
            if let Ok(text) = std::fs::read_to_string(&f) {
                for (_, p) in ports_in(&text) {
                    taken.push((p, f.display().to_string()));
                }
            }
        }
    }
    for (p, what) in ours {
        if let Some((_, other)) = taken.iter().find(|(t, _)| *t == p) {
            return Err(Error::PortClash {
                port: p,
                what: what.into(),
                other: other.clone(),
            });
        }
    }
    for k in profile.known_toolchains() {
        if k.port == port && k.name != tc_name {
            warnings.push(format!(
                "port {port} is the usual port of {} ({}): a volunteer running both needs another --port",
                k.name, k.description
            ));
        }
    }
    let Some(listening) = &facts.listening else {
        notes.push(format!(
            "ports {port} and {stats_port} were not checked against listening sockets: {}",
            if settings.root.dir() == Path::new("/") {
                "this machine's socket tables (/proc/net/tcp, /proc/net/tcp6) could not be read"
            } else {
                "under --root, this machine's sockets say nothing about the target system"
            }
        ));
        return Ok(());
    };
    // Our own service already configured with these ports may be what holds them now.
    let already: Vec<u16> = std::fs::read_to_string(&own_file)
        .map(|t| ports_in(&t).into_iter().map(|(_, p)| p).collect())
        .unwrap_or_default();
    for (p, what) in ours {
        if listening.contains(&p) && !already.contains(&p) {
            return Err(Error::PortTaken {
                port: p,
                what: what.into(),
            });
        }
    }
    Ok(())
}

/// The seeds' trap: plain `gcc`/`cc` whitelisted for the system distccd answers with the
/// native compiler, producing objects for the wrong machine.
pub(super) fn plain_name_warning(
    profile: &Profile,
    facts: &Facts,
    toolchain_machine: &str,
    local_machine: &str,
    service: &Service,
    port: u16,
    warnings: &mut Vec<String>,
) {
    let Some(native) = &facts.native_triple else {
        return;
    };
    let native_machine = toolchain::elf_machine_for_triple(native).unwrap_or("unknown");
    if native_machine == local_machine {
        return;
    }
    let v = &profile.volunteer;
    warnings.push(format!(
        "WRONG ARCHITECTURE TRAP: the system distccd ({service}, port {sys_port}) answers a plain `gcc`/`cc`/`g++` \
         request with this machine's native {native} compiler: a master building for {local_machine} that sends plain names gets \
         {native_machine} objects without any error. The fix: point the master at port {port} ({name}), whose PATH maps \
         gcc, g++, cc, c++, cpp → the {toolchain_machine} cross compiler; e.g. DISTCC_HOSTS=\"VOLUNTEER:{port}\" — and do not list \
         this volunteer on port {sys_port} for that master",
        service = v.service,
        sys_port = v.port,
        name = service.name,
    ));
}

pub(super) fn is_under_home(p: &Path) -> bool {
    p.starts_with("/home") || p.starts_with("/root")
}
