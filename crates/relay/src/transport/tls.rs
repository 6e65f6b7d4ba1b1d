//! The secure link as a transport: one long-lived TLS connection per volunteer (pinned
//! keys both ways), a multiplexed stream per job; dropping the stream cancels the job.

use distsetup_link::LinkClient;

use super::{BoxJobStream, Opening, Transport};

/// A volunteer reached over the secure link.
pub struct TlsTransport(pub LinkClient);

impl Transport for TlsTransport {
    fn open(&self) -> Opening<'_> {
        Box::pin(async move {
            let stream = self.0.open_stream().await?;
            Ok(Box::new(stream) as BoxJobStream)
        })
    }

    fn kind(&self) -> String {
        self.0.kind()
    }

    fn detail(&self) -> Option<String> {
        let c = self.0.compression();
        Some(format!("{}: {}", c.codec.name(), c.reason))
    }
}
