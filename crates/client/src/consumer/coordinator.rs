//! Lease coordination decisions as pure functions of what the lease table showed and
//! when: which leases are expired, and which to take or steal so that every worker ends
//! up with its fair share, as the KCL 2.x's lease taker decides. Time is a parameter
//! (`now`) and randomness a generator passed in, so tests drive both.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use tokio::time::Instant;

use super::lease::Lease;

/// When each lease's counter last changed, as this worker saw it: a lease whose counter
/// stood still for the failover time has an owner that stopped renewing.
#[derive(Debug, Default)]
pub struct ExpiryTracker {
    seen: HashMap<String, (u64, Instant)>,
}

impl ExpiryTracker {
    /// Records a scan of the table made at `now`. A lease seen for the first time counts
    /// as freshly renewed: its owner gets a whole failover time to show it is alive.
    pub fn observe(&mut self, leases: &[Lease], now: Instant) {
        let mut seen = HashMap::with_capacity(leases.len());
        for lease in leases {
            let changed_at = match self.seen.get(&lease.lease_key) {
                Some(&(counter, at)) if counter == lease.lease_counter => at,
                _ => now,
            };
            seen.insert(lease.lease_key.clone(), (lease.lease_counter, changed_at));
        }
        self.seen = seen;
    }

    /// True when `lease` is free to take: nobody owns it, or its counter did not move
    /// for `failover_time`.
    pub fn is_expired(&self, lease: &Lease, now: Instant, failover_time: Duration) -> bool {
        if lease.lease_owner.is_none() {
            return true;
        }
        match self.seen.get(&lease.lease_key) {
            Some(&(counter, at)) if counter == lease.lease_counter => now.saturating_duration_since(at) > failover_time,
            _ => false,
        }
    }
}

/// The limits of one balancing round.
#[derive(Clone, Copy, Debug)]
pub struct BalanceLimits {
    /// Lease duration.
    pub failover_time: Duration,
    /// Most leases one worker holds.
    pub max_leases_per_worker: usize,
    /// Most leases stolen in one round.
    pub max_leases_to_steal_at_one_time: usize,
}

/// What a balancing round decided.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TakePlan {
    /// Expired or unowned leases to take.
    pub take: Vec<String>,
    /// Leases to steal from the most loaded worker.
    pub steal: Vec<String>,
}

