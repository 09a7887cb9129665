//! Structured logs: one JSON object per line, as CloudWatch Logs Insights reads them.

use crate::server::in_lambda;

/// Installs JSON logs through `tracing`, filtered by `RUST_LOG` (default `info`).
///
/// Call it once, first thing in `main`; a second call panics, as `tracing` allows one global
/// subscriber.
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_ansi(false);
    if in_lambda() {
        // CloudWatch stamps every line already.
        logs.without_time().init();
    } else {
        logs.init();
    }
}
