//! DynamoDB requests as X-Ray subsegments. Under Lambda with `Tracing: Active`, Lambda records
//! the function's segment of each sampled request and runs an X-Ray daemon beside it
//! (`AWS_XRAY_DAEMON_ADDRESS`); each `dynamodb` span, once closed, is sent to that daemon as a
//! subsegment of the request's segment (the `Parent` of its trace header), so that X-Ray's
//! trace map shows each call with its table, action and outcome. Requests not sampled, and
//! spans outside a request, send nothing.
//! <https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html>

use std::net::{SocketAddr, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The parts of an `X-Amzn-Trace-Id` header a subsegment needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceHeader {
    pub root: String,
    pub parent: String,
    pub sampled: bool,
}

impl TraceHeader {
    /// `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
    pub(crate) fn parse(header: &str) -> Option<Self> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = false;
        for part in header.split(';') {
            match part.trim().split_once('=') {
                Some(("Root", v)) => root = Some(v.to_string()),
                Some(("Parent", v)) => parent = Some(v.to_string()),
                Some(("Sampled", v)) => sampled = v == "1",
                _ => {}
            }
        }
        Some(Self {
            root: root?,
            parent: parent?,
            sampled,
        })
    }
}

/// Sends closed `dynamodb` spans to an X-Ray daemon.
pub struct XRayLayer {
    socket: UdpSocket,
    daemon: SocketAddr,
}

impl XRayLayer {
    /// A layer sending to `AWS_XRAY_DAEMON_ADDRESS` (`host:port`, or Lambda's
    /// `tcp:host:port udp:host:port`), when it is set.
    pub fn from_env() -> Option<Self> {
        let address = std::env::var("AWS_XRAY_DAEMON_ADDRESS").ok()?;
        let udp = address
            .split_whitespace()
            .find_map(|a| a.strip_prefix("udp:"))
            .unwrap_or(&address);
        Self::to(udp.parse().ok()?)
    }

    /// A layer sending to the daemon at `daemon`.
    pub fn to(daemon: SocketAddr) -> Option<Self> {
        let local: SocketAddr = if daemon.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).ok()?;
        socket.set_nonblocking(true).ok()?;
        Some(Self { socket, daemon })
    }
}

/// What a `dynamodb` span recorded.
#[derive(Debug, Default)]
struct Call {
    start: f64,
    table: String,
    action: String,
    outcome: String,
}

impl Visit for Call {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "table" => self.table = value.to_string(),
            "action" => self.action = value.to_string(),
            "outcome" => self.outcome = value.to_string(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, format!("{value:?}").trim_matches('"'));
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl<S> Layer<S> for XRayLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if attrs.metadata().name() != "dynamodb" {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut call = Call {
            start: now(),
            ..Call::default()
        };
        attrs.record(&mut call);
        span.extensions_mut().insert(call);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(call) = extensions.get_mut::<Call>() {
            values.record(call);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(call) = span.extensions_mut().remove::<Call>() else {
            return;
        };
        let Some(trace) = super::trace_id().and_then(|t| TraceHeader::parse(&t)) else {
            return;
        };
        if !trace.sampled {
            return;
        }
        let document = subsegment(&call, &trace, now());
        let datagram = format!("{{\"format\": \"json\", \"version\": 1}}\n{document}");
        // Telemetry never fails a request: a full buffer or an absent daemon drops the segment.
        let _ = self.socket.send_to(datagram.as_bytes(), self.daemon);
    }
}

fn subsegment(call: &Call, trace: &TraceHeader, end: f64) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string()[..16].to_string();
    json!({
        "name": "DynamoDB",
        "id": id,
        "trace_id": trace.root,
        "parent_id": trace.parent,
        "type": "subsegment",
        "namespace": "aws",
        "start_time": call.start,
        "end_time": end,
        "aws": {"operation": call.action, "table_name": call.table},
        "error": call.outcome == "condition_failed" || call.outcome == "cancelled",
        "fault": call.outcome == "error",
        "metadata": {"apigen": {"outcome": call.outcome}},
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    #[test]
    fn a_trace_header_is_read_in_any_order() {
        let t = TraceHeader::parse(
            "Sampled=1;Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
        )
        .expect("a header");
        assert_eq!(t.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(t.parent, "53995c3f42cd8ad8");
        assert!(t.sampled);
        assert!(TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793").is_none());
    }

    /// A real UDP socket stands in for the daemon; the spans are those the store opens.
    #[tokio::test]
    async fn a_sampled_request_sends_its_dynamodb_calls_as_subsegments() {
        let daemon = UdpSocket::bind("127.0.0.1:0").expect("a socket");
        daemon
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("a timeout");
        let layer = XRayLayer::to(daemon.local_addr().expect("an address")).expect("a layer");
        let subscriber = tracing_subscriber::registry().with(layer);
        let _default = tracing::subscriber::set_default(subscriber);
        let call = |header: &'static str| {
            let scope = Arc::new(super::super::Scope::for_test(header));
            super::super::SCOPE.scope(scope, async {
                let span = tracing::info_span!(
                    "dynamodb",
                    table = "shop-Main",
                    action = "PutItem",
                    outcome = tracing::field::Empty
                );
                span.record("outcome", "condition_failed");
                drop(span);
            })
        };
        call("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1").await;
        let mut buffer = [0u8; 4096];
        let n = daemon.recv(&mut buffer).expect("a datagram");
        let text = std::str::from_utf8(&buffer[..n]).expect("text");
        let (header, body) = text.split_once('\n').expect("a header line");
        assert_eq!(header, r#"{"format": "json", "version": 1}"#);
        let segment: serde_json::Value = serde_json::from_str(body).expect("JSON");
        assert_eq!(segment["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(segment["parent_id"], "53995c3f42cd8ad8");
        assert_eq!(segment["type"], "subsegment");
        assert_eq!(segment["aws"]["operation"], "PutItem");
        assert_eq!(segment["aws"]["table_name"], "shop-Main");
        assert_eq!(segment["error"], true);
        assert_eq!(segment["fault"], false);
        assert_eq!(segment["id"].as_str().map(str::len), Some(16));
        assert!(segment["end_time"].as_f64() >= segment["start_time"].as_f64());
        // Not sampled: nothing is sent.
        call("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0").await;
        daemon
            .set_read_timeout(Some(Duration::from_millis(300)))
            .expect("a timeout");
        assert!(
            daemon.recv(&mut buffer).is_err(),
            "an unsampled request sends nothing"
        );
    }
}
