//! Reading what vpcwarden publishes, exactly as a consumer would: an event bus, a rule on it
//! (`source: vpcwarden`) with an SQS queue as its target, and the queue drained. Every event read
//! is checked against its JSON Schema in `shared/schemas/events/` with a real validator.
use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::{http, stage::Stage, ACCOUNT, REGION};

/// A bus with a rule delivering vpcwarden's events to a queue.
pub struct Consumer {
    pub bus: String,
    pub queue_url: String,
    pub queue_arn: String,
    port: u16,
}

/// One SQS JSON-protocol call to the emulator (the queue is the consumer's, not vpcwarden's).
fn sqs(port: u16, action: &str, body: Value) -> Value {
    let target = format!("AmazonSQS.{action}");
    let auth =
        "AWS4-HMAC-SHA256 Credential=consumer/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0";
    let headers =
        [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", target.as_str()), ("Authorization", auth)];
    let answer = http::request_with(port, "POST", "/", &headers, Some(body.to_string().as_bytes()))
        .unwrap_or_else(|e| panic!("SQS {action}: {e}"));
    assert_eq!(answer.status, 200, "SQS {action}: {}", answer.text());
    serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
}

impl Consumer {
    /// Creates bus `bus` (unless it is `default`), a queue, and a rule `pattern` → queue.
    pub async fn new(stage: &Stage, bus: &str) -> Consumer {
        Consumer::with_pattern(stage, bus, json!({"source": ["vpcwarden"]}), None).await
    }

    /// A consumer whose rule has this pattern, and an `InputTransformer` when given
    /// (`{"InputPathsMap": {...}, "InputTemplate": "..."}`).
    pub async fn with_pattern(stage: &Stage, bus: &str, pattern: Value, transformer: Option<Value>) -> Consumer {
        let events = aws_sdk_eventbridge::Client::new(&stage.aws.config(ACCOUNT, REGION).await);
        if bus != "default" && events.describe_event_bus().name(bus).send().await.is_err() {
            events.create_event_bus().name(bus).send().await.expect("CreateEventBus");
        }
        let port = stage.emu.port;
        let name =
            format!("q-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
        let queue_url = sqs(port, "CreateQueue", json!({"QueueName": name}))["QueueUrl"].as_str().unwrap().to_string();
        let queue_arn = format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}");
        let rule = format!("r-{name}");
        events
            .put_rule()
            .name(&rule)
            .event_bus_name(bus)
            .event_pattern(pattern.to_string())
            .send()
            .await
            .expect("PutRule");
        let mut target = aws_sdk_eventbridge::types::Target::builder().id("queue").arn(&queue_arn);
        if let Some(t) = transformer {
            let mut it = aws_sdk_eventbridge::types::InputTransformer::builder()
                .input_template(t["InputTemplate"].as_str().expect("InputTemplate"));
            for (k, v) in t["InputPathsMap"].as_object().into_iter().flatten() {
                it = it.input_paths_map(k, v.as_str().unwrap());
            }
            target = target.input_transformer(it.build().unwrap());
        }
        events
            .put_targets()
            .rule(&rule)
            .event_bus_name(bus)
            .targets(target.build().unwrap())
            .send()
            .await
            .expect("PutTargets");
        Consumer { bus: bus.to_string(), queue_url, queue_arn, port }
    }

    /// Every message waiting in the queue (bodies as delivered), removing them.
    pub fn drain_raw(&self) -> Vec<String> {
        let mut bodies = Vec::new();
        loop {
            let out = sqs(self.port, "ReceiveMessage", json!({"QueueUrl": self.queue_url, "MaxNumberOfMessages": 10}));
            let messages = out["Messages"].as_array().cloned().unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for m in messages {
                bodies.push(m["Body"].as_str().unwrap_or_default().to_string());
                sqs(
                    self.port,
                    "DeleteMessage",
                    json!({"QueueUrl": self.queue_url, "ReceiptHandle": m["ReceiptHandle"]}),
                );
            }
        }
    }

    /// Every event waiting, each valid against its schema (panics naming the first that is not).
    pub fn drain(&self) -> Vec<Value> {
        let events: Vec<Value> =
            self.drain_raw().iter().map(|b| serde_json::from_str(b).expect("an event is JSON")).collect();
        for e in &events {
            assert_eq!(e["source"], "vpcwarden", "{e:#}");
            let errors = schema_errors(e["detail-type"].as_str().unwrap_or_default(), &e["detail"]);
            assert!(errors.is_empty(), "{} is not valid against its schema: {errors:?}\n{e:#}", e["detail-type"]);
        }
        events
    }
}

/// Why `detail` is not valid against the schema of `detail_type` (empty: it is).
pub fn schema_errors(detail_type: &str, detail: &Value) -> Vec<String> {
    let file = format!("{}.schema.json", detail_type.to_ascii_lowercase().replace(' ', "-"));
    let path = crate::workspace_root().join("shared/schemas/events").join(&file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let schema: Value = serde_json::from_str(&text).expect("a schema is JSON");
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).expect("a valid schema");
    validator.iter_errors(detail).map(|e| format!("{e} at {}", e.instance_path)).collect()
}

/// `(detail-type, decision or finding code, subject)` of each event, counted: what a test
/// compares.
pub fn summary(events: &[Value]) -> BTreeMap<(String, String, String), usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        let d = &e["detail"];
        let what = d["decision"].as_str().or(d["code"].as_str()).or(d["kind"].as_str()).unwrap_or("").to_string();
        let subject = d["pcx"]
            .as_str()
            .or(d["endpoint"].as_str())
            .or(d["request"].as_str())
            .or(d["finding_id"].as_str())
            .or(d["service"].as_str())
            .unwrap_or("")
            .to_string();
        *counts.entry((e["detail-type"].as_str().unwrap_or("").to_string(), what, subject)).or_insert(0) += 1;
    }
    counts
}
