//! A response body made of ready chunks, so MTOM parts go out without being copied together.

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Debug, Default)]
pub struct Chunks(VecDeque<Bytes>);

impl Chunks {
    pub fn one(b: impl Into<Bytes>) -> Chunks {
        Chunks(VecDeque::from([b.into()]))
    }

    pub fn many(v: Vec<Bytes>) -> Chunks {
        Chunks(v.into())
    }
}

impl Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadBodyError {
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("no memory for a body of {0} bytes")]
    NoMemory(usize),
    #[error("{0}")]
    Read(String),
}

/// Reads a whole request body into one buffer. With a Content-Length the buffer is sized
/// once, so a large (MTOM) body is held once, not once in frames and again when joined
/// (the final `Bytes` takes the Vec without copying). The reservation is fallible so a
/// strict-overcommit host answers 503 instead of aborting.
pub async fn read_limited<B>(
    mut body: B,
    max: usize,
    declared: Option<u64>,
) -> Result<Bytes, ReadBodyError>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    use http_body_util::BodyExt;
    let hint = declared
        .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        .unwrap_or(0)
        .min(max);
    let mut buf: Vec<u8> = Vec::new();
    buf.try_reserve_exact(hint)
        .map_err(|_| ReadBodyError::NoMemory(hint))?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ReadBodyError::Read(e.to_string()))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max {
                return Err(ReadBodyError::TooLarge(max));
            }
            buf.try_reserve(data.len())
                .map_err(|_| ReadBodyError::NoMemory(buf.len() + data.len()))?;
            buf.extend_from_slice(&data);
        }
    }
    Ok(Bytes::from(buf))
}
