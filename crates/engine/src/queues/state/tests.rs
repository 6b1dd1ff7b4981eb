use super::*;

const RULE: DeadLetterRule = DeadLetterRule { max_receive_count: Some(2) };

fn fetched(lsns: &[u64]) -> Event {
    Event::Fetched {
        records: lsns
            .iter()
            .map(|&lsn| Fetched { lsn, shard_uid: 1, shard_index: 0, shard_created_secs: 0, arrival_ms: lsn })
            .collect(),
        checkpoint: ReaderCheckpoint::default(),
    }
}

fn receive(state: &mut QueueState, side: Side, now_ms: u64, timeout_ms: u64, limit: usize) -> Vec<u64> {
    let lsns = state.visible(side, limit);
    state.apply(&Event::Received { lsns: lsns.clone(), side, now_ms, deadline_ms: now_ms + timeout_ms });
    lsns
}

#[test]
fn received_records_are_invisible_until_their_deadline() {
    let mut state = QueueState::default();
    state.apply(&fetched(&[10, 11, 12]));
    assert_eq!(receive(&mut state, Side::Queue, 0, 100, 2), vec![10, 11]);
    // A second receiver within the window gets only what the first did not.
    assert_eq!(receive(&mut state, Side::Queue, 50, 100, 10), vec![12]);
    assert_eq!(state.in_flight(), 3);
    assert!(!state.expire(99, RULE));
    assert_eq!(state.visible(Side::Queue, 10), Vec::<u64>::new());
    assert!(state.expire(100, RULE));
    assert_eq!(state.visible(Side::Queue, 10), vec![10, 11]);
    assert_eq!(state.next_deadline(), Some(150));
}

#[test]
fn acknowledged_records_are_forgotten() {
    let mut state = QueueState::default();
    state.apply(&fetched(&[1, 2]));
    receive(&mut state, Side::Queue, 0, 10, 10);
    state.apply(&Event::Acknowledged { lsns: vec![1] });
    state.expire(10, RULE);
    assert_eq!(state.visible(Side::Queue, 10), vec![2]);
    assert_eq!(state.tracked(), 1);
    // Fetching a known record again does not reset it.
    state.apply(&fetched(&[2]));
    assert_eq!(state.entry(2).map(|e| e.receive_count), Some(1));
}

#[test]
fn records_become_dead_letters_after_max_receive_count_and_restore_resets_them() {
    let mut state = QueueState::default();
    state.apply(&fetched(&[7]));
    receive(&mut state, Side::Queue, 0, 10, 10);
    state.expire(10, RULE);
    assert_eq!(state.visible(Side::Queue, 10), vec![7]);
    receive(&mut state, Side::Queue, 10, 10, 10);
    state.expire(20, RULE);
    assert_eq!(state.visible(Side::Queue, 10), Vec::<u64>::new());
    assert_eq!(state.visible(Side::DeadLetter, 10), vec![7]);
    assert_eq!(receive(&mut state, Side::DeadLetter, 20, 10, 10), vec![7]);
    let entry = state.entry(7).cloned().unwrap();
    assert!(entry.dead);
    assert_eq!(entry.receive_count, 3);
    assert_eq!(entry.first_receive_ms, Some(0));
    state.apply(&Event::Restored { lsns: vec![7] });
    let restored = state.entry(7).cloned().unwrap();
    assert!(!restored.dead);
    assert_eq!(restored.receive_count, 0);
    assert!(restored.generation > entry.generation);
    assert_eq!(state.visible(Side::Queue, 10), vec![7]);
    assert_eq!(state.in_flight(), 0);
}

#[test]
fn without_dead_letter_handling_records_come_back_forever() {
    let mut state = QueueState::default();
    state.apply(&fetched(&[3]));
    for round in 0..10 {
        assert_eq!(receive(&mut state, Side::Queue, round * 10, 10, 10), vec![3]);
        state.expire(round * 10 + 10, DeadLetterRule { max_receive_count: None });
    }
    assert_eq!(state.visible(Side::DeadLetter, 10), Vec::<u64>::new());
}

#[test]
fn a_snapshot_rebuilds_the_same_state() {
    let mut state = QueueState::default();
    state.apply(&fetched(&[1, 2, 3, 4]));
    receive(&mut state, Side::Queue, 0, 10, 2);
    state.apply(&Event::Visibility { lsn: 2, deadline_ms: 500 });
    state.apply(&Event::Dropped { lsns: vec![4] });
    let json = serde_json::to_string(&state.to_stored()).unwrap();
    let rebuilt = QueueState::from_stored(serde_json::from_str(&json).unwrap());
    assert_eq!(rebuilt, state);
}

