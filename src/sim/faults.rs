//! Choosing injected faults: the bursts of `fault_*_burst`, then the probabilities of
//! `fault_429`, `fault_5xx` and `fault_drop`, on the routes of `fault_routes`. The
//! [layer](super::layers::faults) carries the choice out.

use rand::Rng;

use super::state::State;

/// What an injected fault does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 `APIGW.0308` with `Retry-After: secs`.
    TooMany(u64),
    /// 503 `APIGW.0202`.
    Unavailable,
    /// The connection is closed without any HTTP answer.
    Drop,
}

/// Decides whether `route` gets a fault now. Bursts come first (drop, then 5xx, then 429),
/// each counting down; then one random draw against the three probabilities. The RNG is
/// drawn only when a probability is set, so faults never disturb the seeded durations
/// otherwise.
pub fn decide(state: &mut State, route: &str) -> Option<Fault> {
    let k = &mut state.knobs;
    if !k.faults_apply_to(route) {
        return None;
    }
    if k.fault_drop_burst > 0 {
        k.fault_drop_burst -= 1;
        return Some(Fault::Drop);
    }
    if k.fault_5xx_burst > 0 {
        k.fault_5xx_burst -= 1;
        return Some(Fault::Unavailable);
    }
    if k.fault_429_burst > 0 {
        k.fault_429_burst -= 1;
        return Some(Fault::TooMany(k.retry_after_secs));
    }
    let (p429, p5xx, pdrop, retry) = (k.fault_429, k.fault_5xx, k.fault_drop, k.retry_after_secs);
    if p429 + p5xx + pdrop <= 0.0 {
        return None;
    }
    let r: f64 = state.rng.gen();
    if r < p429 {
        Some(Fault::TooMany(retry))
    } else if r < p429 + p5xx {
        Some(Fault::Unavailable)
    } else if r < p429 + p5xx + pdrop {
        Some(Fault::Drop)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::config::{ROUTE_JOB, ROUTE_LIST};
    use crate::sim::knobs::Knobs;

    #[test]
    fn bursts_come_first_and_count_down_on_their_routes_only() {
        let mut state = State::new(Knobs {
            fault_drop_burst: 1,
            fault_5xx_burst: 1,
            fault_429_burst: 1,
            retry_after_secs: 7,
            fault_routes: vec![ROUTE_JOB.into()],
            ..Knobs::default()
        });
        assert_eq!(decide(&mut state, ROUTE_LIST), None);
        assert_eq!(decide(&mut state, ROUTE_JOB), Some(Fault::Drop));
        assert_eq!(decide(&mut state, ROUTE_JOB), Some(Fault::Unavailable));
        assert_eq!(decide(&mut state, ROUTE_JOB), Some(Fault::TooMany(7)));
        assert_eq!(decide(&mut state, ROUTE_JOB), None);
    }

    #[test]
    fn a_certain_probability_always_hits() {
        let mut state = State::new(Knobs {
            fault_5xx: 1.0,
            ..Knobs::default()
        });
        assert_eq!(decide(&mut state, ROUTE_LIST), Some(Fault::Unavailable));
    }
}
