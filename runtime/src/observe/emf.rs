//! One CloudWatch Embedded Metric Format line per request: CloudWatch Logs turns it into
//! metrics as it stores it, so dashboards and alarms need no agent and no API call.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>

use std::io::Write as _;
use std::sync::LazyLock;

use serde_json::json;

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

pub(super) fn render(line: &Line<'_>, namespace: &str, timestamp_ms: i64) -> String {
    let metrics: Vec<_> = METRIC_UNITS
        .iter()
        .map(|(name, unit)| json!({"Name": name, "Unit": unit}))
        .collect();
    let class = format!("{}xx", line.status / 100);
    let mut document = json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [["Operation"]],
                "Metrics": metrics,
            }],
        },
        "Operation": line.operation,
        "StatusClass": class,
        "Status": line.status,
        "Latency": (line.latency_ms * 1000.0).round() / 1000.0,
        "Fault": u8::from(line.status >= 500),
        "ClientError": u8::from((400..500).contains(&line.status)),
        "DynamoDBRequests": line.usage.requests,
        "ConsumedCapacity": line.usage.consumed_capacity,
        "ConditionFailures": line.usage.condition_failures,
        "requestId": line.request_id,
    });
    if let Some(trace_id) = line.trace_id {
        document["traceId"] = json!(trace_id);
    }
    document.to_string()
}

/// Writes the line to stdout, where Lambda sends it to CloudWatch Logs; in one write, so that
/// it is never interleaved with a log line.
pub(super) fn write(line: &Line<'_>) {
    let config = &*METRICS;
    if !config.enabled {
        return;
    }
    let mut text = render(
        line,
        &config.namespace,
        chrono::Utc::now().timestamp_millis(),
    );
    text.push('\n');
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}
