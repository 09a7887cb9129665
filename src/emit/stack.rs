//! What `template.yaml` deploys to run the API in production: the stage and its parameters,
//! CORS, throttling, access logs, log groups with a retention, alarms on what pages people, the
//! topic they notify, and a dashboard of the same figures.

use serde::Serialize;
use serde_json::{json, Value};

use super::template::{Parameter, Sam};
use crate::model::edge::{cors_rules, CorsRules, LOG_LEVELS, RETENTION_DAYS};
use crate::model::{Api, ApiKind};

#[derive(Debug, Serialize)]
pub struct Stack {
    pub parameters: Vec<Parameter>,
    /// Per table: its physical-name parameter and the condition that one was given.
    pub table_names: Vec<TableName>,
    pub cors: Option<CorsRules>,
    /// Routes with limits of their own.
    pub route_throttles: Vec<RouteThrottle>,
    /// One JSON object per request in the access log.
    pub access_log_format: String,
    pub alarms: Option<AlarmsView>,
    /// The dashboard's body, for `!Sub`, indented as the template's block scalar.
    pub dashboard: String,
}

#[derive(Debug, Serialize)]
pub struct TableName {
    pub resource: String,
    pub parameter: String,
    pub condition: String,
}

#[derive(Debug, Serialize)]
pub struct RouteThrottle {
    /// An HTTP API's route key: `GET /orders/{id}`.
    pub route_key: String,
    /// A REST API's method setting path: `/`, then the path with each `/` written `~1`.
    pub resource_path: String,
    pub method: String,
    pub rate: f64,
    pub burst: u64,
}

#[derive(Debug, Serialize)]
pub struct AlarmsView {
    pub error_rate: f64,
    pub latency_p99: u64,
    /// Every function of the stack, with the duration its p99 may reach.
    pub functions: Vec<FunctionAlarm>,
    pub tables: Vec<TableAlarm>,
}

#[derive(Debug, Serialize)]
pub struct FunctionAlarm {
    pub resource: String,
    pub duration_ms: u64,
}

#[derive(Debug, Serialize)]
pub struct TableAlarm {
    pub resource: String,
    /// The DynamoDB operations the stack calls on the table (metric dimensions), at most ten
    /// per alarm, as an alarm's expression reads ten metrics at most.
    pub operation_groups: Vec<Vec<&'static str>>,
}

