//! The proxy's forwarding against hyper itself. hyper's HTTP/1 server
//! reads the client's bytes and records each request it hands over
//! (method, target, headers, body). The proxy reads the same bytes
//! (`relay::forward_all`: `framing::request` and `relay::pump`, as the
//! live path runs them) and produces what dockerd would receive; hyper
//! reads that too. Every request the proxy forwards must be, k-th for
//! k-th, the request hyper read from the client: same method, target and
//! body, the same headers but for the hop-by-hop ones (RFC 9110 §7.6.1)
//! and the framing the proxy sets. A proxy that lost a message boundary
//! (and so could pass a smuggled request unchecked) shows up as a
//! different request.
#![no_main]
use dockward_proxy::relay::forward_all;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    method: String,
    target: String,
    /// (lower-case name, value), in hyper's order (values of one name in
    /// the order sent).
    headers: Vec<(String, Vec<u8>)>,
    /// `None`: the body could not be read whole.
    body: Option<Vec<u8>>,
}

/// What hyper's server hands over for `data`; `None` when it did not
/// finish within 2 s (of the paused clock: only when it hangs).
async fn hyper_reads(data: &[u8]) -> Option<Vec<Seen>> {
    let (mut client, server) = tokio::io::duplex(1 << 16);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
        let record = record.clone();
        async move {
            let (p, b) = req.into_parts();
            let headers: Vec<(String, Vec<u8>)> = p
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
                .collect();
            // Recorded when handed over; the body when it is read whole.
            let k = {
                let mut r = record.lock().unwrap();
                r.push(Seen {
                    method: p.method.to_string(),
                    target: p.uri.to_string(),
                    headers,
                    body: None,
                });
                r.len() - 1
            };
            if let Ok(c) = b.collect().await {
                record.lock().unwrap()[k].body = Some(c.to_bytes().to_vec());
            }
            Ok::<_, std::convert::Infallible>(Response::new(Empty::<Bytes>::new()))
        }
    });
    let mut b = hyper::server::conn::http1::Builder::new();
    b.max_buf_size(64 * 1024).keep_alive(true);
    let conn = b
        .serve_connection(TokioIo::new(server), svc)
        .with_upgrades();
    let input = data.to_vec();
    let io = async move {
        let _ = client.write_all(&input).await;
        // The clock is paused: this returns once hyper has done all it
        // can with the input, so no request is cut short by the end of
        // the stream, only by the end of the input.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _ = client.shutdown().await;
        let mut sink = Vec::new();
        let _ = client.read_to_end(&mut sink).await;
    };
    let done = tokio::time::timeout(Duration::from_secs(2), async {
        let _ = tokio::join!(conn, io);
    })
    .await;
    let out = seen.lock().unwrap().clone();
    done.ok().map(|_| out)
}

/// hyper's reading of the client, as the proxy must pass it on: without
/// hop-by-hop headers or those `Connection` names; `Host: docker` when
/// there was none; the upgrade asked for; chunked framing kept.
fn expected(s: &Seen) -> Seen {
    const HOP: [&str; 9] = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
    ];
    let named: Vec<String> = s
        .headers
        .iter()
        .filter(|(k, _)| k == "connection")
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                // (Host and Content-Length stay: the proxy writes them.)
                .filter(|t| t != "host" && t != "content-length")
                .collect::<Vec<_>>()
        })
        .collect();
    let get = |n: &str| {
        s.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    let mut headers: Vec<(String, Vec<u8>)> = s
        .headers
        .iter()
        .filter(|(k, _)| !HOP.contains(&k.as_str()) && !named.contains(k))
        .cloned()
        .collect();
    // The proxy writes the length it decoded, in its shortest form.
    for (k, v) in headers.iter_mut() {
        if k == "content-length" {
            if let Some(n) = std::str::from_utf8(v)
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
            {
                *v = n.to_string().into_bytes();
            }
        }
    }
    if get("host").is_none() {
        headers.push(("host".into(), b"docker".to_vec()));
    }
    // The first Upgrade value, as the proxy reads it (in the client's
    // order; hyper's map keeps values of one name in order).
    if let Some(u) = get("upgrade").filter(|_| named.iter().any(|n| n == "upgrade")) {
        headers.push(("connection".into(), b"Upgrade".to_vec()));
        headers.push(("upgrade".into(), u));
    }
    if get("transfer-encoding").is_some() {
        headers.push(("transfer-encoding".into(), b"chunked".to_vec()));
    }
    Seen {
        headers,
        ..s.clone()
    }
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    thread_local! {
        static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
    }
    RT.with(|rt| {
        rt.block_on(async {
            let Some(from_client) = hyper_reads(data).await else {
                return;
            };
            let (forwarded, _) = forward_all(&mut &data[..], 64 * 1024).await;
            assert!(
                forwarded.len() <= from_client.len(),
                "the proxy forwarded {} requests where hyper read {}",
                forwarded.len(),
                from_client.len()
            );
            let all: Vec<u8> = forwarded.concat();
            let Some(at_dockerd) = hyper_reads(&all).await else {
                panic!("hyper did not finish reading what the proxy forwards");
            };
            assert_eq!(
                at_dockerd.len(),
                forwarded.len(),
                "{:?}",
                String::from_utf8_lossy(&all)
            );
            for (k, got) in at_dockerd.iter().enumerate() {
                assert!(got.body.is_some(), "request {k}: forwarded body unreadable");
                let (mut got, mut want) = (got.clone(), expected(&from_client[k]));
                got.headers.sort();
                want.headers.sort();
                assert_eq!(got, want, "request {k}");
            }
        });
    });
});
