//! Lingering close. A client that writes its whole body before reading (Python's `urllib` and
//! `requests`, the Huawei SDK, most HTTP libraries) never reads an answer given before the body
//! was read (413, 401, 415) if the server then simply closes: the kernel answers the unread bytes
//! with a reset, which destroys the answer still in the client's receive buffer. So, as nginx
//! and Apache do, closing first sends our FIN, then reads and discards what the client still
//! sends until it closes too, within bounds: a client that keeps sending is cut at the limit.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{sleep, Instant, Sleep};

/// How long and how much a closing connection reads and discards before it is dropped.
#[derive(Debug, Clone, Copy)]
pub struct Linger {
    /// The most a close waits for the client, in all.
    pub total: Duration,
    /// The most a close waits for the client's next bytes.
    pub idle: Duration,
    /// The most it discards.
    pub bytes: u64,
}

impl Default for Linger {
    fn default() -> Self {
        // nginx's lingering_time and lingering_timeout; the byte bound keeps an unbounded sender
        // on loopback from being read for the whole time.
        Linger {
            total: Duration::from_secs(30),
            idle: Duration::from_secs(5),
            bytes: 256 << 20,
        }
    }
}

/// A connection whose shutdown lingers as [`Linger`] says.
pub(crate) struct Lingering<S> {
    inner: S,
    limits: Linger,
    closing: Option<Closing>,
}

struct Closing {
    idle: Pin<Box<Sleep>>,
    total: Pin<Box<Sleep>>,
    discarded: u64,
    scratch: Box<[u8]>,
}

/// Reads per poll before yielding to other connections.
const READS_PER_POLL: usize = 32;

impl<S> Lingering<S> {
    pub(crate) fn new(inner: S, limits: Linger) -> Self {
        Lingering {
            inner,
            limits,
            closing: None,
        }
    }
}

impl<S: AsyncRead + Unpin> Lingering<S> {
    /// Ready when the client has closed, or a bound is reached; never an error (the connection
    /// is being dropped either way).
    fn poll_discard(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let limits = self.limits;
        let closing = self.closing.get_or_insert_with(|| Closing {
            idle: Box::pin(sleep(limits.idle)),
            total: Box::pin(sleep(limits.total)),
            discarded: 0,
            scratch: vec![0; 64 << 10].into_boxed_slice(),
        });
        for _ in 0..READS_PER_POLL {
            if closing.discarded >= limits.bytes {
                return Poll::Ready(());
            }
            let mut buf = ReadBuf::new(&mut closing.scratch);
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {
                    closing.discarded += buf.filled().len() as u64;
                    closing.idle.as_mut().reset(Instant::now() + limits.idle);
                }
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => {
                    if closing.idle.as_mut().poll(cx).is_ready()
                        || closing.total.as_mut().poll(cx).is_ready()
                    {
                        return Poll::Ready(());
                    }
                    return Poll::Pending;
                }
            }
        }
        if closing.total.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.closing.is_none() {
            // Our answer and FIN go first; then the client's remaining bytes are read.
            ready!(Pin::new(&mut self.inner).poll_shutdown(cx))?;
        }
        self.poll_discard(cx).map(Ok)
    }
}
