//! What a client sends, as the proxy's framing guard follows it beside
//! hyper: request heads, bodies by Content-Length or chunked, pipelined.
//! Input: a split width byte, then the bytes. The verdicts must not depend
//! on how the bytes were split into reads.
#![no_main]
use dockward_proxy::framing::{Guard, Verdict};

fn verdicts(data: &[u8], step: usize) -> Vec<Verdict> {
    let mut g = Guard::new(8192);
    for piece in data.chunks(step) {
        g.feed(piece);
    }
    let mut out = Vec::new();
    loop {
        let v = g.verdict();
        let refused = matches!(v, Verdict::Refuse(_));
        out.push(v);
        // Past the last verdict, every request is refused.
        if refused {
            break;
        }
        assert!(out.len() <= data.len(), "more verdicts than bytes");
    }
    out
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&width, data)) = data.split_first() else {
        return;
    };
    let step = usize::from(width.max(1));
    let whole = verdicts(data, data.len().max(1));
    assert_eq!(verdicts(data, step), whole);
});
