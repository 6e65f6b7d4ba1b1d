//! `distsetup trust`: pin the keys of the secure link. The trust stores are written
//! through the plan (diff, `--dry-run`, `--check`, journal, `undo`); the key pair is made
//! once and kept outside the journal (an identity others pinned survives an undo).

use std::path::Path;
use std::sync::Arc;

use distsetup::link::trust::{IDENTITY_KEY, StoreKind, TRUSTED_VOLUNTEERS, TrustStore};
use distsetup::link::{Fingerprint, Identity, LinkClient, LinkTarget};
use distsetup::plan::{Mode, Plan, SysRoot};

use super::{CommandError, ExitStatus, Ui, apply};
use crate::cli::{TrustAction, TrustAddArgs, TrustArgs, TrustRemoveArgs};

/// Who owns the key file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOwner {
    /// root (a master: its relay reads the key).
    Root,
    /// The compile server's user (a volunteer: `serve --tls` reads it after giving up root).
    ServiceUser,
}

/// This machine's identity under `root`: read it, or make it when `create` (and say so
/// in `made`). `Ok(None)` when there is none and none may be made.
pub fn identity(
    root: &SysRoot,
    owner: KeyOwner,
    create: bool,
) -> anyhow::Result<Option<(Identity, bool)>> {
    let path = Path::new(IDENTITY_KEY);
    let real = root.path(path);
    if let Some(id) = Identity::load(&real)? {
        return Ok(Some((id, false)));
    }
    if !create {
        return Ok(None);
    }
    let id = Identity::generate()?;
    let uid_gid = match owner {
        KeyOwner::Root => None,
        // Under --root the test tree's users are not this system's: keep the caller's.
        KeyOwner::ServiceUser if root.dir() != Path::new("/") => None,
        KeyOwner::ServiceUser => {
            distsetup::server::confine::lookup_user(&distsetup::server::confine::default_user())
        }
    };
    if !distsetup::plan::create_secret(root, path, id.to_pem().as_bytes(), uid_gid)? {
        // Someone made it meanwhile: theirs is the identity.
        return Ok(Identity::load(&real)?.map(|id| (id, false)));
    }
    Ok(Some((id, true)))
}

/// Print this machine's fingerprint, made now or before.
pub fn print_identity(id: &Identity, made: bool, ui: &mut Ui) -> anyhow::Result<()> {
    let how = if made { "new key pair in" } else { "key in" };
    writeln!(
        ui.out,
        "this machine's fingerprint: {} ({how} {IDENTITY_KEY})",
        id.fingerprint()
    )?;
    Ok(())
}

/// This machine's fingerprint and, on a master (`whom`), the command that pins it there.
fn tell_the_volunteers(
    id: Option<&(Identity, bool)>,
    whom: Option<&str>,
    ui: &mut Ui,
) -> anyhow::Result<()> {
    let Some((id, made)) = id else {
        writeln!(
            ui.out,
            "this machine has no key pair yet: it is made when the change is applied"
        )?;
        return Ok(());
    };
    print_identity(id, *made, ui)?;
    if let Some(whom) = whom {
        writeln!(
            ui.out,
            "{whom}, run: distsetup trust add --master {}",
            id.fingerprint()
        )?;
    }
    Ok(())
}

fn fingerprint(text: &str) -> anyhow::Result<Fingerprint> {
    text.parse::<Fingerprint>()
        .map_err(|e| CommandError::BadArgument(e.to_string()).into())
}

/// Plan writing `store` to its file (nothing when unchanged).
pub fn plan_store(plan: &mut Plan, store: &TrustStore, kind: StoreKind) -> anyhow::Result<()> {
    let path = kind.path();
    if let Some(dir) = path.parent() {
        plan.create_dir_all(dir)?;
    }
    plan.write_file_mode(path, store.render().into_bytes(), Some(0o644))?;
    Ok(())
}

/// The store of `kind` under `root`.
pub fn read_store(root: &SysRoot, kind: StoreKind) -> anyhow::Result<TrustStore> {
    Ok(TrustStore::read(kind, &root.path(kind.path()))?)
}

