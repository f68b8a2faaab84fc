//! MLLP listener: frames are `0x0B message 0x1C 0x0D`; each message gets one framed ACK on the
//! same connection, in order. Buffers are bounded by `max_message`, idle peers are dropped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use super::PatientSink;
use crate::transport::shutdown::Shutdown;

const START: u8 = 0x0B;
const END: u8 = 0x1C;
const CR: u8 = 0x0D;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MllpLimits {
    /// Largest message (between the frame bytes) accepted; a bigger one closes the connection.
    pub max_message: usize,
    /// A connection with nothing to read for this long is closed.
    pub idle_timeout: Duration,
    /// Connections served at once; more are closed right after accept.
    pub max_connections: usize,
}

impl Default for MllpLimits {
    fn default() -> Self {
        MllpLimits {
            max_message: 1024 * 1024,
            idle_timeout: Duration::from_secs(60),
            max_connections: 64,
        }
    }
}

/// Accepts connections until shutdown is asked for, each on its own task. Then the listener
/// closes, and each connection ends once a message it has begun is answered.
pub async fn serve(
    listener: TcpListener,
    sink: Arc<dyn PatientSink>,
    limits: MllpLimits,
    mut shutdown: Shutdown,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = shutdown.requested() => return,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            Err(e) => {
                // Usually out of file descriptors: back off instead of spinning.
                tracing::warn!(error = %e, "MLLP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::warn!(%peer, "MLLP connection limit reached, closing");
            continue;
        };
        let sink = Arc::clone(&sink);
        let busy = shutdown.busy();
        let conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            if let Err(reason) = connection(stream, peer, sink, limits, conn_shutdown).await {
                tracing::warn!(%peer, %reason, "MLLP connection closed");
            }
            drop(permit);
            drop(busy);
        });
    }
}

/// Why a connection ended other than by the peer closing it between messages.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    #[error("idle timeout")]
    Idle,
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    #[error("broken MLLP framing")]
    Framing,
    #[error("closed in the middle of a message")]
    Truncated,
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    sink: Arc<dyn PatientSink>,
    limits: MllpLimits,
    mut shutdown: Shutdown,
) -> Result<(), ConnError> {
    tracing::debug!(%peer, "MLLP connection opened");
    let mut framer = Framer::new(limits.max_message);
    let mut buf = vec![0u8; 16 * 1024];
    let mut frames = Vec::new();
    loop {
        // On shutdown a connection between messages closes; one in the middle of a message
        // reads on, so that a message begun is answered.
        let n = tokio::select! {
            r = timeout(limits.idle_timeout, stream.read(&mut buf)) => r.map_err(|_| ConnError::Idle)??,
            _ = shutdown.requested(), if !framer.in_message() => {
                tracing::debug!(%peer, "MLLP connection closed for shutdown");
                return Ok(());
            }
        };
        if n == 0 {
            return if framer.in_message() {
                Err(ConnError::Truncated)
            } else {
                tracing::debug!(%peer, "MLLP connection closed by peer");
                Ok(())
            };
        }
        framer.push(&buf[..n], &mut frames)?;
        for frame in frames.drain(..) {
            let ack = super::process(&frame, &sink).await;
            let mut out = Vec::with_capacity(ack.len() + 3);
            out.push(START);
            out.extend_from_slice(ack.as_bytes());
            out.extend_from_slice(&[END, CR]);
            timeout(limits.idle_timeout, stream.write_all(&out))
                .await
                .map_err(|_| ConnError::Idle)??;
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Between frames: bytes other than the start byte (stray CR/LF) are skipped.
    Idle,
    InMessage,
    /// Saw 0x1C; only 0x0D may follow.
    AtEnd,
}

/// Splits a byte stream into MLLP frames without holding more than one message. Public so that
/// the fuzz targets can drive it without a socket.
pub struct Framer {
    state: State,
    message: Vec<u8>,
    max: usize,
}

impl Framer {
    pub fn new(max: usize) -> Self {
        Framer {
            state: State::Idle,
            message: Vec::new(),
            max,
        }
    }

    pub fn in_message(&self) -> bool {
        self.state != State::Idle
    }

    /// Feeds bytes; each completed message is appended to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), ConnError> {
        while let Some((&b, rest)) = bytes.split_first() {
            match self.state {
                State::Idle => {
                    if b == START {
                        self.state = State::InMessage;
                        self.message.clear();
                    }
                    bytes = rest;
                }
                State::InMessage => {
                    // Take the run of payload bytes up to the next control byte in one go.
                    let run = bytes
                        .iter()
                        .position(|&c| c == END || c == START)
                        .unwrap_or(bytes.len());
                    if self.message.len() + run > self.max {
                        return Err(ConnError::TooLarge(self.max));
                    }
                    self.message.extend_from_slice(&bytes[..run]);
                    bytes = &bytes[run..];
                    match bytes.split_first() {
                        Some((&END, rest)) => {
                            self.state = State::AtEnd;
                            bytes = rest;
                        }
                        Some(_) => return Err(ConnError::Framing),
                        None => {}
                    }
                }
                State::AtEnd => {
                    if b != CR {
                        return Err(ConnError::Framing);
                    }
                    out.push(std::mem::take(&mut self.message));
                    self.state = State::Idle;
                    bytes = rest;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(framer: &mut Framer, chunks: &[&[u8]]) -> Result<Vec<Vec<u8>>, ConnError> {
        let mut out = Vec::new();
        for chunk in chunks {
            framer.push(chunk, &mut out)?;
        }
        Ok(out)
    }

    #[test]
    fn frames_split_across_reads_and_back_to_back() {
        let mut f = Framer::new(100);
        let got = frames(
            &mut f,
            &[
                b"\r\n\x0bMSH|a",
                b"bc\x1c",
                b"\r\x0bsecond\x1c\r\x0bthi",
                b"rd",
            ],
        )
        .unwrap();
        assert_eq!(got, vec![b"MSH|abc".to_vec(), b"second".to_vec()]);
        assert!(f.in_message());
        assert_eq!(
            frames(&mut f, &[b"\x1c\r"]).unwrap(),
            vec![b"third".to_vec()]
        );
        assert!(!f.in_message());
    }

    #[test]
    fn limits_and_broken_framing_are_errors() {
        let mut f = Framer::new(4);
        assert!(frames(&mut f, &[b"\x0b1234\x1c\r"]).is_ok());
        assert!(matches!(
            frames(&mut f, &[b"\x0b12", b"345"]),
            Err(ConnError::TooLarge(4))
        ));
        let mut f = Framer::new(100);
        assert!(matches!(
            frames(&mut f, &[b"\x0bab\x1cX"]),
            Err(ConnError::Framing)
        ));
        let mut f = Framer::new(100);
        assert!(matches!(
            frames(&mut f, &[b"\x0bab\x0bcd"]),
            Err(ConnError::Framing)
        ));
    }
}
