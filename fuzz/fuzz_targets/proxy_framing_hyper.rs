//! The framing guard against hyper itself, on the same bytes: hyper's
//! HTTP/1 server (configured as the proxy configures it) serves the input
//! over an in-memory pipe and records each request it hands over; the
//! guard reads the same input. Wherever the guard says Ok to the k-th
//! request, it must be the request hyper handed over k-th: a guard that
//! lost the message boundaries (and so could pass a smuggled head
//! unchecked) shows up as a different request.
#![no_main]
use dockward_proxy::framing::{Guard, Verdict};
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn hyper_heads(rt: &tokio::runtime::Runtime, data: &[u8]) -> Option<Vec<String>> {
    rt.block_on(async {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = seen.clone();
        let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
            let record = record.clone();
            async move {
                record
                    .lock()
                    .unwrap()
                    .push(format!("{} {}", req.method(), req.uri()));
                let _ = req.into_body().collect().await;
                Ok::<_, std::convert::Infallible>(Response::new(Empty::<Bytes>::new()))
            }
        });
        let mut b = hyper::server::conn::http1::Builder::new();
        b.max_buf_size(64 * 1024).keep_alive(true);
        let conn = b.serve_connection(TokioIo::new(server), svc).with_upgrades();
        let input = data.to_vec();
        let io = async move {
            let _ = client.write_all(&input).await;
            let _ = client.shutdown().await;
            let mut sink = Vec::new();
            let _ = client.read_to_end(&mut sink).await;
        };
        let done = tokio::time::timeout(Duration::from_secs(2), async {
            let _ = tokio::join!(conn, io);
        })
        .await;
        let heads = seen.lock().unwrap().clone();
        done.ok().map(|_| heads)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
    }
    let Some(served) = RT.with(|rt| hyper_heads(rt, data)) else {
        return;
    };
    let mut g = Guard::traced(64 * 1024);
    g.feed(data);
    for (k, head) in served.iter().enumerate() {
        match g.verdict() {
            Verdict::Ok => {
                let (m, target) = g.heads()[k].split_once(' ').unwrap_or_default();
                let uri: hyper::Uri = target.parse().expect("hyper took this target");
                assert_eq!(&format!("{m} {uri}"), head, "request {k}");
            }
            // Refused: the proxy answers 400 and closes; nothing after
            // this request is served.
            Verdict::Refuse(_) => return,
        }
    }
});
