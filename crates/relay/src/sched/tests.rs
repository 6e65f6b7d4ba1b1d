//! The scheduler's own tests (a real `Scheduler`, its state set by hand).

use super::units::tests::running;

fn scheduler() -> Arc<Scheduler> {
    let t: Arc<dyn Transport> = Arc::new(crate::TcpTransport {
        addr: std::net::SocketAddr::from(([127, 0, 0, 1], 9)),
        connect_timeout: Duration::from_secs(1),
    });
    let vol = Volunteer {
        name: "v".into(),
        transport: Arc::clone(&t),
        slots: 2,
        lzo: false,
    };
    Scheduler::new(RelaySettings::default(), vec![vol], t)
}

/// Run a job of `bytes` on the host for `secs` (predicted at 1 ms) and finish it.
fn finish_one(sched: &Arc<Scheduler>, bytes: u64, secs: f64) {
    let attempt = {
        let mut st = sched.lock();
        st.next_id += 1;
        let attempt = st.next_id;
        let mut r = running("u.c", bytes);
        r.predicted = 0.001;
        r.started = Instant::now() - Duration::from_secs_f64(secs);
        st.running.insert(attempt, r);
        attempt
    };
    sched.finish(attempt, Some(Outcome::Answer { status: 0, secs }));
}
use super::*;

#[test]
fn an_idle_slot_wins_a_near_tie_but_not_seconds_for_a_big_unit() {
    // Equal hosts a third apart by noise: the idle one takes the job.
    assert!(takes_idle(1.33, 1.1));
    assert!(takes_idle(8.0, 6.5));
    // A small unit on a slow idle host: a second's difference is not worth a wait.
    assert!(takes_idle(0.8, 0.3));
    // The biggest unit: 20 s on the slow idle host against 9 s (3 s of it waiting)
    // on a fast busy one waits.
    assert!(!takes_idle(20.0, 9.0));
    assert!(!takes_idle(10.0, 6.0));
}

#[test]
fn a_tiny_unit_teaches_nothing_about_speed() {
    let sched = scheduler();
    finish_one(&sched, 500, 0.134);
    {
        let st = sched.lock();
        let h = &st.hosts[0];
        assert_eq!(h.done, 1);
        assert_eq!(h.slowness, None, "a 500-byte unit moved the host's speed");
        assert!(st.global_spb.is_none() && st.ratios.is_empty() && st.units.is_empty());
    }
    finish_one(&sched, 100_000, 0.5);
    let st = sched.lock();
    assert!(st.hosts[0].slowness.is_some() && st.global_spb.is_some());
    assert_eq!(st.ratios.len(), 1);
}