/// The relay's link to the `,tls` volunteer `host:port`, showing this master's key (made
/// on first use) and accepting the keys pinned for that host, read again on every
/// handshake (a `trust remove` needs no restart).
pub fn link_client(root: &SysRoot, host: &str, port: u16) -> anyhow::Result<LinkClient> {
    let addr = format!("{host}:{port}");
    let file = root.path(StoreKind::Volunteers.path());
    if read_store(root, StoreKind::Volunteers)?
        .pins_for(&addr)
        .is_empty()
    {
        return Err(CommandError::BadArgument(format!(
            "--hosts: {addr},tls: no key is pinned for {host} in {TRUSTED_VOLUNTEERS}; run \
             `distsetup trust add {addr} FINGERPRINT` with the fingerprint the volunteer printed"
        ))
        .into());
    }
    // Under systemd's DynamicUser the key comes as a credential (master --relay's unit).
    let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|d| Path::new(&d).join("identity.key"))
        .filter(|p| p.is_file());
    let id = match credential {
        Some(p) => Identity::load(&p)?,
        None => identity(root, KeyOwner::Root, true)?.map(|(id, _)| id),
    };
    let Some(id) = id else {
        anyhow::bail!("no key pair could be made under {}", root.dir().display());
    };
    let pins = move |fp: &Fingerprint| {
        let pinned = TrustStore::read(StoreKind::Volunteers, &file)
            .map_err(|e| e.to_string())?
            .pins_for(&addr);
        if pinned.contains(fp) {
            Ok(())
        } else {
            Err(format!(
                "volunteer key {fp} is not the one pinned for {addr} in {TRUSTED_VOLUNTEERS}"
            ))
        }
    };
    let target = LinkTarget {
        addr: format!("{host}:{port}"),
    };
    Ok(LinkClient::new(target, &id, Arc::new(pins))?)
}

/// `master --relay --trust`: pin each `,tls` volunteer's key in the same change set as
/// the master's files, then print this master's fingerprint for the volunteers to pin.
pub fn configure_pinned(
    settings: &distsetup::master::Settings,
    facts: &distsetup::master::Facts,
    trust: &[String],
    ui: &mut Ui,
) -> anyhow::Result<distsetup::plan::Outcome> {
    let pins = relay_pins(settings.hosts.as_deref().unwrap_or_default(), trust)?;
    let root = &settings.root;
    apply::recover_first(root, settings.mode, ui)?;
    let id = identity(
        root,
        KeyOwner::Root,
        matches!(settings.mode, Mode::Yes | Mode::Ask),
    )?;
    let mut report = distsetup::master::plan(settings, facts)?;
    let mut store = read_store(root, StoreKind::Volunteers)?;
    for (host, fp) in &pins {
        store.add(host, *fp);
    }
    plan_store(&mut report.plan, &store, StoreKind::Volunteers)?;
    let outcome = super::master::configure_with(settings, report, ui)?;
    tell_the_volunteers(id.as_ref(), Some("on each volunteer"), ui)?;
    Ok(outcome)
}

/// `--trust` values against the `,tls` hosts of `hosts`: `FP` for the only one, or
/// `HOST:PORT=FP` each. Returns (HOST:PORT, key) pairs.
fn relay_pins(hosts: &str, trust: &[String]) -> anyhow::Result<Vec<(String, Fingerprint)>> {
    use distsetup::hostspec::{self, Transport};
    let list = hostspec::parse(hosts)?;
    let tls: Vec<String> = list
        .hosts()
        .filter(|h| h.options.tls)
        .filter_map(|h| match &h.transport {
            Transport::Tcp { host, .. } => Some(format!(
                "{host}:{}",
                h.effective_port().unwrap_or(hostspec::DEFAULT_PORT)
            )),
            _ => None,
        })
        .collect();
    let bad = |m: String| -> anyhow::Error { CommandError::BadArgument(m).into() };
    trust
        .iter()
        .map(|t| match t.rsplit_once('=') {
            Some((host, fp)) if tls.iter().any(|h| h == host) => {
                Ok((host.to_owned(), fingerprint(fp)?))
            }
            Some((host, _)) => Err(bad(format!(
                "--trust {t}: {host} is not a ',tls' host of --hosts"
            ))),
            None => match tls.as_slice() {
                [only] => Ok((only.clone(), fingerprint(t)?)),
                [] => Err(bad(
                    "--trust: --hosts has no ',tls' host (HOST:PORT/N,tls)".into()
                )),
                _ => Err(bad(format!(
                    "--trust {t}: several ',tls' hosts; say which: HOST:PORT=FINGERPRINT"
                ))),
            },
        })
        .collect()
}

