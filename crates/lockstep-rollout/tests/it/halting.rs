use lockstep_rollout::{Decision, Policy, Rollout, State, Tally, evaluate, wilson};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Event {
    Report { success: bool, latency_ms: u64 },
    Advance { after_secs: i64 },
}

/// Reports fail with a per-stream probability, so streams range from healthy to broken.
fn events() -> impl Strategy<Value = Vec<Event>> {
    (0.0f64..0.6).prop_flat_map(|fail| proptest::collection::vec(event(fail), 0..600))
}

fn event(fail: f64) -> impl Strategy<Value = Event> {
    prop_oneof![
        8 => (proptest::bool::weighted(1.0 - fail), 0u64..2_000).prop_map(|(success, latency_ms)| Event::Report { success, latency_ms }),
        1 => (0i64..600).prop_map(|after_secs| Event::Advance { after_secs }),
    ]
}

fn policy() -> impl Strategy<Value = Policy> {
    (1u64..60, 0.01f64..0.5, proptest::option::of(100u64..1_500)).prop_map(|(min, rate, lat)| {
        Policy::new(vec![1, 10, 50, 100])
            .and_then(|p| p.min_samples(min))
            .and_then(|p| p.max_failure_rate(rate))
            .and_then(|p| p.stage_deadline_secs(3_600))
            .expect("valid policy")
            .max_latency_ms(lat)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_advances_short_and_always_halts_when_credibly_bad(
        policy in policy(),
        events in events(),
    ) {
        let mut rollout = Rollout::new(policy.clone(), 0);
        let mut now = 0i64;
        for e in events {
            match e {
                Event::Report { success, latency_ms } => {
                    rollout.record(success, Some(latency_ms));
                }
                Event::Advance { after_secs } => {
                    now += after_secs;
                    if rollout.state != State::Running {
                        prop_assert!(rollout.advance(now).is_err());
                        continue;
                    }
                    let before = rollout.tally;
                    let stage = rollout.stage;
                    let bounds = wilson(before.bad(), before.samples, policy.z);
                    let decision = rollout.advance(now).expect("running");
                    match &decision {
                        Decision::Advance { to } => {
                            prop_assert!(before.samples >= policy.min_samples);
                            prop_assert_eq!(*to, stage + 1);
                            prop_assert_eq!(rollout.tally, Tally::default());
                        }
                        Decision::Complete => {
                            prop_assert!(before.samples >= policy.min_samples);
                            prop_assert_eq!(rollout.state, State::Completed);
                        }
                        Decision::Halt { evidence } => {
                            prop_assert!(bounds.lower > policy.max_failure_rate);
                            prop_assert_eq!(evidence.samples, before.samples);
                            prop_assert_eq!(rollout.state, State::Halted);
                        }
                        Decision::Stay | Decision::Pause { .. } => {}
                    }
                    if before.samples > 0 && bounds.lower > policy.max_failure_rate {
                        prop_assert!(matches!(decision, Decision::Halt { .. }), "{:?}", decision);
                    }
                }
            }
        }
    }

    #[test]
    fn wilson_bounds_bracket_the_observed_rate(bad in 0u64..1_000, extra in 0u64..1_000) {
        let n = bad + extra;
        let b = wilson(bad, n, 1.96);
        prop_assert!(b.lower >= 0.0 && b.upper <= 1.0 && b.lower <= b.upper);
        if n > 0 {
            let p = bad as f64 / n as f64;
            prop_assert!(b.lower <= p + 1e-12 && p <= b.upper + 1e-12);
        }
    }
}

#[test]
fn three_failures_of_three_halt_but_one_of_three_does_not() {
    let p = Policy::new(vec![1, 100]).unwrap();
    let t = |samples, failures| Tally {
        samples,
        failures,
        slow: 0,
    };
    assert!(matches!(
        evaluate(&p, 0, &t(3, 3), 0, 1),
        Decision::Halt { .. }
    ));
    // 1 of 3 is a 33 % raw ratio, but the lower bound (about 6 %) is barely above 5 %:
    assert!(matches!(
        evaluate(&p, 0, &t(3, 1), 0, 1),
        Decision::Halt { .. }
    ));
    // 1 of 10 has a lower bound of about 1.8 %: not credible yet.
    assert_eq!(evaluate(&p, 0, &t(10, 1), 0, 1), Decision::Stay);
    // 100 clean reports: the upper bound is about 3.7 %, below 5 %.
    assert_eq!(
        evaluate(&p, 0, &t(100, 0), 0, 1),
        Decision::Advance { to: 1 }
    );
    assert_eq!(evaluate(&p, 1, &t(100, 0), 0, 1), Decision::Complete);
    // 100 reports with 3 failures: upper bound about 8.5 %, stays.
    assert_eq!(evaluate(&p, 0, &t(100, 3), 0, 1), Decision::Stay);
}
