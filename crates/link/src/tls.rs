//! TLS 1.3 only (rustls with the `ring` provider), mutual authentication against pinned
//! keys: each side shows a self-signed certificate and the other compares the SHA-256 of
//! its public key with the fingerprints it pinned. No CA, no host names, no expiry: the
//! pin is the whole trust decision.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

use crate::LinkError;
use crate::identity::{Fingerprint, Identity};

/// The application protocol both ends name in the handshake; a peer that names none or
/// another one is refused after it.
pub const ALPN: &[u8] = b"distsetup-link/1";
/// Version 2: `ALPN` plus compressed `ZDATA` frames from the master. Both ends offer it
/// first and version 1 second, so a peer that does not read `ZDATA` is never sent one.
pub const ALPN_V2: &[u8] = b"distsetup-link/2";

/// The versions we speak, preferred first.
pub fn alpn_protocols() -> Vec<Vec<u8>> {
    vec![ALPN_V2.to_vec(), ALPN.to_vec()]
}

/// Whether a negotiated protocol is ours, and whether it has compression.
pub fn alpn_version(negotiated: Option<&[u8]>) -> Option<bool> {
    match negotiated {
        Some(p) if p == ALPN_V2 => Some(true),
        Some(p) if p == ALPN => Some(false),
        _ => None,
    }
}

/// Decides whether a key may connect: asked on every handshake, so a trust store read
/// here takes a revocation into account on the very next connection.
pub trait PinCheck: Send + Sync {
    /// `Ok(())` when `fp` is pinned; otherwise why not (logged by the side that refused).
    fn check(&self, fp: &Fingerprint) -> Result<(), String>;
}

/// A fixed set of pins.
pub struct Pins(pub Vec<Fingerprint>);

impl PinCheck for Pins {
    fn check(&self, fp: &Fingerprint) -> Result<(), String> {
        if self.0.contains(fp) {
            Ok(())
        } else if self.0.is_empty() {
            Err(format!("key {fp} is not pinned (no key is pinned)"))
        } else {
            Err(format!("key {fp} is not the pinned one"))
        }
    }
}

impl<F: Fn(&Fingerprint) -> Result<(), String> + Send + Sync> PinCheck for F {
    fn check(&self, fp: &Fingerprint) -> Result<(), String> {
        self(fp)
    }
}

/// The `ring` provider: it builds with only a C compiler (ARM volunteers). rustls marks
/// it deprecated because ring has no post-quantum key exchange; the other provider
/// needs cmake and more on every volunteer.
#[allow(deprecated)]
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The fingerprint of a peer's certificate.
pub fn fingerprint_of(cert: &CertificateDer<'_>) -> Result<Fingerprint, rustls::Error> {
    let parsed = rustls::server::ParsedCertificate::try_from(cert)?;
    Ok(Fingerprint::of_public_key(
        parsed.subject_public_key_info().as_ref(),
    ))
}

/// The check both verifiers share.
struct Pinned {
    pins: Arc<dyn PinCheck>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for Pinned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pinned")
    }
}

impl Pinned {
    fn verify(&self, cert: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        let fp = fingerprint_of(cert)?;
        self.pins.check(&fp).map_err(|why| {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(LinkError::NotPinned(why)),
            )))
        })
    }

    fn signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }
}

/// The signature methods both verifier traits have, the same for both: TLS 1.3 with
/// Ed25519 only (TLS 1.2 is never negotiated: the configurations offer 1.3 alone).
macro_rules! pinned_signatures {
    () => {
        fn verify_tls12_signature(
            &self,
            _message: &[u8],
            _cert: &CertificateDer<'_>,
            _dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            Err(rustls::Error::General("TLS 1.2 is not spoken".into()))
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            self.0.signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            vec![SignatureScheme::ED25519]
        }
    };
}

#[derive(Debug)]
struct PinnedServer(Pinned);

impl ServerCertVerifier for PinnedServer {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.0.verify(end_entity)?;
        Ok(ServerCertVerified::assertion())
    }

    pinned_signatures!();
}

#[derive(Debug)]
struct PinnedClient(Pinned);

impl ClientCertVerifier for PinnedClient {
    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.0.verify(end_entity)?;
        Ok(ClientCertVerified::assertion())
    }

    pinned_signatures!();
}

/// A failed handshake in words: a pin refusal says which key and why, an old TLS
/// version says so, everything else as rustls puts it.
pub fn describe_handshake_error(e: &std::io::Error) -> String {
    use rustls::{CertificateError, PeerIncompatible};
    let Some(tls) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) else {
        return e.to_string();
    };
    match tls {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
            format!("invalid peer certificate: {}", other.0)
        }
        rustls::Error::PeerIncompatible(
            PeerIncompatible::SupportedVersionsExtensionRequired
            | PeerIncompatible::Tls13RequiredForQuic
            | PeerIncompatible::Tls12NotOffered
            | PeerIncompatible::Tls12NotOfferedOrEnabled,
        ) => "the peer does not offer TLS 1.3 (older versions are refused)".into(),
        other => other.to_string(),
    }
}

fn tls_err(e: rustls::Error) -> LinkError {
    LinkError::Tls(e.to_string())
}

/// The volunteer's side: our identity, and the masters `pins` accepts.
pub fn server_config(
    identity: &Identity,
    pins: Arc<dyn PinCheck>,
) -> Result<Arc<rustls::ServerConfig>, LinkError> {
    let provider = provider();
    let verifier = PinnedClient(Pinned {
        pins,
        provider: provider.clone(),
    });
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .with_client_cert_verifier(Arc::new(verifier))
        .with_single_cert(vec![identity.cert()], identity.private_key())
        .map_err(tls_err)?;
    config.alpn_protocols = alpn_protocols();
    // No resumption: every connection shows its key again, so a revoked pin is refused
    // on the next connection rather than honoured through an old session ticket.
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// The master's side: our identity, and the volunteer keys `pins` accepts.
pub fn client_config(
    identity: &Identity,
    pins: Arc<dyn PinCheck>,
) -> Result<Arc<rustls::ClientConfig>, LinkError> {
    let provider = provider();
    let verifier = PinnedServer(Pinned {
        pins,
        provider: provider.clone(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_client_auth_cert(vec![identity.cert()], identity.private_key())
        .map_err(tls_err)?;
    config.alpn_protocols = alpn_protocols();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}
