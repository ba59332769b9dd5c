//! The bridge's diagnostics on stderr through `tracing` and
//! `tracing-subscriber` (time, level, message), filtered by `--log-level`.
//! The sans-I/O sessions hand their lines up as [`Level`] and text
//! (`Action::Log`); [`log`] passes them on.

use std::sync::Once;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "error" => Level::Error,
            "warn" => Level::Warn,
            "info" => Level::Info,
            "debug" => Level::Debug,
            _ => return None,
        })
    }

    fn tracing(self) -> tracing::Level {
        match self {
            Level::Error => tracing::Level::ERROR,
            Level::Warn => tracing::Level::WARN,
            Level::Info => tracing::Level::INFO,
            Level::Debug => tracing::Level::DEBUG,
        }
    }
}

/// Installs the stderr subscriber with `l` as the most verbose level (once;
/// later calls change nothing).
pub fn set_level(l: Level) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_max_level(l.tracing())
            .with_target(false)
            .try_init();
    });
}

/// Writes one line at `l` (tracing's macros want the level as a constant).
pub fn log(l: Level, msg: &str) {
    match l {
        Level::Error => tracing::error!("{msg}"),
        Level::Warn => tracing::warn!("{msg}"),
        Level::Info => tracing::info!("{msg}"),
        Level::Debug => tracing::debug!("{msg}"),
    }
}

macro_rules! log_error { ($($t:tt)*) => { tracing::error!($($t)*) } }
macro_rules! log_warn { ($($t:tt)*) => { tracing::warn!($($t)*) } }
macro_rules! log_info { ($($t:tt)*) => { tracing::info!($($t)*) } }
macro_rules! log_debug { ($($t:tt)*) => { tracing::debug!($($t)*) } }
