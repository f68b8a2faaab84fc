//! tracing setup: pretty on a terminal, JSON when configured. RUST_LOG overrides the level.

use crate::config::{LogConfig, LogFormat};
use tracing_subscriber::EnvFilter;

pub fn init(cfg: &LogConfig) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if cfg.format == LogFormat::Json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
