//! What a client sends, as the proxy reads it: request heads, bodies by
//! Content-Length or chunked, pipelined; what dockerd would receive for
//! each. Input: a split width byte, then the bytes. What is forwarded
//! (each head, and each body once decoded: a chunked body is re-chunked
//! as it is read, so its chunk boundaries follow the reads), and where the
//! proxy refuses, must not depend on how the bytes were split into reads;
//! and what is forwarded must read back as one request each.
#![no_main]
use bytes::BytesMut;
use dockward_proxy::framing::{Decoded, Decoder};
use dockward_proxy::relay::forward_all;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// A reader that hands out at most `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl AsyncRead for Trickle<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.step.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

/// One forwarded request read back (with hyper's limit of 100 headers:
/// the proxy adds a few to the 96 it accepts): its head's bytes and its
/// body.
fn read_back(sent: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut hs = [httparse::EMPTY_HEADER; 100];
    let mut req = httparse::Request::new(&mut hs);
    let Ok(httparse::Status::Complete(head_len)) = req.parse(sent) else {
        panic!("a forwarded head parses whole");
    };
    let value = |n: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(n))
            .map(|h| h.value.to_vec())
    };
    let dec = match (value("content-length"), value("transfer-encoding")) {
        (Some(n), None) => Some(Decoder::length(
            String::from_utf8(n)
                .unwrap()
                .parse()
                .expect("one Content-Length"),
        )),
        (None, Some(c)) => {
            assert_eq!(c, b"chunked");
            Some(Decoder::chunked())
        }
        (None, None) => None,
        (Some(_), Some(_)) => panic!("both framings forwarded"),
    };
    let mut buf = BytesMut::from(&sent[head_len..]);
    let mut body = Vec::new();
    if let Some(mut dec) = dec {
        loop {
            match dec.decode(&mut buf).expect("a forwarded body decodes") {
                Decoded::Data(d) => body.extend_from_slice(&d),
                Decoded::Done => break,
                Decoded::NeedMore => panic!("a forwarded body is whole"),
            }
        }
    }
    assert!(buf.is_empty(), "nothing after a forwarded request");
    (sent[..head_len].to_vec(), body)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
    }
    let Some((&width, data)) = data.split_first() else {
        return;
    };
    let step = usize::from(width.max(1));
    RT.with(|rt| {
        rt.block_on(async {
            let whole = forward_all(
                &mut Trickle {
                    data,
                    step: data.len().max(1),
                },
                8192,
            )
            .await;
            let split = forward_all(&mut Trickle { data, step }, 8192).await;
            let back = |r: &(Vec<Vec<u8>>, _)| r.0.iter().map(|s| read_back(s)).collect::<Vec<_>>();
            assert_eq!(back(&whole), back(&split));
            assert_eq!(whole.1, split.1);
            // Never more forwarded than was sent, framing aside.
            assert!(whole.0.len() <= data.len());
        });
    });
});
