//! A node's identity: an Ed25519 key pair, the self-signed certificate made from it at
//! each start, and its fingerprint (SHA-256 of the public key), short enough to read
//! aloud in groups.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest as _, Sha256};

use crate::LinkError;

/// SHA-256 of a public key (its DER SubjectPublicKeyInfo), shown as 13 groups of four
/// base32 letters and digits: `abcd-efgh-…`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER SubjectPublicKeyInfo.
    pub fn of_public_key(spki_der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(spki_der).into())
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = data_encoding::BASE32_NOPAD
            .encode(&self.0)
            .to_ascii_lowercase();
        let groups: Vec<&str> = text
            .as_bytes()
            .chunks(4)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect();
        f.write_str(&groups.join("-"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = LinkError;

    /// Accepts what [`fmt::Display`] prints, in any case, with `-`, `:` or spaces between
    /// groups (or none), and an optional `sha256:` in front.
    fn from_str(s: &str) -> Result<Fingerprint, LinkError> {
        let bad = || LinkError::BadFingerprint(s.to_owned());
        let body = s.trim();
        let body = body
            .strip_prefix("sha256:")
            .or_else(|| body.strip_prefix("SHA256:"))
            .unwrap_or(body);
        let letters: String = body
            .chars()
            .filter(|c| !matches!(c, '-' | ':' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let bytes = data_encoding::BASE32_NOPAD
            .decode(letters.as_bytes())
            .map_err(|_| bad())?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        Ok(Fingerprint(arr))
    }
}

/// The key pair and the certificate the TLS handshake shows.
pub struct Identity {
    key_pem: String,
    key_pkcs8: Vec<u8>,
    cert: CertificateDer<'static>,
    fingerprint: Fingerprint,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity({})", self.fingerprint)
    }
}

impl Identity {
    /// A new random Ed25519 identity.
    pub fn generate() -> Result<Identity, LinkError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map_err(|e| LinkError::Key(e.to_string()))?;
        Identity::from_key(&key)
    }

    /// The identity stored as a PKCS#8 PEM private key.
    pub fn from_pem(pem: &str) -> Result<Identity, LinkError> {
        let key = rcgen::KeyPair::from_pem(pem).map_err(|e| LinkError::Key(e.to_string()))?;
        if key.algorithm() != &rcgen::PKCS_ED25519 {
            return Err(LinkError::Key("not an Ed25519 key".into()));
        }
        Identity::from_key(&key)
    }

    fn from_key(key: &rcgen::KeyPair) -> Result<Identity, LinkError> {
        use rcgen::PublicKeyData as _;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())
            .map_err(|e| LinkError::Key(e.to_string()))?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "distsetup link");
        let cert = params
            .self_signed(key)
            .map_err(|e| LinkError::Key(e.to_string()))?;
        Ok(Identity {
            key_pem: key.serialize_pem(),
            key_pkcs8: key.serialize_der(),
            cert: cert.der().clone(),
            fingerprint: Fingerprint::of_public_key(&key.subject_public_key_info()),
        })
    }

    /// Read the key file at `path` (a real path): `Ok(None)` when there is none. A key
    /// that others may read is refused, as ssh refuses one.
    pub fn load(path: &Path) -> Result<Option<Identity>, LinkError> {
        use std::os::unix::fs::PermissionsExt as _;
        let io = |source| LinkError::Io {
            what: format!("reading {}", path.display()),
            source,
        };
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(LinkError::KeyPermissions {
                path: path.to_path_buf(),
                mode,
            });
        }
        let pem = std::fs::read_to_string(path).map_err(io)?;
        Identity::from_pem(&pem).map(Some)
    }

    /// The private key as PEM, for the key file (mode 0600).
    pub fn to_pem(&self) -> &str {
        &self.key_pem
    }

    /// What the peer pins.
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    pub(crate) fn cert(&self) -> CertificateDer<'static> {
        self.cert.clone()
    }

    pub(crate) fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_key_gives_back_the_same_fingerprint() {
        let id = Identity::generate().expect("a key");
        let again = Identity::from_pem(id.to_pem()).expect("the PEM reads back");
        assert_eq!(id.fingerprint(), again.fingerprint());
        let other = Identity::generate().expect("a key");
        assert_ne!(id.fingerprint(), other.fingerprint());
    }

    #[test]
    fn the_fingerprint_reads_back_in_any_spelling() {
        let fp = Identity::generate().expect("a key").fingerprint();
        let shown = fp.to_string();
        assert_eq!(shown.len(), 13 * 4 + 12, "{shown}");
        assert_eq!(shown.split('-').count(), 13);
        for spelling in [
            shown.clone(),
            shown.to_uppercase(),
            shown.replace('-', ""),
            shown.replace('-', " "),
            format!("sha256:{shown}"),
        ] {
            assert_eq!(spelling.parse::<Fingerprint>().expect(&spelling), fp);
        }
        for bad in ["", "abcd", &shown[..shown.len() - 1], &format!("{shown}aa")] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_non_ed25519_or_garbled_key_is_refused() {
        assert!(
            Identity::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .is_err()
        );
        let ecdsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("a key");
        assert!(Identity::from_pem(&ecdsa.serialize_pem()).is_err());
    }
}