pub fn stack(api: &Api, sam: &Sam, tables: &[(String, Vec<&'static str>)]) -> Stack {
    let edge = &api.edge;
    let rest = api.settings.api == ApiKind::Rest;
    let mut parameters = vec![
        Parameter::text(
            "Stage",
            Some(&edge.stage),
            "The API stage's name (an HTTP API's `$default` serves at its root)",
        ),
        Parameter {
            allowed: LOG_LEVELS.iter().map(|l| l.to_string()).collect(),
            ..Parameter::text(
                "LogLevel",
                Some(&edge.logs.level),
                "The functions' RUST_LOG: the least severe level logged",
            )
        },
        Parameter {
            kind: "Number",
            allowed: RETENTION_DAYS.iter().map(u64::to_string).collect(),
            ..Parameter::text(
                "LogRetentionDays",
                Some(&edge.logs.retention_days.to_string()),
                "Days CloudWatch Logs keeps the functions' logs and the access log",
            )
        },
        Parameter {
            kind: "Number",
            ..Parameter::text(
                "ThrottlingRateLimit",
                Some(&number(edge.throttling.stage.rate)),
                "Requests per second the stage serves, sustained, before answering 429",
            )
        },
        Parameter {
            kind: "Number",
            ..Parameter::text(
                "ThrottlingBurstLimit",
                Some(&edge.throttling.stage.burst.to_string()),
                "Requests the stage serves at once before answering 429",
            )
        },
    ];
    let table_names: Vec<TableName> = api
        .tables
        .iter()
        .map(|t| TableName {
            resource: t.resource.clone(),
            parameter: format!("{}PhysicalName", t.resource),
            condition: format!("Has{}PhysicalName", t.resource),
        })
        .collect();
    for (t, name) in api.tables.iter().zip(&table_names) {
        parameters.push(Parameter::text(
            &name.parameter,
            Some(""),
            &format!(
                "The name of DynamoDB table {}; empty lets CloudFormation name it",
                t.name
            ),
        ));
    }
    if let Some(alarms) = &edge.alarms {
        parameters.push(Parameter::text(
            "AlarmEmail",
            Some(alarms.email.as_deref().unwrap_or("")),
            "Where alarms are mailed (SNS asks it to confirm first); empty subscribes no one",
        ));
    }
    let cors = cors_rules(api);
    let route_throttles = edge
        .throttling
        .operations
        .iter()
        .filter_map(|&(i, limits)| {
            let op = &api.operations[i];
            let event = sam
                .events
                .iter()
                .find(|e| e.path == op.route && e.method == op.method.upper())?;
            Some(RouteThrottle {
                route_key: format!("{} {}", event.method, event.path),
                resource_path: match event.path.as_str() {
                    "/" => "/".to_string(),
                    path => format!("/{}", path.replace('/', "~1")),
                },
                method: event.method.clone(),
                rate: limits.rate,
                burst: limits.burst,
            })
        })
        .collect();
    let alarms = edge.alarms.as_ref().map(|a| {
        let function = |resource: &str, timeout: u64| FunctionAlarm {
            resource: resource.to_string(),
            duration_ms: timeout * 1000 * a.duration_percent / 100,
        };
        let mut functions: Vec<FunctionAlarm> = api
            .functions
            .iter()
            .map(|f| function(&f.resource, api.settings.timeout))
            .collect();
        functions.extend(
            sam.functions
                .iter()
                .map(|f| function(&f.resource, u64::from(f.timeout))),
        );
        functions.extend(
            websocket_functions(sam)
                .into_iter()
                .map(|(resource, timeout)| function(&resource, timeout)),
        );
        AlarmsView {
            error_rate: a.error_rate,
            latency_p99: a.latency_p99,
            functions,
            tables: tables
                .iter()
                .map(|(resource, actions)| TableAlarm {
                    resource: resource.clone(),
                    operation_groups: metric_operations(actions)
                        .chunks(10)
                        .map(<[_]>::to_vec)
                        .collect(),
                })
                .filter(|t| !t.operation_groups.is_empty())
                .collect(),
        }
    });
    let function_resources: Vec<String> = api
        .functions
        .iter()
        .map(|f| f.resource.clone())
        .chain(sam.functions.iter().map(|f| f.resource.clone()))
        .chain(
            websocket_functions(sam)
                .into_iter()
                .map(|(resource, _)| resource),
        )
        .collect();
    let table_resources: Vec<&str> = tables.iter().map(|(r, _)| r.as_str()).collect();
    Stack {
        parameters,
        table_names,
        cors,
        route_throttles,
        access_log_format: access_log_format(rest),
        alarms,
        dashboard: dashboard(rest, &function_resources, &table_resources),
    }
}

/// A number as CloudFormation reads it: `10`, not `10.0`.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The operations DynamoDB publishes `SystemErrors` for, of the IAM actions the stack uses.
fn metric_operations(actions: &[&'static str]) -> Vec<&'static str> {
    actions
        .iter()
        .copied()
        .filter(|a| {
            [
                "GetItem",
                "PutItem",
                "UpdateItem",
                "DeleteItem",
                "Query",
                "Scan",
                "BatchGetItem",
                "BatchWriteItem",
                "TransactWriteItems",
                "TransactGetItems",
            ]
            .contains(a)
        })
        .collect()
}

/// One JSON object per request: who called what, how it ended and how long it took.
fn access_log_format(rest: bool) -> String {
    let fields: &[(&str, &str)] = if rest {
        &[
            ("requestId", "$context.requestId"),
            ("time", "$context.requestTimeEpoch"),
            ("ip", "$context.identity.sourceIp"),
            ("method", "$context.httpMethod"),
            ("route", "$context.resourcePath"),
            ("path", "$context.path"),
            ("status", "$context.status"),
            ("latency", "$context.responseLatency"),
            ("integrationLatency", "$context.integrationLatency"),
            ("responseLength", "$context.responseLength"),
            ("caller", "$context.authorizer.principalId"),
            ("subject", "$context.authorizer.claims.sub"),
            ("iamCaller", "$context.identity.userArn"),
            ("apiKeyId", "$context.identity.apiKeyId"),
            ("integrationError", "$context.integration.error"),
            ("authorizerError", "$context.authorizer.error"),
            ("traceId", "$context.xrayTraceId"),
        ]
    } else {
        &[
            ("requestId", "$context.requestId"),
            ("time", "$context.requestTimeEpoch"),
            ("ip", "$context.identity.sourceIp"),
            ("method", "$context.httpMethod"),
            ("route", "$context.routeKey"),
            ("path", "$context.path"),
            ("status", "$context.status"),
            ("latency", "$context.responseLatency"),
            ("integrationLatency", "$context.integrationLatency"),
            ("responseLength", "$context.responseLength"),
            ("caller", "$context.authorizer.principalId"),
            ("subject", "$context.authorizer.claims.sub"),
            ("iamCaller", "$context.identity.userArn"),
            ("integrationError", "$context.integrationErrorMessage"),
            ("authorizerError", "$context.authorizer.error"),
        ]
    };
    let object: serde_json::Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    Value::Object(object).to_string()
}

/// The WebSocket API's functions and their timeouts.
fn websocket_functions(sam: &Sam) -> Vec<(String, u64)> {
    let Some(ws) = &sam.websocket else {
        return Vec::new();
    };
    let mut out = vec![("WebSocketFunction".to_string(), ws.timeout)];
    if ws.authorizer.as_ref().is_some_and(|a| a.issuer.is_some()) {
        out.push(("WebSocketAuthorizerFunction".to_string(), 10));
    }
    if !ws.streams.is_empty() {
        out.push(("ChangesFunction".to_string(), ws.timeout));
    }
    out
}

/// The dashboard: the API, the functions, the tables, and the service's own metrics per
/// operation. `${...}` are for `!Sub`.
fn dashboard(rest: bool, functions: &[String], tables: &[&str]) -> String {
    let api: Vec<&str> = if rest {
        vec!["ApiName", "${AWS::StackName}"]
    } else {
        vec!["ApiId", "${HttpApi}"]
    };
    let (requests, client, server) = if rest {
        ("Count", "4XXError", "5XXError")
    } else {
        ("Count", "4xx", "5xx")
    };
    let gateway = |metric: &str, stat: &str| {
        let mut m: Vec<Value> = vec!["AWS/ApiGateway".into(), metric.into()];
        m.extend(api.iter().map(|s| Value::from(*s)));
        m.push(json!({"stat": stat}));
        Value::Array(m)
    };
    let per_function = |metric: &str, stat: &str| -> Vec<Value> {
        functions
            .iter()
            .map(|f| json!(["AWS/Lambda", metric, "FunctionName", format!("${{{f}}}"), {"stat": stat}]))
            .collect()
    };
    let per_table = |metric: &str| -> Vec<Value> {
        tables
            .iter()
            .map(|t| json!(["AWS/DynamoDB", metric, "TableName", format!("${{{t}}}"), {"stat": "Sum"}]))
            .collect()
    };
    let search = |metric: &str, stat: &str| {
        json!([[{
            "expression": format!(
                "SEARCH('{{${{AWS::StackName}},Operation}} MetricName=\"{metric}\"', '{stat}', 300)"
            ),
            "id": metric.to_lowercase(),
        }]])
    };
    let mut widgets: Vec<(String, Value)> = vec![
        (
            "Requests and errors".into(),
            json!([
                gateway(requests, "Sum"),
                gateway(client, "Sum"),
                gateway(server, "Sum")
            ]),
        ),
        (
            "Latency (ms)".into(),
            json!([gateway("Latency", "p50"), gateway("Latency", "p99")]),
        ),
        (
            "Function errors and throttles".into(),
            Value::Array(
                [
                    per_function("Errors", "Sum"),
                    per_function("Throttles", "Sum"),
                ]
                .concat(),
            ),
        ),
        (
            "Function duration p99 (ms)".into(),
            Value::Array(per_function("Duration", "p99")),
        ),
        (
            "Latency p99 by operation (ms)".into(),
            search("Latency", "p99"),
        ),
        (
            "DynamoDB requests by operation".into(),
            search("DynamoDBRequests", "Sum"),
        ),
        (
            "Condition failures by operation".into(),
            search("ConditionFailures", "Sum"),
        ),
        ("Faults (5xx) by operation".into(), search("Fault", "Sum")),
    ];
    if !tables.is_empty() {
        widgets.push((
            "DynamoDB capacity".into(),
            Value::Array(
                [
                    per_table("ConsumedReadCapacityUnits"),
                    per_table("ConsumedWriteCapacityUnits"),
                ]
                .concat(),
            ),
        ));
        widgets.push((
            "DynamoDB throttles".into(),
            Value::Array(
                [
                    per_table("ReadThrottleEvents"),
                    per_table("WriteThrottleEvents"),
                ]
                .concat(),
            ),
        ));
    }
    let widgets: Vec<Value> = widgets
        .into_iter()
        .enumerate()
        .map(|(i, (title, metrics))| {
            json!({
                "type": "metric",
                "x": (i % 2) * 12,
                "y": (i / 2) * 6,
                "width": 12,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": "${AWS::Region}",
                    "view": "timeSeries",
                    "period": 300,
                    "metrics": metrics,
                },
            })
        })
        .collect();
    // A block scalar in the template: eight spaces in, as YAML reads it back.
    let pretty = serde_json::to_string_pretty(&json!({ "widgets": widgets })).unwrap_or_default();
    pretty
        .lines()
        .map(|line| format!("        {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}
