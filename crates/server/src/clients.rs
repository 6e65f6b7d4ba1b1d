//! Per-client limits: one allowed host cannot hold every connection of the server, nor
//! every place in its queue. A client over its connection limit is closed at accept (as
//! distccd does when it is full); a client over its queue limit keeps its extra
//! connections open but unread until one of its queued jobs is done, so its sources wait
//! in its own socket buffers, not on the server.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// One client's share.
struct Entry {
    connections: usize,
    queue: Arc<Semaphore>,
}

/// Every client's counts.
pub(crate) struct Clients {
    map: Mutex<HashMap<IpAddr, Entry>>,
    max_connections: usize,
    max_queued: usize,
}

/// A connection counted against its client; counted off when dropped.
pub(crate) struct Seat {
    clients: Arc<Clients>,
    ip: IpAddr,
    queue: Arc<Semaphore>,
}

impl Clients {
    pub(crate) fn new(max_connections: usize, max_queued: usize) -> Arc<Clients> {
        Arc::new(Clients {
            map: Mutex::new(HashMap::new()),
            max_connections,
            max_queued,
        })
    }

    /// A seat for a new connection from `ip`, or `None` when the client has its
    /// `max_connections` already.
    pub(crate) fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Seat> {
        let ip = ip.to_canonical();
        let mut map = self.map.lock().ok()?;
        let e = map.entry(ip).or_insert_with(|| Entry {
            connections: 0,
            queue: Arc::new(Semaphore::new(self.max_queued)),
        });
        if e.connections >= self.max_connections {
            return None;
        }
        e.connections += 1;
        Some(Seat {
            clients: Arc::clone(self),
            ip,
            queue: Arc::clone(&e.queue),
        })
    }

    /// Connections `ip` holds now.
    #[cfg(test)]
    fn connections(&self, ip: IpAddr) -> usize {
        self.map
            .lock()
            .map_or(0, |m| m.get(&ip).map_or(0, |e| e.connections))
    }
}

impl Seat {
    /// A place in the client's queue (held from the source's arrival to the reply);
    /// waits while the client has `max_queued` jobs already.
    pub(crate) async fn queue(&self) -> Option<OwnedSemaphorePermit> {
        Arc::clone(&self.queue).acquire_owned().await.ok()
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        if let Ok(mut map) = self.clients.map.lock() {
            if let Some(e) = map.get_mut(&self.ip) {
                e.connections -= 1;
                if e.connections == 0 {
                    map.remove(&self.ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_client_gets_its_share_and_no_more() {
        let clients = Clients::new(2, 1);
        let a: IpAddr = "192.0.2.1".parse().expect("an address");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("an address");
        let b: IpAddr = "192.0.2.2".parse().expect("an address");
        let one = clients.admit(a).expect("first");
        let two = clients.admit(mapped).expect("second, the same client");
        assert!(clients.admit(a).is_none(), "a third connection");
        let other = clients.admit(b).expect("another client is not affected");
        // The queue: one place; the second waits until the first is given back.
        let first = one.queue().await.expect("a place");
        assert_eq!(
            two.queue.available_permits(),
            0,
            "a second place in a queue of one"
        );
        drop(first);
        assert!(two.queue().await.is_some());
        drop((one, two, other));
        assert_eq!(clients.connections(a), 0);
        assert!(clients.admit(a).is_some());
    }
}
