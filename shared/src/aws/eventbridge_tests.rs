//! The publisher against mocked EventBridge answers (aws-smithy-mocks): batches of 10, entries
//! answered as failed sent again, what still fails counted and said, a missing bus found once.
use aws_sdk_eventbridge::operation::describe_event_bus::DescribeEventBusOutput;
use aws_sdk_eventbridge::operation::put_events::{PutEventsInput, PutEventsOutput};
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use serde_json::json;

use super::*;
use crate::domain::events::DetailType;

fn events(n: usize) -> Vec<Event<serde_json::Value>> {
    (0..n)
        .map(|i| Event {
            detail_type: DetailType::PeeringDecision,
            resources: vec![format!("arn:{i}")],
            detail: json!({"i": i}),
        })
        .collect()
}

fn ok_entries(input: &PutEventsInput) -> PutEventsOutput {
    let n = input.entries().len();
    PutEventsOutput::builder()
        .failed_entry_count(0)
        .set_entries(Some((0..n).map(|i| PutEventsResultEntry::builder().event_id(format!("e-{i}")).build()).collect()))
        .build()
}

/// Fails the entries whose detail is `{"i": k}` for each `k` in `failing`.
fn failing_entries(input: &PutEventsInput, failing: &[usize]) -> PutEventsOutput {
    let results: Vec<PutEventsResultEntry> = input
        .entries()
        .iter()
        .map(|e| {
            let i: serde_json::Value = serde_json::from_str(e.detail().unwrap()).unwrap();
            if failing.contains(&(i["i"].as_u64().unwrap() as usize)) {
                PutEventsResultEntry::builder().error_code("InternalFailure").error_message("try again").build()
            } else {
                PutEventsResultEntry::builder().event_id("ok").build()
            }
        })
        .collect();
    let failed = results.iter().filter(|r| r.error_code().is_some()).count() as i32;
    PutEventsOutput::builder().failed_entry_count(failed).set_entries(Some(results)).build()
}

macro_rules! client {
    ($rules:expr) => {
        mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, $rules, |c| c
            .retry_config(aws_config::retry::RetryConfig::disabled()))
    };
}

fn bus_exists() -> aws_smithy_mocks::Rule {
    mock!(Client::describe_event_bus).then_output(|| DescribeEventBusOutput::builder().name("vpcwarden").build())
}

#[tokio::test]
async fn events_go_out_ten_at_a_time() {
    let describe = bus_exists();
    let put = mock!(Client::put_events).then_compute_output(ok_entries);
    let bus = EventBus::new(client!(&[&describe, &put]), "vpcwarden");
    let published = bus.publish(&events(23)).await;
    assert_eq!(published, Published { sent: 23, failed: Vec::new() });
    assert_eq!(put.num_calls(), 3, "10 + 10 + 3");
    assert_eq!(describe.num_calls(), 1);
    bus.publish(&events(1)).await;
    assert_eq!(describe.num_calls(), 1, "the bus is checked once per process");
}

#[tokio::test]
async fn failed_entries_are_sent_again_and_what_still_fails_is_said() {
    let describe = bus_exists();
    // Entry 2 fails once then goes through; entry 4 always fails.
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let put = mock!(Client::put_events).then_compute_output(move |i| {
        let first = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        failing_entries(i, if first { &[2, 4] } else { &[4] })
    });
    let bus = EventBus::new(client!(&[&describe, &put]), "vpcwarden");
    let published = bus.publish(&events(5)).await;
    assert_eq!(published.sent, 4);
    assert_eq!(published.failed.len(), 1);
    assert!(published.failed[0].contains("InternalFailure"), "{:?}", published.failed);
    assert_eq!(put.num_calls(), TRIES as usize, "the failing entry is tried {TRIES} times");
}

#[tokio::test]
async fn a_bus_that_does_not_exist_fails_every_publication_by_name_without_sending() {
    let describe = mock!(Client::describe_event_bus).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(
                r#"{"__type":"ResourceNotFoundException","message":"Event bus nope does not exist."}"#,
            ),
        )
    });
    let put = mock!(Client::put_events).then_compute_output(ok_entries);
    let bus = EventBus::new(client!(&[&describe, &put]), "nope");
    let published = bus.publish(&events(3)).await;
    assert_eq!(published.sent, 0);
    assert_eq!(published.failed.len(), 3);
    assert!(published.failed[0].contains("EVENT_BUS nope does not exist"), "{:?}", published.failed);
    bus.publish(&events(1)).await;
    assert_eq!((describe.num_calls(), put.num_calls()), (1, 0));
}

#[tokio::test]
async fn a_bus_that_cannot_be_checked_is_published_to_anyway() {
    let describe = mock!(Client::describe_event_bus).then_http_response(|| {
        aws_smithy_runtime_api::http::Response::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
            aws_smithy_types::body::SdkBody::from(r#"{"__type":"ThrottlingException","message":"slow down"}"#),
        )
    });
    let put = mock!(Client::put_events).then_compute_output(ok_entries);
    let bus = EventBus::new(client!(&[&describe, &put]), "vpcwarden");
    assert_eq!(bus.publish(&events(2)).await.sent, 2);
    bus.publish(&events(1)).await;
    assert_eq!(describe.num_calls(), 2, "not knowing is asked again");
}
