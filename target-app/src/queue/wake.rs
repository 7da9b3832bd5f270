//! Cross-process wake-ups for the SQLite queue: SQLite has no NOTIFY, but every commit by any
//! process appends to the database's `-wal` file, and Linux reports that through inotify. The
//! worker waits for such an event (or the poll interval, as a fallback) before looking again.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt as _;
use inotify::{Inotify, WatchMask};
use tokio::sync::Notify;

/// The database file of a `sqlite:` URL, or `None` for an in-memory database.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// Signals `notify` whenever `<db>-wal` (or the database itself) is written. Returns an error
/// when inotify is unavailable; the caller then falls back to polling.
pub fn watch_wal(db: &Path, notify: Arc<Notify>) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let dir = match db.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let file = db
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let wal = format!("{file}-wal");
    let inotify = Inotify::init()?;
    inotify
        .watches()
        .add(&dir, WatchMask::MODIFY | WatchMask::CREATE)?;
    let mut events = inotify.into_event_stream([0_u8; 4096])?;
    Ok(tokio::spawn(async move {
        while let Some(Ok(event)) = events.next().await {
            let name = event.name.as_deref().map(|n| n.to_string_lossy());
            if name.as_deref() == Some(wal.as_str()) || name.as_deref() == Some(file.as_str()) {
                notify.notify_one();
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_from_urls() {
        assert_eq!(
            sqlite_path("sqlite://app.db"),
            Some(PathBuf::from("app.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///tmp/a.db?mode=rwc"),
            Some(PathBuf::from("/tmp/a.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x"), None);
    }

    #[tokio::test]
    async fn a_write_to_the_wal_wakes_the_waiter() {
        let dir = std::env::temp_dir().join(format!("wake-{:x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("q.db");
        let notify = Arc::new(Notify::new());
        let task = watch_wal(&db, notify.clone()).unwrap();
        std::fs::write(dir.join("q.db-wal"), b"x").unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), notify.notified())
            .await
            .expect("no wake-up after a WAL write");
        task.abort();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