/// Decides which leases `me` (holding `held`) takes now. Finished leases (`SHARD_END`)
/// are neither counted nor taken. The fair share is ceil(leases / live workers), live
/// workers being the owners of unexpired leases and `me`. Expired leases are taken first;
/// only when there are none does the worker steal, from the most loaded worker, and only
/// when that worker holds more than the share (or exactly the share while this one is
/// more than one short, so that shares that do not divide evenly still converge).
pub fn plan_takes(
    leases: &[Lease],
    tracker: &ExpiryTracker,
    me: &str,
    held: &HashSet<String>,
    now: Instant,
    limits: BalanceLimits,
    rng: &mut impl Rng,
) -> TakePlan {
    let active: Vec<&Lease> = leases.iter().filter(|l| !l.is_finished()).collect();
    if active.is_empty() {
        return TakePlan::default();
    }
    let is_takeable = |lease: &Lease| {
        !held.contains(&lease.lease_key)
            && (lease.lease_owner.as_deref() == Some(me) || tracker.is_expired(lease, now, limits.failover_time))
    };
    let mut load: BTreeMap<&str, Vec<&Lease>> = BTreeMap::new();
    for lease in &active {
        if let Some(owner) = lease.lease_owner.as_deref() {
            if owner != me && !tracker.is_expired(lease, now, limits.failover_time) {
                load.entry(owner).or_default().push(lease);
            }
        }
    }
    let workers = load.len() + 1;
    let target = active.len().div_ceil(workers).min(limits.max_leases_per_worker);
    let mine = held.len();
    if mine >= target {
        return TakePlan::default();
    }
    let needed = target - mine;
    let mut expired: Vec<&Lease> = active.iter().copied().filter(|l| is_takeable(l)).collect();
    if !expired.is_empty() {
        expired.shuffle(rng);
        return TakePlan {
            take: expired.into_iter().take(needed).map(|l| l.lease_key.clone()).collect(),
            steal: Vec::new(),
        };
    }
    let Some((_, victims)) = load.iter().max_by_key(|(owner, leases)| (leases.len(), std::cmp::Reverse(**owner)))
    else {
        return TakePlan::default();
    };
    let to_steal = if victims.len() > target {
        needed.min(victims.len() - target)
    } else if victims.len() == target && needed > 1 {
        1
    } else {
        0
    }
    .min(limits.max_leases_to_steal_at_one_time);
    let mut victims = victims.clone();
    victims.shuffle(rng);
    TakePlan { take: Vec::new(), steal: victims.into_iter().take(to_steal).map(|l| l.lease_key.clone()).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::checkpoint::{Checkpoint, ExtendedSequenceNumber};
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    const FAILOVER: Duration = Duration::from_secs(10);
    const LIMITS: BalanceLimits = BalanceLimits {
        failover_time: FAILOVER,
        max_leases_per_worker: usize::MAX,
        max_leases_to_steal_at_one_time: 1,
    };

    fn lease(key: usize, owner: Option<&str>, counter: u64) -> Lease {
        let mut lease = Lease::new(
            format!("shardId-{key:012}"),
            ExtendedSequenceNumber::sentinel(Checkpoint::TrimHorizon),
            [],
            None,
        );
        lease.lease_owner = owner.map(Into::into);
        lease.lease_counter = counter;
        lease
    }

    fn held(leases: &[Lease], me: &str) -> HashSet<String> {
        leases.iter().filter(|l| l.lease_owner.as_deref() == Some(me)).map(|l| l.lease_key.clone()).collect()
    }

    #[test]
    fn a_lease_expires_when_its_counter_stands_still_for_the_failover_time() {
        let start = Instant::now();
        let mut tracker = ExpiryTracker::default();
        let mut leases = vec![lease(0, Some("a"), 1), lease(1, None, 0)];
        tracker.observe(&leases, start);
        // Unowned: always takeable. Owned and just seen: not expired.
        assert!(tracker.is_expired(&leases[1], start, FAILOVER));
        assert!(!tracker.is_expired(&leases[0], start + FAILOVER, FAILOVER));
        // The owner renews: the clock restarts.
        leases[0].lease_counter = 2;
        tracker.observe(&leases, start + Duration::from_secs(8));
        assert!(!tracker.is_expired(&leases[0], start + Duration::from_secs(17), FAILOVER));
        // The owner stops renewing.
        tracker.observe(&leases, start + Duration::from_secs(17));
        assert!(tracker.is_expired(&leases[0], start + Duration::from_secs(19), FAILOVER));
    }

    #[test]
    fn a_worker_takes_unowned_leases_up_to_its_fair_share() {
        let now = Instant::now();
        let mut rng = StdRng::seed_from_u64(1);
        let leases: Vec<Lease> = (0..6).map(|i| lease(i, if i < 2 { Some("b") } else { None }, 1)).collect();
        let mut tracker = ExpiryTracker::default();
        tracker.observe(&leases, now);
        let plan = plan_takes(&leases, &tracker, "a", &HashSet::new(), now, LIMITS, &mut rng);
        // Two live workers (a and b), six leases: a share of three, all from the unowned.
        assert_eq!(plan.take.len(), 3);
        assert!(plan.take.iter().all(|k| leases.iter().any(|l| &l.lease_key == k && l.lease_owner.is_none())));
        assert!(plan.steal.is_empty());
    }

    #[test]
    fn a_worker_below_its_share_steals_one_lease_from_the_most_loaded() {
        let now = Instant::now();
        let mut rng = StdRng::seed_from_u64(2);
        let owners = ["b", "b", "b", "b", "c", "c"];
        let leases: Vec<Lease> = owners.iter().enumerate().map(|(i, o)| lease(i, Some(o), 5)).collect();
        let mut tracker = ExpiryTracker::default();
        tracker.observe(&leases, now);
        let plan = plan_takes(&leases, &tracker, "a", &HashSet::new(), now, LIMITS, &mut rng);
        assert!(plan.take.is_empty());
        assert_eq!(plan.steal.len(), 1);
        let stolen = leases.iter().find(|l| l.lease_key == plan.steal[0]).unwrap();
        assert_eq!(stolen.lease_owner.as_deref(), Some("b"));
    }

    #[test]
    fn balanced_workers_neither_take_nor_steal() {
        let now = Instant::now();
        let mut rng = StdRng::seed_from_u64(3);
        let owners = ["a", "a", "b", "b", "c", "c"];
        let leases: Vec<Lease> = owners.iter().enumerate().map(|(i, o)| lease(i, Some(o), 5)).collect();
        let mut tracker = ExpiryTracker::default();
        tracker.observe(&leases, now);
        for me in ["a", "b", "c"] {
            let plan = plan_takes(&leases, &tracker, me, &held(&leases, me), now, LIMITS, &mut rng);
            assert_eq!(plan, TakePlan::default(), "{me}");
        }
        // Seven leases for three workers: the one with two may not steal from one with three
        // (the share is three; it is only one short).
        let owners = ["a", "a", "b", "b", "b", "c", "c"];
        let leases: Vec<Lease> = owners.iter().enumerate().map(|(i, o)| lease(i, Some(o), 5)).collect();
        tracker.observe(&leases, now);
        assert_eq!(plan_takes(&leases, &tracker, "a", &held(&leases, "a"), now, LIMITS, &mut rng), TakePlan::default());
    }

    #[test]
    fn leases_of_a_dead_worker_are_taken_after_the_failover_time() {
        let start = Instant::now();
        let mut rng = StdRng::seed_from_u64(4);
        let owners = ["a", "a", "b", "b", "c", "c"];
        let mut leases: Vec<Lease> = owners.iter().enumerate().map(|(i, o)| lease(i, Some(o), 5)).collect();
        let mut tracker = ExpiryTracker::default();
        tracker.observe(&leases, start);
        // a and b renew; c stopped.
        let later = start + FAILOVER + Duration::from_secs(1);
        for l in leases.iter_mut().filter(|l| l.lease_owner.as_deref() != Some("c")) {
            l.lease_counter += 1;
        }
        tracker.observe(&leases, later);
        let plan = plan_takes(&leases, &tracker, "a", &held(&leases, "a"), later, LIMITS, &mut rng);
        // Two live workers, six leases: a's share is three, one more than it has.
        assert_eq!(plan.take.len(), 1);
        let taken = leases.iter().find(|l| l.lease_key == plan.take[0]).unwrap();
        assert_eq!(taken.lease_owner.as_deref(), Some("c"));
    }

    #[test]
    fn finished_leases_are_not_counted_and_the_share_is_capped() {
        let now = Instant::now();
        let mut rng = StdRng::seed_from_u64(5);
        let mut leases: Vec<Lease> = (0..4).map(|i| lease(i, None, 0)).collect();
        leases[0].checkpoint = ExtendedSequenceNumber::sentinel(Checkpoint::ShardEnd);
        let mut tracker = ExpiryTracker::default();
        tracker.observe(&leases, now);
        let limits = BalanceLimits { max_leases_per_worker: 2, ..LIMITS };
        let plan = plan_takes(&leases, &tracker, "a", &HashSet::new(), now, limits, &mut rng);
        assert_eq!(plan.take.len(), 2);
        assert!(!plan.take.contains(&leases[0].lease_key));
    }
}
