//! The `log` logger, installed before goose's: goose would otherwise install its own, which
//! prints a warning for every failed request. Failures are counted by the recorder instead.

struct Quiet;

impl log::Log for Quiet {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::Level::Error
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) && !record.target().starts_with("goose") {
            eprintln!("otelbench: {}: {}", record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

static QUIET: Quiet = Quiet;

/// Installs the logger (once; later calls do nothing).
pub fn install() {
    if log::set_logger(&QUIET).is_ok() {
        log::set_max_level(log::LevelFilter::Error);
    }
}
