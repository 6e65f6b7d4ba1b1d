//! Validation: every value of a parsed profile is checked; errors name the file, the
//! dotted key and the problem.

use std::collections::BTreeMap;
use std::path::Path;

use super::loader::valid_name;
use super::{Client, ConfigSyntax, Error, KnownToolchain, Origin, Profile, Volunteer};

struct Check<'a> {
    origin: &'a str,
}

impl Check<'_> {
    fn fail(&self, key: impl Into<String>, problem: impl Into<String>) -> Error {
        Error::Invalid {
            origin: self.origin.to_owned(),
            key: key.into(),
            problem: problem.into(),
        }
    }

    fn absolute(&self, key: &str, path: &Path) -> Result<(), Error> {
        if path.is_absolute() {
            Ok(())
        } else {
            Err(self.fail(key, format!("`{}` is not an absolute path", path.display())))
        }
    }

    fn port(&self, key: &str, port: u16) -> Result<(), Error> {
        if port == 0 {
            Err(self.fail(key, "port 0 is not allowed (use 1-65535)"))
        } else {
            Ok(())
        }
    }

    fn triple(&self, key: &str, triple: &str) -> Result<(), Error> {
        crate::triple::check_triple(triple).map_err(|why| {
            self.fail(
                key,
                format!("`{triple}` is not a target triple: {why} (expected ARCH-VENDOR-OS[-ABI], e.g. x86_64-pc-linux-gnu)"),
            )
        })
    }

    fn word(&self, key: &str, value: &str) -> Result<(), Error> {
        let ok = !value.is_empty()
            && value
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if ok {
            Ok(())
        } else {
            Err(self.fail(key, format!("`{value}` is not a shell variable name")))
        }
    }
}

/// Check every value of `p`; `origin` names it in errors, `expected_name` is the file
/// stem a user profile's `name` must match.
pub(super) fn validate(p: &Profile, origin: &str, expected_name: &str) -> Result<(), Error> {
    let c = Check { origin };
    check_identity(&c, p, expected_name)?;
    check_client(&c, &p.client)?;
    if p.jobs.source.trim().is_empty() {
        return Err(c.fail("jobs.source", "must cite the guide the rule follows"));
    }
    check_volunteer(&c, &p.volunteer)?;
    check_toolchains(&c, p)
}

/// `name` and `description`.
fn check_identity(c: &Check<'_>, p: &Profile, expected_name: &str) -> Result<(), Error> {
    if !valid_name(&p.name) {
        return Err(c.fail(
            "name",
            format!(
                "`{}` is not a valid profile name (lowercase letters, digits, - and _)",
                p.name
            ),
        ));
    }
    if matches!(p.origin, Origin::UserConfig(_)) && p.name != expected_name {
        return Err(c.fail(
            "name",
            format!(
                "`{}` does not match the file name `{expected_name}.toml`",
                p.name
            ),
        ));
    }
    if p.description.trim().is_empty() || p.description.contains('\n') {
        return Err(c.fail("description", "must be one non-empty line"));
    }
    Ok(())
}

/// The `[client]` table: paths, variable names, triples.
fn check_client(c: &Check<'_>, client: &Client) -> Result<(), Error> {
    c.absolute("client.hosts-file", &client.hosts_file)?;
    if let Some(m) = &client.masquerade_dir {
        c.absolute("client.masquerade-dir", m)?;
    }
    if let Some(m) = &client.makepkg {
        c.absolute("client.makepkg.config", &m.config)?;
        if let Some(d) = &m.dropin_dir {
            c.absolute("client.makepkg.dropin-dir", d)?;
        }
        c.word("client.makepkg.enable.variable", &m.enable.variable)?;
        c.word("client.makepkg.hosts-variable", &m.hosts_variable)?;
        c.word("client.makepkg.jobs-variable", &m.jobs_variable)?;
    }
    if let Some(pt) = &client.portage {
        c.absolute("client.portage.config", &pt.config)?;
        if let Some(l) = &pt.legacy_config {
            c.absolute("client.portage.legacy-config", l)?;
        }
        c.word("client.portage.enable.variable", &pt.enable.variable)?;
        c.word("client.portage.jobs-variable", &pt.jobs_variable)?;
    }
    if client.triples.is_empty() {
        return Err(c.fail("client.triples", "lists no triple"));
    }
    for (i, t) in client.triples.iter().enumerate() {
        c.triple(&format!("client.triples[{i}].triple"), &t.triple)?;
    }
    Ok(())
}

/// The `[volunteer]` table: paths, ports, variable names, service templates.
fn check_volunteer(c: &Check<'_>, v: &Volunteer) -> Result<(), Error> {
    c.absolute("volunteer.whitelist-dir", &v.whitelist_dir)?;
    c.port("volunteer.port", v.port)?;
    c.port("volunteer.stats-port", v.stats_port)?;
    if v.port == v.stats_port {
        return Err(c.fail(
            "volunteer.stats-port",
            format!("port {} is also volunteer.port", v.port),
        ));
    }
    c.absolute("volunteer.config", &v.config)?;
    c.absolute("volunteer.service-file", &v.service_file)?;
    c.absolute("volunteer.service-dir", &v.service_dir)?;
    c.absolute("volunteer.toolchain-config", &v.toolchain_config)?;
    for (key, var) in [
        ("volunteer.args-variable", &v.args_variable),
        ("volunteer.allow-variable", &v.allow_variable),
        ("volunteer.jobs-variable", &v.jobs_variable),
    ] {
        if let Some(var) = var {
            c.word(key, var)?;
        }
    }
    if v.args_variable.is_none()
        && v.allow_variable.is_none()
        && v.config_syntax != ConfigSyntax::Lines
    {
        return Err(c.fail(
            "volunteer",
            "needs args-variable or allow-variable to say where --allow goes",
        ));
    }
    if !v.toolchain_service.contains("{suffix}") {
        return Err(c.fail("volunteer.toolchain-service", "must contain `{suffix}`"));
    }
    for (i, d) in v.toolchain_dirs.iter().enumerate() {
        c.absolute(&format!("volunteer.toolchain-dirs[{i}]"), d)?;
    }
    Ok(())
}

/// The profile's own `[[toolchains]]`, then port clashes across the merged catalog.
fn check_toolchains(c: &Check<'_>, p: &Profile) -> Result<(), Error> {
    for (i, t) in p.toolchains.iter().enumerate() {
        check_toolchain(c, &format!("toolchains[{i}]"), t)?;
    }
    let mut ports: BTreeMap<u16, &str> = BTreeMap::new();
    for t in &p.catalog {
        if let Some(other) = ports.insert(t.port, &t.name) {
            return Err(c.fail(
                format!("toolchains.{}.port", t.name),
                format!("port {} is also used by toolchain `{other}`", t.port),
            ));
        }
    }
    Ok(())
}

fn check_toolchain(c: &Check<'_>, key: &str, t: &KnownToolchain) -> Result<(), Error> {
    if !valid_name(&t.name) {
        return Err(c.fail(
            format!("{key}.name"),
            format!("`{}` is not a valid toolchain name", t.name),
        ));
    }
    c.triple(&format!("{key}.triple"), &t.triple)?;
    for (j, s) in t.serves.iter().enumerate() {
        c.triple(&format!("{key}.serves[{j}]"), s)?;
    }
    c.port(&format!("{key}.port"), t.port)?;
    if !valid_name(&t.unit_suffix) {
        return Err(c.fail(
            format!("{key}.unit-suffix"),
            format!("`{}` cannot be part of a service name", t.unit_suffix),
        ));
    }
    Ok(())
}
