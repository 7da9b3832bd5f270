//! Ctrl-C and SIGTERM. The handler is installed before the first goose attack: goose installs
//! its own otherwise, which exits the process on a second Ctrl-C and would orphan the targets.

use std::sync::OnceLock;

use tokio::sync::watch;

static INTERRUPT: OnceLock<watch::Sender<bool>> = OnceLock::new();

/// Installs the process-wide handler (once) and returns a receiver that turns true on the first
/// Ctrl-C or SIGTERM.
pub fn install() -> watch::Receiver<bool> {
    let tx = INTERRUPT.get_or_init(|| {
        let (tx, _) = watch::channel(false);
        let handler_tx = tx.clone();
        if let Err(e) = ctrlc::set_handler(move || {
            if *handler_tx.borrow() {
                eprintln!("\notelbench: still stopping the targets; please wait");
            } else {
                eprintln!("\notelbench: interrupted: stopping the current run and its processes");
            }
            let _ = handler_tx.send(true);
        }) {
            eprintln!("otelbench: warning: cannot install the Ctrl-C handler: {e}");
        }
        tx
    });
    tx.subscribe()
}

/// Resolves once `rx` has seen an interrupt.
pub async fn interrupted(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}
