//! endpoint-approver's partial batch responses for the allowlist stream, end to end: a unit that
//! fails stops the batch and is named in `batchItemFailures`, Lambda retries from it (the
//! harness plays Lambda), and what came before is never processed again.
use serde_json::{json, Value};
use vpcwarden::domain::LedgerAction;
use vpcwarden_tests::privatelink::{self, connection_states, endpoint_grant, grant_record, principal, stream_event};
use vpcwarden_tests::stage::Stage;
use vpcwarden_tests::tables;

const BIN: &str = "endpoint-approver";
const VENDOR: &str = "210987654321";
const RECORDS: usize = 10;

/// `RECORDS` services, each with a pending endpoint of VENDOR and a grant for it (in the table),
/// and the stream batch that announces the grants, one record per service, in service order.
async fn estate(stage: &Stage) -> (Vec<String>, Vec<String>, Vec<Value>) {
    let provider = privatelink::provider(&stage.aws, true).await;
    let consumer = privatelink::consumer(&stage.aws, VENDOR, "10.1.0.0/16").await;
    let allowlist = vpcwarden::aws::allowlist::Allowlist::new(stage.aws.dynamodb().await, tables::ALLOWLIST);
    let (mut services, mut endpoints, mut records) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RECORDS {
        let service = privatelink::service(&stage.aws, &provider, &[principal(VENDOR)]).await;
        endpoints.push(consumer.connect(&service).await);
        let grant = endpoint_grant(&service.id, VENDOR, None, None);
        allowlist.put(&grant).await.expect("grant written");
        records.push(grant_record("INSERT", &grant, false));
        services.push(service.id);
    }
    (services, endpoints, records)
}

/// Per record, in order: the state of its endpoint and the ledger's actions about it.
async fn end_state(stage: &Stage, services: &[String], endpoints: &[String]) -> Vec<(String, Vec<LedgerAction>)> {
    let mut state = Vec::new();
    for (service, endpoint) in services.iter().zip(endpoints) {
        let now = connection_states(&stage.aws, service).await.get(endpoint).cloned().unwrap_or_default();
        state.push((now, tables::endpoint_actions(&stage.aws, endpoint).await));
    }
    state
}

fn sequence(record: &Value) -> String {
    record["dynamodb"]["SequenceNumber"].as_str().expect("a sequence number").to_string()
}

fn failures(answer: &Value) -> Vec<String> {
    let list = answer["batchItemFailures"].as_array().unwrap_or_else(|| panic!("no batchItemFailures: {answer:#}"));
    list.iter().map(|f| f["itemIdentifier"].as_str().expect("an item identifier").to_string()).collect()
}

#[tokio::test]
async fn a_batch_whose_fourth_record_meets_a_throttled_allowlist_is_retried_from_the_fourth_only() {
    let stage = Stage::new().await;
    let f = stage.function(BIN, &[]);

    // The fault-free run, on an estate of its own.
    let (clean_services, clean_endpoints, clean_records) = estate(&stage).await;
    let answer = f.invoke(stream_event(clean_records)).await.expect("fault-free batch");
    assert_eq!(failures(&answer), Vec::<String>::new(), "an empty list: the whole batch was processed");
    let expected = end_state(&stage, &clean_services, &clean_endpoints).await;
    assert!(expected.iter().all(|(s, l)| s == "available" && l == &[LedgerAction::Accepted]), "{expected:?}");

    // Each record is a unit of its own, and each unit reads its service's grants once (a
    // DynamoDB Query): the first three reads pass, the fourth is throttled on every attempt.
    let (services, endpoints, records) = estate(&stage).await;
    stage.emu.add_fault(json!({"service": "dynamodb", "action": "Query", "error": null, "delay_ms": 1, "count": 3}));
    stage.emu.add_fault(json!({"service": "dynamodb", "action": "Query", "error": "ThrottlingException",
                               "count": 1000}));
    stage.emu.clear_requests();
    let answer = f.invoke(stream_event(records.clone())).await.expect("a partial batch response, not an error");
    stage.emu.clear_faults();
    assert_eq!(failures(&answer), [sequence(&records[3])], "{answer:#}");
    let after_first = end_state(&stage, &services, &endpoints).await;
    assert_eq!(after_first[..3], expected[..3], "the first three were processed");
    for (state, ledger) in &after_first[3..] {
        assert_eq!((state.as_str(), ledger.as_slice()), ("pendingAcceptance", &[][..]), "nothing after the 4th");
    }
    assert_eq!(stage.calls("AcceptVpcEndpointConnections"), 3);

    // Lambda retries from the reported record: the 4th to the 10th.
    let answer = f.invoke(stream_event(records[3..].to_vec())).await.expect("the retried batch");
    assert_eq!(failures(&answer), Vec::<String>::new());
    assert_eq!(end_state(&stage, &services, &endpoints).await, expected, "nothing lost, nothing twice");
    assert_eq!(stage.calls("AcceptVpcEndpointConnections"), RECORDS, "the first three were not processed again");
}

#[tokio::test]
async fn records_about_one_service_in_a_row_go_together_and_a_bad_batch_is_still_refused_whole() {
    let stage = Stage::new().await;
    let f = stage.function(BIN, &[]);
    let (services, _, records) = estate(&stage).await;
    // Three records for the first service in a row (a replay of the same grant): one unit, one read.
    let batch = vec![records[0].clone(), records[0].clone(), records[0].clone(), records[1].clone()];
    stage.emu.clear_requests();
    let answer = f.invoke(stream_event(batch)).await.expect("batch");
    assert_eq!(failures(&answer), Vec::<String>::new());
    let settled: Vec<&str> =
        answer["services"].as_array().unwrap().iter().filter_map(|s| s["service_id"].as_str()).collect();
    assert_eq!(settled, [services[0].as_str(), services[1].as_str()]);
    assert_eq!(stage.calls("Query"), 2, "one read of the grants per unit");

    // A record Lambda could not have sent (no sequence number) cannot be named in a partial
    // response: the batch is refused as a malformed event, before anything is read.
    let mut bad = records[2].clone();
    bad["dynamodb"].as_object_mut().unwrap().remove("SequenceNumber");
    stage.emu.clear_requests();
    let err = f.invoke(stream_event(vec![records[2].clone(), bad])).await.unwrap_err();
    assert_eq!(err.error_type, "NonRetryable.BadEvent", "{err}");
    assert!(stage.emu.requests().is_empty(), "{:?}", stage.emu.requests());
}
