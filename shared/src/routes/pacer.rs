//! Pacing of one EC2 action's calls (CreateRoute, DeleteRoute): a client-side mirror of the
//! request token bucket EC2 keeps per account, region and action, which learns from
//! `RequestLimitExceeded`.
//!
//! Why not the SDK's retries: its adaptive mode cuts its send rate on every throttle, whatever
//! caused it, and climbs back slowly (a fifth of CreateRoute calls throttled at random made 100
//! routes take 46 s, 136 attempts); its standard mode backs off each call on its own, blind to
//! the bucket all of them share. EC2 documents the bucket instead ("Request throttling for the
//! Amazon EC2 API": mutating actions, a burst of 50 and 5 tokens a second), and a throttled call
//! takes no token, so the fastest pace is: the burst, then the refill rate, and a refused call
//! costs only its round trip. Measured on the emulator's model of those buckets
//! (BENCHMARKS.md, "peering-acceptor under throttling"), this pacer stays within a few percent
//! of that limit at 100 to 1,000 routes, and wires 100 routes under 20 % random throttling in a
//! fraction of the 46 s.
//!
//! - The local bucket starts as the documented one (full: 50 tokens, 5 a second); each call
//!   takes a token, so a process alone with a full bucket is never refused.
//! - Once the burst is spent (calls wait for tokens: *paced*), each success raises the rate:
//!   doubled until the first throttle (as TCP's slow start), then +0.5/s. The documented numbers
//!   are where learning starts, not a ceiling: an account may have had its limits raised, and
//!   unthrottled the pace is back to the round trips' within a few calls.
//! - A throttle of a paced call empties the local bucket (EC2's is empty) and sets the rate to
//!   1.25 × what got through in the last second. Under the bucket that is a little above its
//!   refill, so it never fills up unused (the surplus is refused and costs no token); under
//!   random throttling (other tools, a fraction of calls whatever the rate) it is about the
//!   rate already sent at, so the pace does not collapse. One cut per round: calls sent before
//!   the last cut say nothing new.
//! - A throttle of a call sent from the burst says nothing about our rate (others spent the
//!   bucket, or chance): the call is retried, and if the bucket really is empty the local burst
//!   runs out within its 50 tokens and pacing starts.
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A bucket's size (its burst) and refill rate (tokens a second).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limit {
    pub size: f64,
    pub rate: f64,
}

/// EC2's request bucket for a mutating action (CreateRoute, DeleteRoute), as documented.
pub(crate) const MUTATING: Limit = Limit { size: 50.0, rate: 5.0 };

/// Growth of the rate per paced success before the first throttle, and after it.
const SLOW_START: f64 = 2.0;
const INCREASE: f64 = 0.5;
/// A throttle sets the rate to this multiple of the rate that got through.
const HEADROOM: f64 = 1.25;
/// How far back "what got through" is measured, and the shortest span it is measured over.
const WINDOW: Duration = Duration::from_secs(1);
const MIN_SPAN: Duration = Duration::from_millis(250);
/// Successes needed in the window to measure a rate; fewer: fall back to the documented rate.
const MIN_SAMPLES: usize = 3;
/// The slowest and fastest pace (calls a second).
const MIN_RATE: f64 = 0.5;
const MAX_RATE: f64 = 1000.0;

/// What a call was sent under, handed back with its outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    round: u64,
    paced: bool,
}

/// The pacing itself, a pure state machine: handed the time, never reading it.
#[derive(Debug)]
pub(crate) struct Bucket {
    limit: Limit,
    tokens: f64,
    rate: f64,
    refilled: Instant,
    slow_start: bool,
    /// Incremented at each cut; a throttle of a call sent in an older round is not news.
    round: u64,
    /// When paced calls succeeded, within the last [`WINDOW`].
    delivered: VecDeque<Instant>,
}

impl Bucket {
    pub(crate) fn new(limit: Limit, now: Instant) -> Self {
        Bucket {
            limit,
            tokens: limit.size,
            rate: limit.rate,
            refilled: now,
            slow_start: true,
            round: 0,
            delivered: VecDeque::new(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.limit.size);
        self.refilled = now;
    }

    /// A token for a call now, or how long until there is one.
    pub(crate) fn take(&mut self, now: Instant) -> Result<Ticket, Duration> {
        self.refill(now);
        if self.tokens < 1.0 {
            // At least a millisecond: a wait rounded down to nothing would only spin.
            return Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate).max(Duration::from_millis(1)));
        }
        // Paced: the burst is spent, this call had (or would have had) to wait.
        let paced = self.tokens < 2.0;
        self.tokens -= 1.0;
        Ok(Ticket { round: self.round, paced })
    }

    /// The call was carried out (or refused for another reason than throttling).
    pub(crate) fn succeeded(&mut self, ticket: Ticket, now: Instant) {
        if !ticket.paced {
            return;
        }
        self.refill(now);
        self.delivered.push_back(now);
        self.rate = if self.slow_start { self.rate * SLOW_START } else { self.rate + INCREASE }.min(MAX_RATE);
    }

    /// The call was answered `RequestLimitExceeded`.
    pub(crate) fn throttled(&mut self, ticket: Ticket, now: Instant) {
        if !ticket.paced {
            return;
        }
        self.refill(now);
        self.tokens = self.tokens.min(0.0);
        if ticket.round < self.round {
            return;
        }
        self.rate = match self.delivered_rate(now) {
            Some(delivered) => (HEADROOM * delivered).clamp(MIN_RATE, MAX_RATE),
            None => self.rate.min(self.limit.rate),
        };
        self.slow_start = false;
        self.round += 1;
    }

    /// Successes per second of paced calls over the last [`WINDOW`], when there are enough.
    fn delivered_rate(&mut self, now: Instant) -> Option<f64> {
        while self.delivered.front().is_some_and(|t| now.saturating_duration_since(*t) > WINDOW) {
            self.delivered.pop_front();
        }
        let first = *self.delivered.front()?;
        if self.delivered.len() < MIN_SAMPLES {
            return None;
        }
        let span = now.saturating_duration_since(first).max(MIN_SPAN).as_secs_f64();
        Some(self.delivered.len() as f64 / span)
    }

    /// The current pace (calls a second).
    #[cfg(test)]
    pub(crate) fn rate(&self) -> f64 {
        self.rate
    }
}

/// One action's pace, shared by every executor calling it through the same adapter.
#[derive(Debug)]
pub(crate) struct Pacer {
    bucket: Mutex<Bucket>,
}

impl Pacer {
    pub(crate) fn new(limit: Limit) -> Self {
        Pacer { bucket: Mutex::new(Bucket::new(limit, Instant::now())) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.bucket.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a token and takes it.
    pub(crate) async fn acquire(&self) -> Ticket {
        loop {
            let wait = match self.lock().take(Instant::now()) {
                Ok(ticket) => return ticket,
                Err(wait) => wait,
            };
            tokio::time::sleep(wait).await;
        }
    }

    pub(crate) fn succeeded(&self, ticket: Ticket) {
        self.lock().succeeded(ticket, Instant::now());
    }

    pub(crate) fn throttled(&self, ticket: Ticket) {
        self.lock().throttled(ticket, Instant::now());
    }
}

#[cfg(test)]
#[path = "pacer_tests.rs"]
mod tests;
