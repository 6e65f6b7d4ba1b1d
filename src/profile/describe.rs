//! Description: a human-readable account of everything a profile states.

use std::fmt::Write as _;
use std::path::Path;

use super::Profile;

// Writing to a String cannot fail: the `fmt::Result`s below are ignored on purpose.

fn path(p: &Path) -> String {
    p.display().to_string()
}

impl Profile {
    /// A human-readable account of everything the profile states.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{}: {}", self.name, self.description);
        let _ = writeln!(s, "  from: {}", self.origin.label(&self.name));
        self.describe_master(&mut s);
        self.describe_volunteer(&mut s);
        self.describe_toolchains(&mut s);
        s
    }

    /// The `master:` section: build-tool files, hosts file, masquerade dir, triples, jobs.
    fn describe_master(&self, s: &mut String) {
        let _ = writeln!(s, "master:");
        if let Some(m) = &self.client.makepkg {
            let _ = writeln!(
                s,
                "  makepkg: {}{}; {} gains `{}`; {}; {}",
                path(&m.config),
                m.dropin_dir
                    .as_ref()
                    .map(|d| format!(" (drop-ins in {})", path(d)))
                    .unwrap_or_default(),
                m.enable.variable,
                m.enable.word,
                m.hosts_variable,
                m.jobs_variable
            );
        }
        if let Some(pt) = &self.client.portage {
            let _ = writeln!(
                s,
                "  portage: {} (file or directory){}; {} gains `{}`; {}",
                path(&pt.config),
                pt.legacy_config
                    .as_ref()
                    .map(|l| format!(", also {}", path(l)))
                    .unwrap_or_default(),
                pt.enable.variable,
                pt.enable.word,
                pt.jobs_variable
            );
        }
        let _ = writeln!(s, "  hosts file: {}", path(&self.client.hosts_file));
        match &self.client.masquerade_dir {
            Some(d) if self.client.masquerade_shipped => {
                let _ = writeln!(s, "  masquerade dir: {}", path(d));
            }
            Some(d) => {
                let _ = writeln!(
                    s,
                    "  masquerade dir: {} (not shipped by the distro's distcc package)",
                    path(d)
                );
            }
            None => {}
        }
        let triples: Vec<String> = self
            .client
            .triples
            .iter()
            .map(|t| format!("{} ({})", t.triple, t.arch))
            .collect();
        let _ = writeln!(s, "  compiler triples: {}", triples.join(", "));
        let _ = writeln!(
            s,
            "  jobs: {} — {}",
            self.jobs.rule.summary(),
            self.jobs.source
        );
    }

    /// The `volunteer:` section: daemon config, ports, user, services, whitelist.
    fn describe_volunteer(&self, s: &mut String) {
        let v = &self.volunteer;
        let _ = writeln!(s, "volunteer:");
        let _ = writeln!(
            s,
            "  daemon config: {} ({}); port {}, stats port {}; user {}",
            path(&v.config),
            v.config_syntax.as_str(),
            v.port,
            v.stats_port,
            v.user
        );
        let _ = writeln!(
            s,
            "  service: {} via {} ({}); per toolchain: {} in {}",
            v.service,
            v.service_manager.as_str(),
            path(&v.service_file),
            v.toolchain_service,
            path(&v.service_dir)
        );
        let _ = writeln!(s, "  whitelist: {}", path(&v.whitelist_dir));
    }

    /// The `toolchains:` section: the merged catalog.
    fn describe_toolchains(&self, s: &mut String) {
        let _ = writeln!(s, "toolchains:");
        for t in &self.catalog {
            let serves = if t.serves.is_empty() {
                String::new()
            } else {
                format!(", serves {}", t.serves.join(", "))
            };
            let _ = writeln!(
                s,
                "  {}: {}{}; port {}; {}",
                t.name, t.triple, serves, t.port, t.description
            );
        }
    }
}
