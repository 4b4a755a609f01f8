//! dockerd's answer to an `/events` subscription as the proxy reads it
//! without hyper's client: the response head, then the body's framing fed
//! in pieces of every size. Input: a split width byte, then the bytes.
#![no_main]
use bytes::BytesMut;
use dockward_proxy::framing::{Decoded, Decoder};
use dockward_proxy::stream::parse_head;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&width, data)) = data.split_first() else {
        return;
    };
    let step = usize::from(width.max(1));
    let (mut dec, start) = match parse_head(data, &hyper::Method::GET) {
        Ok(Some((_, Some(dec), used))) => (dec, used),
        Ok(_) | Err(_) => (Decoder::chunked(), 0),
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
