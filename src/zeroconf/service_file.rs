//! Avahi static service files (`/etc/avahi/services/NAME.service`, avahi.service(5)):
//! avahi-daemon watches the directory and publishes (or withdraws) a file's service as
//! soon as it appears (or goes), without a restart.

use super::naming::{self, LABEL_MAX, SERVICE_TYPE};

/// One distcc service as Avahi should publish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceFile {
    /// The instance name; `%h` is replaced by the host name (so two volunteers with the
    /// same toolchain do not collide).
    pub name: String,
    /// The compile port.
    pub port: u16,
    /// Full subtypes (`_m--v._sub._distcc._tcp`), in order.
    pub subtypes: Vec<String>,
    /// TXT strings (`key=value`), in order.
    pub txt: Vec<String>,
}

/// Why a service file cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A subtype label longer than DNS allows.
    #[error(
        "the subtype label {label} is {len} bytes; DNS allows {LABEL_MAX}, so Avahi would refuse the whole service"
    )]
    LabelTooLong {
        /// The label.
        label: String,
        /// Its length.
        len: usize,
    },
    /// A TXT string longer than DNS allows.
    #[error("the TXT string {0:?} is longer than 255 bytes")]
    TxtTooLong(String),
}

/// The subtypes for every (master name × version): one per pair, duplicates dropped
/// (two names may clean to the same label), in the order given.
pub fn subtypes(machines: &[String], versions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in machines {
        for v in versions {
            let s = naming::subtype(m, v);
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// Replace the five XML special characters.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

impl ServiceFile {
    /// Check the DNS limits Avahi enforces.
    pub fn check(&self) -> Result<(), RenderError> {
        for s in &self.subtypes {
            let label = s.split('.').next().unwrap_or_default();
            if label.len() > LABEL_MAX {
                return Err(RenderError::LabelTooLong {
                    label: label.to_string(),
                    len: label.len(),
                });
            }
        }
        if let Some(t) = self.txt.iter().find(|t| t.len() > 255) {
            return Err(RenderError::TxtTooLong(t.clone()));
        }
        Ok(())
    }

    /// The file's text. Published over IPv4 only: the distcc client writes the address it
    /// resolves without an interface scope, so an IPv6 link-local address (what mDNS
    /// usually offers) would be unusable and every job would fall back to the master.
    pub fn render(&self) -> Result<String, RenderError> {
        self.check()?;
        let mut out = String::from(
            "<?xml version=\"1.0\" standalone=\"no\"?>\n\
             <!DOCTYPE service-group SYSTEM \"avahi-service.dtd\">\n\
             <!-- written by distsetup volunteer (zeroconf); distsetup undo removes it -->\n\
             <service-group>\n",
        );
        out.push_str(&format!(
            "  <name replace-wildcards=\"yes\">{}</name>\n",
            xml_escape(&self.name)
        ));
        out.push_str("  <service protocol=\"ipv4\">\n");
        out.push_str(&format!("    <type>{SERVICE_TYPE}</type>\n"));
        for s in &self.subtypes {
            out.push_str(&format!("    <subtype>{}</subtype>\n", xml_escape(s)));
        }
        out.push_str(&format!("    <port>{}</port>\n", self.port));
        for t in &self.txt {
            out.push_str(&format!("    <txt-record>{}</txt-record>\n", xml_escape(t)));
        }
        out.push_str("  </service>\n</service-group>\n");
        Ok(out)
    }
}
