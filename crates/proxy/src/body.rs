//! Buffering a request body for checking, with bounds: the declared
//! `Content-Length` over the cap is refused before a byte is read (413),
//! a client that stops sending for `timeout` is cut off (408), and the
//! bytes held across every connection together never exceed a budget
//! (503): sixty clients that each stall one byte short of the cap hold the
//! budget, not sixty caps.

use bytes::{Bytes, BytesMut};
use dockward_apiguard::Deny;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The bytes of request bodies held by the proxy at once.
#[derive(Debug)]
pub struct Budget {
    used: AtomicUsize,
    pub limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            used: AtomicUsize::new(0),
            limit,
        })
    }

    /// Bytes held now.
    pub fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }
}

/// A share of the budget, given back when dropped.
pub struct Held {
    budget: Arc<Budget>,
    n: usize,
}

impl Held {
    pub fn new(budget: &Arc<Budget>) -> Self {
        Self {
            budget: budget.clone(),
            n: 0,
        }
    }

    /// Takes `n` more bytes of the budget, or says no.
    fn take(&mut self, n: usize) -> bool {
        let b = &self.budget;
        let mut cur = b.used.load(Ordering::Relaxed);
        loop {
            let Some(next) = cur.checked_add(n).filter(|x| *x <= b.limit) else {
                return false;
            };
            match b
                .used
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => {
                    self.n += n;
                    return true;
                }
                Err(now) => cur = now,
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.used.fetch_sub(self.n, Ordering::AcqRel);
    }
}

fn deny(status: u16, rule: &str, hint: String) -> Deny {
    Deny {
        status,
        rule: rule.into(),
        hint,
    }
}

/// Reads the whole body of `action` into memory, within `max` bytes,
/// `timeout` between frames and the shared `held` budget.
pub async fn read<R: tokio::io::AsyncRead + Unpin>(
    body: &mut crate::relay::Reading<'_, R>,
    declared: Option<u64>,
    max: usize,
    timeout: Duration,
    held: &mut Held,
    action: &str,
) -> Result<Bytes, Deny> {
    let too_big = || {
        deny(
            413,
            "body size cap",
            format!("bodies of {action} are checked up to {max} bytes (DOCKWARD_MAX_BODY)"),
        )
    };
    let busy = |b: &Budget| {
        deny(
            503,
            "buffer budget",
            format!(
                "the proxy already holds {} of {} bytes of request bodies being checked (DOCKWARD_MAX_BUFFERED); try again shortly",
                b.used(),
                b.limit
            ),
        )
    };
    if let Some(n) = declared {
        if n > max as u64 {
            return Err(too_big());
        }
        // Reserve the declared size up front: refuse now, not half-way.
        if !held.take(n as usize) {
            return Err(busy(&held.budget));
        }
    }
    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0) as usize);
    loop {
        let data = match tokio::time::timeout(timeout, body.next()).await {
            Err(_) => {
                return Err(deny(
                    408,
                    "body read timeout",
                    format!(
                        "no body bytes arrived for {} s; send the whole body without pausing",
                        timeout.as_secs()
                    ),
                ))
            }
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                return Err(deny(
                    400,
                    "HTTP framing",
                    format!("the request body could not be read: {e}"),
                ))
            }
            Ok(Ok(Some(d))) => d,
        };
        if buf.len() + data.len() > max {
            return Err(too_big());
        }
        let beyond = (buf.len() + data.len()).saturating_sub(held.n);
        if beyond > 0 && !held.take(beyond) {
            return Err(busy(&held.budget));
        }
        buf.extend_from_slice(&data);
    }
    Ok(buf.freeze())
}
