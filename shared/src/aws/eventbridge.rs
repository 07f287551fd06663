//! Publishing events on EventBridge (`EVENT_BUS`), the one publisher the three functions share.
//!
//! Publishing never blocks or undoes a decision: a call that fails, and entries EventBridge
//! answers as failed (`FailedEntryCount`), are retried a few times with backoff; what still
//! fails is logged and counted (the caller's EMF metric `EventsFailed`), never raised.
//! EventBridge accepts an event for a bus that does not exist and drops it, so the bus is
//! checked once per process (`DescribeEventBus`) before the first publication: a missing bus
//! is a counted failure of every publication, with a message that names it.
use std::time::Duration;

use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_eventbridge::Client;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::domain::events::{Event, SOURCE};
use crate::error::Error;

/// EventBridge takes at most 10 entries per `PutEvents`.
const BATCH: usize = 10;
/// Tries per entry (the first and the retries of entries answered as failed).
const TRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct EventBus {
    client: Client,
    bus: String,
    /// Whether the bus exists, once known.
    exists: Mutex<Option<Result<(), String>>>,
}

/// What a publication did: events accepted, and why the others were not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Published {
    pub sent: usize,
    pub failed: Vec<String>,
}

/// An event ready to send: its `PutEvents` entry fields.
#[derive(Clone, Debug)]
struct Entry {
    detail_type: &'static str,
    resources: Vec<String>,
    detail: String,
}

impl EventBus {
    pub fn new(client: Client, bus: impl Into<String>) -> Self {
        EventBus { client, bus: bus.into(), exists: Mutex::new(None) }
    }

    /// Publishes `events` in batches of 10; never fails, says what did not go out.
    pub async fn publish<D: Serialize>(&self, events: &[Event<D>]) -> Published {
        let mut published = Published::default();
        if events.is_empty() {
            return published;
        }
        if let Err(why) = self.check_bus().await {
            published.failed = events.iter().map(|e| format!("{}: {why}", e.detail_type)).collect();
            return logged(published);
        }
        let entries: Vec<Entry> = events.iter().filter_map(|e| entry(e, &mut published.failed)).collect();
        for batch in entries.chunks(BATCH) {
            let (sent, failed) = self.send(batch.to_vec()).await;
            published.sent += sent;
            published.failed.extend(failed);
        }
        logged(published)
    }

    /// Whether the bus exists, asked once per process. Not knowing (the call failed) is not a
    /// verdict: the events go out, and the next publication asks again.
    async fn check_bus(&self) -> Result<(), String> {
        let mut known = self.exists.lock().await;
        if let Some(verdict) = known.as_ref() {
            return verdict.clone();
        }
        match self.client.describe_event_bus().name(&self.bus).send().await {
            Ok(_) => {
                *known = Some(Ok(()));
                Ok(())
            }
            Err(e) if e.code() == Some("ResourceNotFoundException") => {
                let missing = Err(format!("EVENT_BUS {} does not exist: events are not published", self.bus));
                *known = Some(missing.clone());
                missing
            }
            Err(e) => {
                tracing::warn!(error = %Error::aws("DescribeEventBus", e), "cannot tell whether EVENT_BUS exists");
                Ok(())
            }
        }
    }

    /// One batch, with the failed entries sent again; (sent, why each of the others failed).
    async fn send(&self, mut pending: Vec<Entry>) -> (usize, Vec<String>) {
        let mut sent = 0;
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=TRIES {
            let request = self.client.put_events().set_entries(Some(pending.iter().map(|e| self.to_sdk(e)).collect()));
            let why: Vec<String> = match request.send().await {
                Ok(out) => {
                    let results = out.entries();
                    let mut retry = Vec::new();
                    let mut reasons = Vec::new();
                    for (i, entry) in pending.iter().enumerate() {
                        match results.get(i).and_then(|r| r.error_code().map(|c| (c, r.error_message()))) {
                            None => sent += 1,
                            Some((code, message)) => {
                                reasons.push(format!("{}: {code}: {}", entry.detail_type, message.unwrap_or_default()));
                                retry.push(entry.clone());
                            }
                        }
                    }
                    pending = retry;
                    reasons
                }
                Err(e) => {
                    let e = Error::aws("PutEvents", e);
                    pending.iter().map(|entry| format!("{}: {e}", entry.detail_type)).collect()
                }
            };
            if pending.is_empty() || attempt == TRIES {
                return (sent, why);
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        (sent, Vec::new())
    }

    fn to_sdk(&self, e: &Entry) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(SOURCE)
            .detail_type(e.detail_type)
            .set_resources(Some(e.resources.clone()))
            .detail(&e.detail)
            .build()
    }
}

/// What the functions call: publishes `events` when `EVENT_BUS` is set, and prints the
/// `EventsFailed` EMF line (for `function`) when some could not be published. Never fails: a
/// decision is never undone or blocked by its event.
pub async fn tell<D: Serialize>(bus: Option<&EventBus>, function: &str, events: Vec<Event<D>>) -> Published {
    let Some(bus) = bus else { return Published::default() };
    let published = bus.publish(&events).await;
    if !published.failed.is_empty() {
        let timestamp_ms = (crate::clock::now_nanos() / 1_000_000) as i64;
        println!("{}", crate::report::events_failed_record(function, published.failed.len(), timestamp_ms));
    }
    published
}

fn entry<D: Serialize>(e: &Event<D>, failed: &mut Vec<String>) -> Option<Entry> {
    match serde_json::to_string(&e.detail) {
        Ok(detail) => Some(Entry { detail_type: e.detail_type.as_str(), resources: e.resources.clone(), detail }),
        Err(why) => {
            failed.push(format!("{}: the detail does not serialise: {why}", e.detail_type));
            None
        }
    }
}

fn logged(published: Published) -> Published {
    for why in &published.failed {
        tracing::error!(error = %why, "event not published");
    }
    published
}

#[cfg(test)]
#[path = "eventbridge_tests.rs"]
mod tests;
