//! One CloudWatch Embedded Metric Format line per request: CloudWatch Logs turns it into
//! metrics as it stores it, so dashboards and alarms need no agent and no API call.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use std::io::Write as _;
use std::sync::LazyLock;

use serde::Serialize;
use serde_json::value::RawValue;

use super::Usage;

/// The operation of a request no route matched.
pub(super) const UNROUTED: &str = "unrouted";

/// Where metric lines go, from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricsConfig {
    /// `APIGEN_METRICS_NAMESPACE`: the CloudWatch namespace (the template sets the stack's
    /// name); `apigen` when unset.
    pub namespace: String,
    /// `APIGEN_METRICS=off` writes no metric lines.
    pub enabled: bool,
}

impl MetricsConfig {
    fn from_env() -> Self {
        Self {
            namespace: std::env::var("APIGEN_METRICS_NAMESPACE")
                .ok()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "apigen".to_owned()),
            enabled: std::env::var("APIGEN_METRICS").map_or(true, |v| v != "off"),
        }
    }
}

/// The process's metric settings, read once.
pub static METRICS: LazyLock<MetricsConfig> = LazyLock::new(MetricsConfig::from_env);

/// What a request's line reports.
pub(super) struct Line<'a> {
    pub operation: &'a str,
    pub status: u16,
    pub latency_ms: f64,
    pub usage: Usage,
    pub request_id: &'a str,
    pub trace_id: Option<&'a str>,
}

/// The metrics and their units, in the order of the line's `Metrics`. Only `Operation` is a
/// dimension: each dimension value is a metric CloudWatch bills monthly, and the status class
/// is in `Fault` and `ClientError` already (and in the line, for Logs Insights).
const METRIC_UNITS: [(&str, &str); 6] = [
    ("Latency", "Milliseconds"),
    ("Fault", "Count"),
    ("ClientError", "Count"),
    ("DynamoDBRequests", "Count"),
    ("ConsumedCapacity", "Count"),
    ("ConditionFailures", "Count"),
];

/// The line as CloudWatch reads it; serialised straight from borrowed fields, since it is
/// written once per request. The directive is the same on every line, so it is serialised once
/// per process ([`directive`]) and copied in.
#[derive(Serialize)]
struct Document<'a> {
    #[serde(rename = "_aws")]
    aws: Aws<'a>,
    #[serde(rename = "Operation")]
    operation: &'a str,
    #[serde(rename = "StatusClass")]
    status_class: &'a str,
    #[serde(rename = "Status")]
    status: u16,
    #[serde(rename = "Latency")]
    latency: f64,
    #[serde(rename = "Fault")]
    fault: u8,
    #[serde(rename = "ClientError")]
    client_error: u8,
    #[serde(rename = "DynamoDBRequests")]
    dynamodb_requests: u32,
    #[serde(rename = "ConsumedCapacity")]
    consumed_capacity: f64,
    #[serde(rename = "ConditionFailures")]
    condition_failures: u32,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(rename = "traceId", skip_serializing_if = "Option::is_none")]
    trace_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Aws<'a> {
    timestamp: i64,
    cloud_watch_metrics: &'a RawValue,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Directive<'a> {
    namespace: &'a str,
    dimensions: [[&'static str; 1]; 1],
    metrics: [Metric; METRIC_UNITS.len()],
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Metric {
    name: &'static str,
    unit: &'static str,
}

const STATUS_CLASSES: [&str; 6] = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

/// The `CloudWatchMetrics` directive of every line in `namespace`.
pub(super) fn directive(namespace: &str) -> Box<RawValue> {
    let directive = [Directive {
        namespace,
        dimensions: [["Operation"]],
        metrics: METRIC_UNITS.map(|(name, unit)| Metric { name, unit }),
    }];
    serde_json::value::to_raw_value(&directive).expect("a directive serialises")
}

/// The directive of the process's namespace.
static DIRECTIVE: LazyLock<Box<RawValue>> = LazyLock::new(|| directive(&METRICS.namespace));

pub(super) fn render(line: &Line<'_>, directive: &RawValue, timestamp_ms: i64) -> String {
    let class = usize::from(line.status / 100);
    let owned_class;
    let status_class = match STATUS_CLASSES.get(class) {
        Some(known) => *known,
        None => {
            owned_class = format!("{class}xx");
            &owned_class
        }
    };
    let document = Document {
        aws: Aws {
            timestamp: timestamp_ms,
            cloud_watch_metrics: directive,
        },
        operation: line.operation,
        status_class,
        status: line.status,
        latency: (line.latency_ms * 1000.0).round() / 1000.0,
        fault: u8::from(line.status >= 500),
        client_error: u8::from((400..500).contains(&line.status)),
        dynamodb_requests: line.usage.requests,
        consumed_capacity: line.usage.consumed_capacity,
        condition_failures: line.usage.condition_failures,
        request_id: line.request_id,
        trace_id: line.trace_id,
    };
    serde_json::to_string(&document).expect("a metric line serialises")
}

/// Writes the line to stdout, where Lambda sends it to CloudWatch Logs; in one write, so that
/// it is never interleaved with a log line.
pub(super) fn write(line: &Line<'_>) {
    let config = &*METRICS;
    if !config.enabled {
        return;
    }
    let mut text = render(line, &DIRECTIVE, chrono::Utc::now().timestamp_millis());
    text.push('\n');
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
