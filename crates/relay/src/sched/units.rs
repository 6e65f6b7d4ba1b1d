//! Unit memory: how dense each unit compiled (its seconds per byte over the cluster's,
//! the host's slowness taken out), per compiler and source name, so the next build of
//! the same package predicts its big units as big.

use super::{Running, State};

/// Units remembered (per compiler and source name); the memory starts over when full.
const MAX_UNITS: usize = 20_000;
/// A remembered unit counts only for a preprocessed size within this share of its own.
const SAME_UNIT: f64 = 0.1;
/// Weight of a new build in a remembered unit's density.
const UNIT_ALPHA: f64 = 0.5;

/// What is remembered of one unit: its preprocessed size and how dense it compiled (the
/// natural logarithm of its seconds per byte over the cluster's, the host's slowness
/// taken out).
#[derive(Clone, Copy)]
pub(super) struct UnitMemo {
    bytes: u64,
    ln_density: f64,
}

/// How much a job weighs in bytes of an average unit: its size times its remembered
/// density (1 for a unit not seen before).
pub(super) fn work(bytes: u64, density: Option<f64>) -> f64 {
    bytes.max(1) as f64 * density.unwrap_or(1.0)
}

impl Running {
    /// The job's weight in bytes of an average unit.
    pub(super) fn work(&self) -> f64 {
        work(self.bytes, self.density)
    }
}

/// The remembered density of a unit, if one of this compiler, name and about this size
/// finished before.
pub(super) fn unit_density(st: &State, compiler: &str, source: &str, bytes: u64) -> Option<f64> {
    st.units
        .get(&(compiler.to_owned(), source.to_owned()))
        .filter(|m| same_size(m.bytes, bytes))
        .map(|m| m.ln_density.exp())
}

fn same_size(remembered: u64, now: u64) -> bool {
    (remembered as f64 - now as f64).abs() <= SAME_UNIT * remembered as f64
}

/// Remember that `r`'s unit compiled `density` times the cluster's seconds per byte.
pub(super) fn remember_unit(st: &mut State, r: &Running, density: f64) {
    let sample = density.clamp(1.0 / 64.0, 64.0).ln();
    let key = (r.compiler.clone(), r.source.clone());
    let ln_density = match st.units.get(&key) {
        Some(m) if same_size(m.bytes, r.bytes) => {
            m.ln_density + UNIT_ALPHA * (sample - m.ln_density)
        }
        _ => sample,
    };
    if st.units.len() >= MAX_UNITS && !st.units.contains_key(&key) {
        st.units.clear();
    }
    st.units.insert(
        key,
        UnitMemo {
            bytes: r.bytes,
            ln_density,
        },
    );
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::time::Instant;

    pub(in crate::sched) fn running(source: &str, bytes: u64) -> Running {
        Running {
            job: 1,
            host: 0,
            slot: 0,
            source: source.into(),
            compiler: "gcc".into(),
            bytes,
            density: None,
            started: Instant::now(),
            queued: 0.0,
            predicted: 1.0,
            duplicate: false,
            hedged: false,
            hedge: None,
            give_up: None,
        }
    }

    #[test]
    fn a_unit_is_remembered_by_compiler_name_and_size() {
        let mut st = State::default();
        remember_unit(&mut st, &running("zstd_lazy.c", 100_000), 8.0);
        let d = unit_density(&st, "gcc", "zstd_lazy.c", 105_000).unwrap_or_default();
        assert!((d - 8.0).abs() < 1e-9, "{d}");
        // Another size (another version of the file), name or compiler: not that unit.
        assert!(unit_density(&st, "gcc", "zstd_lazy.c", 120_000).is_none());
        assert!(unit_density(&st, "gcc", "zstd_fast.c", 100_000).is_none());
        assert!(unit_density(&st, "clang", "zstd_lazy.c", 100_000).is_none());
        // A second build moves it half way (in logarithms): sqrt(8 * 2) = 4.
        remember_unit(&mut st, &running("zstd_lazy.c", 100_000), 2.0);
        let d = unit_density(&st, "gcc", "zstd_lazy.c", 100_000).unwrap_or_default();
        assert!((d - 4.0).abs() < 1e-9, "{d}");
        // The job weighs its size times its density.
        let mut r = running("zstd_lazy.c", 1000);
        r.density = Some(4.0);
        assert!((r.work() - 4000.0).abs() < 1e-9);
    }

    #[test]
    fn the_unit_memory_is_bounded() {
        let mut st = State::default();
        for i in 0..MAX_UNITS + 10 {
            remember_unit(&mut st, &running(&format!("u{i}.c"), 1000), 1.0);
        }
        assert!(st.units.len() <= MAX_UNITS, "{}", st.units.len());
        assert!(unit_density(&st, "gcc", &format!("u{}.c", MAX_UNITS + 9), 1000).is_some());
    }
}
