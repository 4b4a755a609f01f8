//! dockerd's answers as the proxy reads them: the response head, then the body's framing fed
//! in pieces of every size. Input: a split width byte, then the bytes.
#![no_main]
use bytes::BytesMut;
use dockward_proxy::framing::response;
use dockward_proxy::framing::{Decoded, Decoder};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&width, data)) = data.split_first() else {
        return;
    };
    let step = usize::from(width.max(1));
    let mut head = BytesMut::from(data);
    let (mut dec, start) = match response::parse(&mut head, false) {
        Ok(Some(h)) => {
            // What the client receives as the head must parse again, with
            // the same status.
            let again = h.client(response::Out::Chunked, false);
            let mut hs = [httparse::EMPTY_HEADER; 128];
            let mut r = httparse::Response::new(&mut hs);
            assert!(
                matches!(r.parse(&again), Ok(httparse::Status::Complete(n)) if n == again.len())
            );
            assert_eq!(r.code, Some(h.status));
            (
                h.body.unwrap_or_else(|| Decoder::length(0)),
                data.len() - head.len(),
            )
        }
        Ok(None) | Err(_) => (Decoder::chunked(), 0),
    };
    let input = &data[start..];
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut out = 0usize;
    loop {
        match dec.decode(&mut buf) {
            Ok(Decoded::Data(d)) => {
                assert!(!d.is_empty(), "empty data frames would spin");
                out += d.len();
            }
            Ok(Decoded::Done) | Err(_) => break,
            Ok(Decoded::NeedMore) if fed == input.len() => {
                let _ = dec.at_eof();
                break;
            }
            Ok(Decoded::NeedMore) => {
                let end = (fed + step).min(input.len());
                buf.extend_from_slice(&input[fed..end]);
                fed = end;
            }
        }
    }
    // The body is never longer than what was sent.
    assert!(out <= input.len());
});