/// A model of the rules: a list of records with (dead, count, deadline), updated the
/// obvious way. The state machine's indexes must always agree with it.
mod model {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Step {
        Fetch(u8),
        Receive { side: bool, limit: u8, timeout: u8 },
        Ack(u8),
        Visibility(u8, u8),
        Restore(u8),
        Advance(u8),
    }

    fn step() -> impl Strategy<Value = Step> {
        prop_oneof![
            (1u8..5).prop_map(Step::Fetch),
            (any::<bool>(), 1u8..4, 0u8..20).prop_map(|(side, limit, timeout)| Step::Receive { side, limit, timeout }),
            any::<u8>().prop_map(Step::Ack),
            (any::<u8>(), 0u8..20).prop_map(|(at, t)| Step::Visibility(at, t)),
            any::<u8>().prop_map(Step::Restore),
            (0u8..15).prop_map(Step::Advance),
        ]
    }

    #[derive(Debug, Clone, Copy)]
    struct Modelled {
        dead: bool,
        count: u32,
        deadline: Option<u64>,
    }

    proptest! {
        #[test]
        fn the_state_machine_agrees_with_a_plain_model(steps in proptest::collection::vec(step(), 1..60)) {
            let rule = DeadLetterRule { max_receive_count: Some(3) };
            let mut state = QueueState::default();
            let mut model: BTreeMap<u64, Modelled> = BTreeMap::new();
            let mut next_lsn = 1u64;
            let mut now = 0u64;
            for step in steps {
                state.expire(now, rule);
                for record in model.values_mut() {
                    if record.deadline.is_some_and(|d| d <= now) {
                        record.deadline = None;
                        if !record.dead && record.count >= 3 {
                            record.dead = true;
                        }
                    }
                }
                let pick = |model: &BTreeMap<u64, Modelled>, at: u8| model.keys().nth(usize::from(at) % model.len().max(1)).copied();
                match step {
                    Step::Fetch(n) => {
                        let lsns: Vec<u64> = (0..u64::from(n)).map(|i| next_lsn + i).collect();
                        next_lsn += u64::from(n);
                        state.apply(&fetched(&lsns));
                        for lsn in lsns {
                            model.insert(lsn, Modelled { dead: false, count: 0, deadline: None });
                        }
                    }
                    Step::Receive { side, limit, timeout } => {
                        let side = if side { Side::DeadLetter } else { Side::Queue };
                        let expected: Vec<u64> = model
                            .iter()
                            .filter(|(_, r)| r.deadline.is_none() && r.dead == (side == Side::DeadLetter))
                            .map(|(lsn, _)| *lsn)
                            .take(usize::from(limit))
                            .collect();
                        let got = receive(&mut state, side, now, u64::from(timeout), usize::from(limit));
                        prop_assert_eq!(&got, &expected);
                        for lsn in got {
                            let record = model.get_mut(&lsn).unwrap();
                            record.count += 1;
                            record.deadline = Some(now + u64::from(timeout));
                            record.dead = side == Side::DeadLetter;
                        }
                    }
                    Step::Ack(at) => {
                        if let Some(lsn) = pick(&model, at) {
                            state.apply(&Event::Acknowledged { lsns: vec![lsn] });
                            model.remove(&lsn);
                        }
                    }
                    Step::Visibility(at, timeout) => {
                        if let Some(lsn) = pick(&model, at).filter(|lsn| model[lsn].deadline.is_some()) {
                            state.apply(&Event::Visibility { lsn, deadline_ms: now + u64::from(timeout) });
                            model.get_mut(&lsn).unwrap().deadline = Some(now + u64::from(timeout));
                        }
                    }
                    Step::Restore(at) => {
                        if let Some(lsn) = pick(&model, at).filter(|lsn| model[lsn].dead) {
                            state.apply(&Event::Restored { lsns: vec![lsn] });
                            model.insert(lsn, Modelled { dead: false, count: 0, deadline: None });
                        }
                    }
                    Step::Advance(ms) => now += u64::from(ms),
                }
                prop_assert_eq!(state.tracked(), model.len());
                let in_flight = model.values().filter(|r| r.deadline.is_some() && !r.dead).count();
                prop_assert_eq!(state.in_flight(), in_flight);
                for (lsn, record) in &model {
                    let entry = state.entry(*lsn).unwrap();
                    prop_assert_eq!((entry.dead, entry.receive_count, entry.deadline_ms), (record.dead, record.count, record.deadline));
                }
                let rebuilt = QueueState::from_stored(state.to_stored());
                prop_assert_eq!(&rebuilt, &state);
            }
        }
    }
}
