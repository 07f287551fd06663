//! The pacing against models of what EC2 does, in simulated time (a discrete-event run of the
//! pure [`Bucket`]): the documented bucket alone, the bucket shared with another tool, random
//! throttling, none.
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::*;

/// What answers the calls.
enum Server {
    /// Every call admitted.
    Open,
    /// EC2's bucket, `tokens` at the start: `others` tokens a second go to another tool; a refused
    /// call takes none.
    Bucket { limit: Limit, tokens: f64, at: f64, others: f64 },
    /// A fraction of calls refused, whatever the rate (a deterministic sequence).
    Random { fraction: f64, seed: u64 },
}

impl Server {
    fn bucket(limit: Limit, tokens: f64, others: f64) -> Self {
        Server::Bucket { limit, tokens, at: 0.0, others }
    }

    fn admit(&mut self, now: f64) -> bool {
        match self {
            Server::Open => true,
            Server::Bucket { limit, tokens, at, others } => {
                *tokens = (*tokens + (now - *at) * (limit.rate - *others)).min(limit.size);
                *at = now;
                let admitted = *tokens >= 1.0;
                if admitted {
                    *tokens -= 1.0;
                }
                admitted
            }
            Server::Random { fraction, seed } => {
                *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                ((*seed >> 11) as f64 / (1u64 << 53) as f64) >= *fraction
            }
        }
    }
}

/// Seconds since the start, as an instant.
fn at(start: Instant, seconds: f64) -> Instant {
    start + Duration::from_secs_f64(seconds)
}

/// `n` calls, 8 in flight, each answered 3 ms after it is sent and heard back 3 ms later, a
/// refused call retried: (seconds, attempts, throttled).
fn run(n: usize, mut server: Server) -> (f64, usize, usize) {
    let start = Instant::now();
    let mut bucket = Bucket::new(MUTATING, start);
    let (mut now, mut left, mut done, mut attempts, mut throttled) = (0.0f64, n, 0, 0, 0);
    // Calls in flight by the time they are heard back (in microseconds, for ordering).
    let mut in_flight: BinaryHeap<Reverse<(u64, u64, bool)>> = BinaryHeap::new();
    let mut tickets = Vec::new();
    while done < n {
        // Send while there is room and a token; else wait for the earlier of the two.
        let mut next_token = f64::INFINITY;
        while left > 0 && in_flight.len() < 8 {
            match bucket.take(at(start, now)) {
                Ok(ticket) => {
                    left -= 1;
                    attempts += 1;
                    let admitted = server.admit(now + 0.003);
                    tickets.push(ticket);
                    in_flight.push(Reverse((((now + 0.006) * 1e6) as u64, tickets.len() as u64 - 1, admitted)));
                }
                Err(wait) => {
                    next_token = now + wait.as_secs_f64();
                    break;
                }
            }
        }
        let Some(&Reverse((heard, _, _))) = in_flight.peek() else {
            now = next_token;
            continue;
        };
        if next_token < heard as f64 / 1e6 {
            now = next_token;
            continue;
        }
        let Reverse((heard, index, admitted)) = in_flight.pop().expect("a call in flight");
        now = now.max(heard as f64 / 1e6);
        let ticket = tickets[index as usize];
        if admitted {
            bucket.succeeded(ticket, at(start, now));
            done += 1;
        } else {
            bucket.throttled(ticket, at(start, now));
            throttled += 1;
            left += 1;
        }
    }
    (now, attempts, throttled)
}

/// What the bucket allows for `n` calls: the burst at once, the rest at the refill rate.
fn limit(n: usize, limit: Limit, others: f64) -> f64 {
    (n as f64 - limit.size).max(0.0) / (limit.rate - others)
}

#[test]
fn alone_with_the_documented_bucket_it_keeps_to_what_the_bucket_allows() {
    for n in [100, 400, 1000] {
        let (secs, attempts, throttled) = run(n, Server::bucket(MUTATING, MUTATING.size, 0.0));
        let bound = limit(n, MUTATING, 0.0);
        assert!(secs >= bound * 0.99, "{n}: {secs:.1} s is faster than the bucket: the model is wrong");
        assert!(secs <= bound * 1.05, "{n}: {secs:.1} s for a limit of {bound:.1} s");
        // The surplus above the refill is refused (and costs no token): a bounded share.
        assert!(throttled * 2 <= n, "{n}: {throttled} throttled of {attempts}");
    }
}

#[test]
fn a_bucket_another_tool_spends_is_shared_not_starved() {
    // Another tool takes 2 of the 5 tokens a second and left 20 in the bucket.
    let (secs, _, throttled) = run(400, Server::bucket(MUTATING, 20.0, 2.0));
    let bound = (400.0 - 20.0) / 3.0;
    assert!(secs <= bound * 1.05, "{secs:.1} s for a limit of {bound:.1} s ({throttled} throttled)");
}

#[test]
fn random_throttling_does_not_collapse_the_pace() {
    for seed in [7, 8, 9] {
        let (secs, attempts, throttled) = run(100, Server::Random { fraction: 0.2, seed });
        assert!(throttled > 10, "seed {seed}: the model throttled {throttled} of {attempts}");
        assert!(secs <= 10.0, "seed {seed}: 100 calls took {secs:.1} s under 20 % random throttling");
    }
    let (secs, ..) = run(1000, Server::Random { fraction: 0.2, seed: 7 });
    assert!(secs <= limit(1000, MUTATING, 0.0) / 2.0, "1000 calls took {secs:.1} s");
}

#[test]
fn unthrottled_it_speeds_up_past_the_documented_rate() {
    let (secs, attempts, _) = run(1000, Server::Open);
    assert_eq!(attempts, 1000);
    assert!(secs < 5.0, "1000 calls took {secs:.1} s with nothing throttled");
}

#[test]
fn a_throttle_of_a_call_from_an_older_round_does_not_cut_again() {
    let start = Instant::now();
    let mut bucket = Bucket::new(MUTATING, start);
    let tickets: Vec<Ticket> = (0..50).map(|_| bucket.take(start).expect("the burst")).collect();
    assert!(bucket.take(start).is_err(), "the burst is 50 calls");
    let paced: Vec<Ticket> = (1..=3).map(|i| bucket.take(at(start, 0.2 * f64::from(i))).expect("refilled")).collect();
    assert!(paced.iter().all(|t| t.paced) && !tickets[0].paced);
    let before = bucket.rate();
    bucket.throttled(tickets[0], at(start, 0.7));
    assert_eq!(bucket.rate(), before, "a call from the burst says nothing about the pace");
    bucket.throttled(paced[0], at(start, 0.7));
    let after_cut = bucket.rate();
    assert!(after_cut <= before);
    bucket.throttled(paced[1], at(start, 0.75));
    assert_eq!(bucket.rate(), after_cut, "the second throttle of the same round changed the pace");
    assert!(bucket.take(at(start, 0.75)).is_err(), "a throttle empties the bucket");
}
