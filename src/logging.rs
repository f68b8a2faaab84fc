//! tracing setup: pretty on a terminal, JSON when configured. RUST_LOG overrides the level.
//! Panics are logged through it too, by where they happened: a panic message may quote the input
//! that caused it (a third-party parser's does), and logs must carry no patient data.

use crate::config::{LogConfig, LogFormat};
use std::panic::{Location, PanicHookInfo};
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
    let messages = cfg.panic_messages;
    std::panic::set_hook(Box::new(move |info| log_panic(info, messages)));
}

fn log_panic(info: &PanicHookInfo<'_>, messages: bool) {
    let thread = std::thread::current();
    let message = messages.then(|| payload_text(info.payload()));
    // Only when RUST_BACKTRACE asked for one: otherwise the field would say "disabled backtrace".
    let backtrace = std::backtrace::Backtrace::capture();
    let backtrace = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
        .then(|| tracing::field::display(backtrace));
    tracing::error!(
        thread = thread.name().unwrap_or("unnamed"),
        backtrace,
        "{}",
        describe(info.location(), message.as_deref())
    );
}

/// What is logged of a panic: where, and the message only when asked for.
fn describe(location: Option<&Location<'_>>, message: Option<&str>) -> String {
    let at = location.map_or_else(|| "an unknown place".to_owned(), |l| l.to_string());
    match message {
        Some(m) => format!("panic at {at}: {m}"),
        None => format!("panic at {at} (message withheld: [log] panic_messages)"),
    }
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(not text)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_logged_by_place_and_its_message_only_when_asked() {
        let here = Location::caller();
        let quiet = describe(Some(here), None);
        assert!(quiet.starts_with(&format!("panic at {here}")), "{quiet}");
        assert!(quiet.contains("withheld"), "{quiet}");
        let told = describe(Some(here), Some("Nordmann, Kari"));
        assert!(told.ends_with(": Nordmann, Kari"), "{told}");
    }

    #[test]
    fn a_payload_is_read_as_text_whichever_string_it_is() {
        let caught = std::panic::catch_unwind(|| std::panic::panic_any(String::from("owned")));
        let payload = caught.expect_err("it panicked");
        assert_eq!(payload_text(payload.as_ref()), "owned");
        let payload: Box<dyn std::any::Any + Send> = Box::new("borrowed");
        assert_eq!(payload_text(payload.as_ref()), "borrowed");
        let payload: Box<dyn std::any::Any + Send> = Box::new(7_u8);
        assert_eq!(payload_text(payload.as_ref()), "(not text)");
    }
}
