//! Structured logs: one JSON object per line, as CloudWatch Logs Insights reads them, with the
//! fields of the spans around each event (the request's `request_id` and `trace_id` among them)
//! at the top level beside the event's own.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;

use crate::server::in_lambda;

/// Installs JSON logs through `tracing`, filtered by `RUST_LOG` (default `info`), and, where
/// `AWS_XRAY_DAEMON_ADDRESS` names an X-Ray daemon (Lambda with active tracing), DynamoDB
/// requests as X-Ray subsegments ([`crate::observe::XRayLayer`]), whatever the log level.
///
/// Call it once, first thing in `main`; a second call panics, as `tracing` allows one global
/// subscriber.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing::subscriber::set_global_default(subscriber(filter, in_lambda(), std::io::stdout))
        .expect("logging::init is called once");
}

/// JSON lines to `writer`; without timestamps under Lambda, as CloudWatch stamps every line
/// already.
fn subscriber<W>(filter: EnvFilter, lambda: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let logs = tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(Flat {
            timestamps: !lambda,
        })
        .with_writer(writer)
        .with_filter(filter);
    // Its own filter: the log level decides what is logged, not what is traced.
    let traces = crate::observe::XRayLayer::from_env().map(|layer| {
        layer.with_filter(tracing_subscriber::filter::filter_fn(|m| {
            m.name() == "dynamodb"
        }))
    });
    Box::new(tracing_subscriber::registry().with(logs).with(traces))
}

/// An event as one flat JSON object: `timestamp`, `level`, `target`, the fields of the spans it
/// happened in (outermost first, inner ones winning), then its own fields and `message`.
struct Flat {
    timestamps: bool,
}

impl<S, N> FormatEvent<S, N> for Flat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'w> FormatFields<'w> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut object = Map::new();
        if self.timestamps {
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            object.insert("timestamp".into(), now.into());
        }
        let metadata = event.metadata();
        object.insert("level".into(), metadata.level().as_str().into());
        object.insert("target".into(), metadata.target().into());
        if let Some(scope) = context.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                if let Ok(Value::Object(fields)) = serde_json::from_str(fields.fields.as_str()) {
                    object.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut object));
        writeln!(writer, "{}", Value::Object(object))
    }
}

/// An event's fields into the line's object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::sync::{Arc, Mutex};

    use serde_json::Value;

    use super::*;

    /// Lines written by the subscriber, kept for the test to read.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().write(buf)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// The JSON objects logged while `log` runs under a subscriber for `lambda` at `level`.
    fn logged(level: &str, lambda: bool, log: impl FnOnce()) -> Vec<Value> {
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = subscriber(EnvFilter::new(level), lambda, move || writer.clone());
        tracing::subscriber::with_default(subscriber, log);
        let text = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).expect("a JSON object per line"))
            .collect()
    }

    #[test]
    fn each_event_is_one_json_object_with_its_level_message_and_fields() {
        let logs = logged("info", false, || {
            tracing::info!(status = 201, "created");
            tracing::warn!("slow");
        });
        assert_eq!(logs.len(), 2, "{logs:?}");
        assert_eq!(logs[0]["level"], "INFO");
        assert_eq!(logs[0]["message"], "created");
        assert_eq!(logs[0]["status"], 201);
        assert_eq!(logs[1]["level"], "WARN");
        assert!(logs[0]["timestamp"].is_string(), "{:?}", logs[0]);
    }

    #[test]
    fn the_fields_of_enclosing_spans_are_on_every_line() {
        let logs = logged("info", false, || {
            let request = tracing::info_span!("request", request_id = "r-1", trace_id = "t-1");
            let _entered = request.enter();
            let call = tracing::info_span!("dynamodb", table = "Main", action = "GetItem");
            let _inner = call.enter();
            tracing::info!(items = 1, "read");
        });
        assert_eq!(logs.len(), 1, "{logs:?}");
        assert_eq!(logs[0]["request_id"], "r-1");
        assert_eq!(logs[0]["trace_id"], "t-1");
        assert_eq!(logs[0]["table"], "Main");
        assert_eq!(logs[0]["action"], "GetItem");
        assert_eq!(logs[0]["items"], 1);
        assert_eq!(logs[0]["message"], "read");
    }

    #[test]
    fn under_lambda_lines_carry_no_timestamp() {
        let logs = logged("info", true, || tracing::info!("hello"));
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0]["message"], "hello");
        assert!(logs[0].get("timestamp").is_none(), "{:?}", logs[0]);
    }

    #[test]
    fn events_below_the_filter_are_dropped() {
        let logs = logged("info", false, || {
            tracing::debug!("noise");
            tracing::error!("failed");
        });
        assert_eq!(logs.len(), 1, "{logs:?}");
        assert_eq!(logs[0]["level"], "ERROR");
    }
}