/// `distsetup trust`.
pub fn run(a: TrustArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    match a.action {
        TrustAction::Add(a) => add(&a, ui),
        TrustAction::List(a) => {
            let root = match &a.root {
                Some(d) => SysRoot::new(d)?,
                None => SysRoot::system(),
            };
            list(&root, ui)
        }
        TrustAction::Remove(a) => remove(&a, ui),
    }
}

fn add(a: &TrustAddArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let root = a.write.sys_root()?;
    let mode = a.write.mode();
    if let Some(fp) = a.master.as_ref().or(a.fingerprint.as_ref()) {
        fingerprint(fp)?;
    }
    apply::recover_first(&root, mode, ui)?;
    // The other side pins this machine's key: made on first use, before the plan is made
    // (so /etc/distsetup is not the plan's to create, and undo leaves the key alone).
    let owner = match a.master {
        Some(_) => KeyOwner::ServiceUser,
        None => KeyOwner::Root,
    };
    let id = identity(&root, owner, matches!(mode, Mode::Yes | Mode::Ask))?;
    let mut plan = Plan::new(root.clone());
    let kind = if let Some(fp) = &a.master {
        let mut store = read_store(&root, StoreKind::Masters)?;
        store.add(a.note.as_deref().unwrap_or_default(), fingerprint(fp)?);
        plan_store(&mut plan, &store, StoreKind::Masters)?;
        StoreKind::Masters
    } else {
        let (Some(host), Some(fp)) = (&a.host, &a.fingerprint) else {
            return Err(CommandError::BadArgument(
                "pass HOST FINGERPRINT (a volunteer) or --master FINGERPRINT".into(),
            )
            .into());
        };
        let mut store = read_store(&root, StoreKind::Volunteers)?;
        store.add(host, fingerprint(fp)?);
        plan_store(&mut plan, &store, StoreKind::Volunteers)?;
        StoreKind::Volunteers
    };
    let outcome = apply::execute(&plan, mode, ui)?;
    let whom = (kind == StoreKind::Volunteers).then_some("on the volunteer");
    tell_the_volunteers(id.as_ref(), whom, ui)?;
    Ok(ExitStatus::of_outcome(&outcome))
}

fn list(root: &SysRoot, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    match identity(root, KeyOwner::Root, false)? {
        Some((id, _)) => print_identity(&id, false, ui)?,
        None => writeln!(ui.out, "this machine has no key pair yet ({IDENTITY_KEY})")?,
    }
    for kind in [StoreKind::Masters, StoreKind::Volunteers] {
        let store = read_store(root, kind)?;
        let title = match kind {
            StoreKind::Masters => "masters this volunteer serves",
            StoreKind::Volunteers => "volunteers this master uses",
        };
        writeln!(ui.out, "{title} ({}):", kind.path().display())?;
        if store.entries().is_empty() {
            writeln!(ui.out, "  none")?;
        }
        for e in store.entries() {
            writeln!(ui.out, "  {} {}", e.fingerprint, e.name)?;
        }
    }
    Ok(ExitStatus::Ok)
}

fn remove(a: &TrustRemoveArgs, ui: &mut Ui) -> anyhow::Result<ExitStatus> {
    let root = a.write.sys_root()?;
    let mode = a.write.mode();
    apply::recover_first(&root, mode, ui)?;
    let mut plan = Plan::new(root.clone());
    let mut removed = 0;
    for kind in [StoreKind::Masters, StoreKind::Volunteers] {
        let mut store = read_store(&root, kind)?;
        let n = store.remove(&a.what);
        if n > 0 {
            removed += n;
            plan_store(&mut plan, &store, kind)?;
        }
    }
    if removed == 0 {
        writeln!(ui.err, "no pinned key matches '{}'", a.what)?;
        return Ok(ExitStatus::Negative);
    }
    let outcome = apply::execute(&plan, mode, ui)?;
    Ok(ExitStatus::of_outcome(&outcome))
}
