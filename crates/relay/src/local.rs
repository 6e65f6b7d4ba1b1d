//! The master as the last resort: a job no volunteer could take runs here, through the
//! embedded server's own code (argument checks, private job directory, confinement) over
//! an in-memory stream, so "local" is one more [`Transport`] to the rest of the relay.
//! The same path answers the eligibility probe for the master's own compilers.

use std::sync::Arc;

use distsetup_server::{ServeSettings, Server};
use tokio::sync::Semaphore;

use crate::transport::{BoxJobStream, Opening, Transport};

/// Compiles on the master, at most `slots` at once.
pub struct LocalTransport {
    settings: ServeSettings,
    slots: Arc<Semaphore>,
}

impl LocalTransport {
    /// A local compiler with `slots` parallel jobs. `settings` are the embedded server's
    /// (its compiler search path, TMPDIR, limits); they are checked now.
    pub fn new(
        mut settings: ServeSettings,
        slots: usize,
    ) -> Result<LocalTransport, crate::RelayError> {
        settings.inetd = true;
        settings.jobs = slots.max(1);
        settings.max_connections = settings.max_connections.max(settings.jobs);
        // Checked once here, so a bad setting shows at start-up and not at the first job.
        Server::new(settings.clone()).map_err(|e| crate::RelayError::Local(e.to_string()))?;
        Ok(LocalTransport {
            settings,
            slots: Arc::new(Semaphore::new(slots.max(1))),
        })
    }
}

impl Transport for LocalTransport {
    fn open(&self) -> Opening<'_> {
        Box::pin(async move {
            let permit = Arc::clone(&self.slots)
                .acquire_owned()
                .await
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            // One server per job: serve_one kills every compiler of its server when it
            // returns, which must not reach another job's.
            let server = Server::new(self.settings.clone())
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let (ours, theirs) = tokio::io::duplex(256 * 1024);
            tokio::spawn(async move {
                let _permit = permit;
                distsetup_server::serve_one(&server, theirs, None).await;
            });
            Ok(Box::new(ours) as BoxJobStream)
        })
    }

    fn kind(&self) -> String {
        "local".into()
    }
}
