//! The sink's connection layer. It owns each port's listener and hands accepted connections to
//! the gRPC or HTTP server, or plays a connection-level fault instead:
//! - `down`: the port is bound but never listens, so every connection is refused;
//! - `flap`: up (listening) and down (listener closed, live connections cut) in turn;
//! - `blackhole`: connections are accepted and read, never answered.

use std::net::SocketAddr;
use std::os::fd::{AsFd as _, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, watch};

use super::fault::Fault;
use super::stats::SinkStats;

/// A port's socket before the gate runs: listening, or (for `down`) only bound.
#[derive(Debug)]
pub enum Port {
    /// Listening.
    Listening(std::net::TcpListener),
    /// Bound, not listening: connections are refused, and the port stays ours.
    Refusing(TcpSocket),
}

impl Port {
    /// Binds `addr` for `fault` (outside any runtime).
    pub fn bind(addr: SocketAddr, fault: Option<Fault>) -> std::io::Result<Self> {
        if fault == Some(Fault::Down) {
            let socket = if addr.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            socket.set_reuseaddr(true)?;
            socket.bind(addr)?;
            return Ok(Self::Refusing(socket));
        }
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        Ok(Self::Listening(listener))
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Self::Listening(l) => l.local_addr(),
            Self::Refusing(s) => s.local_addr(),
        }
    }
}

/// Resolves once the sink is stopping (the channel's guard is not held across awaits).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// How one port's gate runs: the fault, the instant a flap's first up phase starts (shared by
/// both ports, so they go down and up together), and whether this port reports the outages
/// (one port does, so each outage counts once).
#[derive(Debug, Clone, Copy)]
pub struct GateOptions {
    /// The fault played.
    pub fault: Option<Fault>,
    /// Start of the flap schedule.
    pub epoch: Instant,
    /// Whether this port records outages and returns.
    pub reports: bool,
}

/// Runs the gate of one port until `stop` turns true, sending the connections the server should
/// serve to `to_server`.
pub async fn run(
    port: Port,
    options: GateOptions,
    stats: Arc<SinkStats>,
    to_server: mpsc::Sender<TcpStream>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let listener = match port {
        Port::Refusing(socket) => {
            // `down`: hold the port until the sink stops.
            stopped(&mut stop).await;
            drop(socket);
            return Ok(());
        }
        Port::Listening(l) => TcpListener::from_std(l).context("registering a sink listener")?,
    };
    match options.fault {
        Some(Fault::Blackhole) => blackhole(listener, &stats, &mut stop).await,
        Some(Fault::Flap { up, down }) => {
            let stats = options.reports.then_some(&*stats);
            let phases = (options.epoch, up, down);
            flap(listener, phases, stats, &to_server, &mut stop).await
        }
        _ => {
            serve_until(&listener, &to_server, &mut stop, None, &mut Vec::new()).await;
            Ok(())
        }
    }
}

/// Accepts and forwards connections until `stop`, or until `until` if given. Returns whether
/// the sink is stopping. Forwarded connections are remembered in `live` (a duplicate of their
/// descriptor) when `until` is given, so a flap can cut them.
async fn serve_until(
    listener: &TcpListener,
    to_server: &mpsc::Sender<TcpStream>,
    stop: &mut watch::Receiver<bool>,
    until: Option<Instant>,
    live: &mut Vec<OwnedFd>,
) -> bool {
    let deadline = async {
        match until {
            Some(t) => tokio::time::sleep_until(t.into()).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            () = stopped(stop) => return true,
            () = &mut deadline => return false,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                if until.is_some()
                    && let Ok(fd) = stream.as_fd().try_clone_to_owned()
                {
                    live.push(fd);
                }
                if to_server.send(stream).await.is_err() {
                    return true;
                }
            }
        }
    }
}

/// Cuts every connection in `live` (both directions), as a collector that went away would.
fn cut(live: &mut Vec<OwnedFd>) {
    for fd in live.drain(..) {
        let _ = std::net::TcpStream::from(fd).shutdown(std::net::Shutdown::Both);
    }
}

/// Up from `epoch` for `up`, down for `down`, and so on; `stats` records the phases.
async fn flap(
    listener: TcpListener,
    (epoch, up, down): (Instant, Duration, Duration),
    stats: Option<&SinkStats>,
    to_server: &mpsc::Sender<TcpStream>,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let mut listener = Some(listener);
    let mut live = Vec::new();
    for cycle in 0_u32.. {
        let up_end = epoch + (up + down) * cycle + up;
        let l = match listener.take() {
            Some(l) => l,
            None => match rebind(addr, stop).await {
                Some(l) => l,
                None => return Ok(()),
            },
        };
        if let Some(s) = stats {
            s.mark_up(Instant::now());
        }
        let stopping = serve_until(&l, to_server, stop, Some(up_end), &mut live).await;
        drop(l);
        cut(&mut live);
        if stopping {
            return Ok(());
        }
        if let Some(s) = stats {
            s.mark_down();
        }
        tokio::select! {
            () = stopped(stop) => return Ok(()),
            () = tokio::time::sleep_until((up_end + down).into()) => {}
        }
    }
    Ok(())
}

/// Listens on `addr` again after a down phase (retrying briefly if the port is still held).
async fn rebind(addr: SocketAddr, stop: &mut watch::Receiver<bool>) -> Option<TcpListener> {
    for _ in 0..200 {
        if *stop.borrow() {
            return None;
        }
        match TcpListener::bind(addr).await {
            Ok(l) => return Some(l),
            Err(e) => {
                log::debug!("sink: rebinding {addr} after a flap: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    log::warn!("sink: could not listen on {addr} again after a flap; it stays down");
    stopped(stop).await;
    None
}

async fn blackhole(
    listener: TcpListener,
    stats: &Arc<SinkStats>,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            () = stopped(stop) => return Ok(()),
            accepted = listener.accept() => {
                let Ok((mut stream, _)) = accepted else { continue };
                stats.record_blackholed();
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0_u8; 64 * 1024];
                    loop {
                        tokio::select! {
                            () = stopped(&mut stop) => return,
                            read = stream.read(&mut buf) => match read {
                                Ok(0) | Err(_) => return,
                                Ok(_) => {}
                            },
                        }
                    }
                });
            }
        }
    }
}

/// A listener for axum fed by the gate.
#[derive(Debug)]
pub struct GatedListener {
    /// Connections from the gate.
    pub rx: mpsc::Receiver<TcpStream>,
    /// The port's address.
    pub addr: SocketAddr,
}

impl axum::serve::Listener for GatedListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(stream) => {
                let addr = stream.peer_addr().unwrap_or(self.addr);
                (stream, addr)
            }
            // The gate has stopped: no more connections (shutdown is under way).
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.addr)
    }
}

/// The gate's connections as the stream tonic serves.
pub fn incoming(
    rx: mpsc::Receiver<TcpStream>,
) -> impl futures::Stream<Item = std::io::Result<TcpStream>> {
    futures::stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.map(|s| (Ok(s), rx)) },
    )
}
