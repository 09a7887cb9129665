//! Structured logs: one JSON object per line, as CloudWatch Logs Insights reads them.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::server::in_lambda;

/// Installs JSON logs through `tracing`, filtered by `RUST_LOG` (default `info`).
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
    let logs = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(writer);
    if lambda {
        Box::new(logs.without_time().finish())
    } else {
        Box::new(logs.finish())
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
        assert_eq!(logs[0]["fields"]["message"], "created");
        assert_eq!(logs[0]["fields"]["status"], 201);
        assert_eq!(logs[1]["level"], "WARN");
        assert!(logs[0]["timestamp"].is_string(), "{:?}", logs[0]);
    }

    #[test]
    fn under_lambda_lines_carry_no_timestamp() {
        let logs = logged("info", true, || tracing::info!("hello"));
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0]["fields"]["message"], "hello");
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
