//! The benchmark client of bench/proxy.sh. The same client drives the
//! direct socket, dockward proxy and HAProxy, so the three are compared on
//! equal terms: one kept-alive HTTP/1.1 connection per worker, requests
//! back to back, latencies recorded per request.
//!
//! Why not oha (the tool of ANCHORS §1): building it from crates.io takes
//! longer than this whole file, and it has no mode that holds a thousand
//! idle `/events` streams open.
//!
//!   dockward-loadgen rps SOCKET PATH CONCURRENCY SECONDS
//!   dockward-loadgen events SOCKET COUNT SECONDS
//!   dockward-loadgen relay LISTEN UPSTREAM
//!
//! `relay` is the floor any proxy in the path has on this machine: a byte
//! relay with no HTTP, no policy and no log (tokio's `copy_bidirectional`
//! per connection, one thread, as dockward's proxy runs by default). What
//! it costs against the direct socket is the cost of the extra socket hops
//! alone, which no proxy can go under.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};
use tokio::net::UnixStream;

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

async fn connect(sock: &str) -> Result<Sender, String> {
    let s = UnixStream::connect(sock)
        .await
        .map_err(|e| format!("{sock}: {e}"))?;
    let (tx, conn) = hyper::client::conn::http1::handshake(TokioIo::new(s))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    Ok(tx)
}

fn request(path: &str) -> hyper::Request<Empty<Bytes>> {
    hyper::Request::get(path)
        .header("host", "docker")
        .body(Empty::new())
        .unwrap_or_default()
}

async fn rps(sock: String, path: String, conc: usize, secs: u64) -> Result<(), String> {
    let end = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..conc {
        let sock = sock.clone();
        let path = path.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(1 << 16);
            let mut tx = connect(&sock).await?;
            while Instant::now() < end {
                let t = Instant::now();
                let res = tx
                    .send_request(request(&path))
                    .await
                    .map_err(|e| e.to_string())?;
                if !res.status().is_success() {
                    return Err(format!("{path}: status {}", res.status()));
                }
                res.into_body().collect().await.map_err(|e| e.to_string())?;
                lat.push(u32::try_from(t.elapsed().as_nanos() / 1000).unwrap_or(u32::MAX));
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or(0)
    };
    println!(
        "{{\"requests\":{},\"rps\":{:.0},\"p50_us\":{},\"p90_us\":{},\"p99_us\":{}}}",
        all.len(),
        all.len() as f64 / secs as f64,
        pct(0.5),
        pct(0.9),
        pct(0.99)
    );
    Ok(())
}

async fn events(sock: String, count: usize, secs: u64) -> Result<(), String> {
    let mut held = Vec::with_capacity(count);
    for i in 0..count {
        let mut tx = connect(&sock)
            .await
            .map_err(|e| format!("stream {i}: {e}"))?;
        let res = tx
            .send_request(request("/v1.41/events"))
            .await
            .map_err(|e| format!("stream {i}: {e}"))?;
        if !res.status().is_success() {
            return Err(format!("stream {i}: status {}", res.status()));
        }
        held.push((tx, res));
    }
    println!("{{\"streams\":{count}}}");
    tokio::time::sleep(Duration::from_secs(secs)).await;
    drop(held);
    Ok(())
}

/// Relays every connection on `listen` to `upstream`, byte for byte.
async fn relay(listen: String, upstream: String) -> Result<(), String> {
    let _ = std::fs::remove_file(&listen);
    let l = tokio::net::UnixListener::bind(&listen).map_err(|e| format!("{listen}: {e}"))?;
    loop {
        let (mut c, _) = l.accept().await.map_err(|e| e.to_string())?;
        let upstream = upstream.clone();
        tokio::spawn(async move {
            if let Ok(mut u) = UnixStream::connect(&upstream).await {
                let _ = tokio::io::copy_bidirectional(&mut c, &mut u).await;
            }
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = if args.first().map(String::as_str) == Some("relay") {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    }
    .enable_all()
    .build()
    .expect("runtime");
    let r = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["relay", listen, upstream] => rt.block_on(relay(listen.to_string(), upstream.to_string())),
        ["rps", sock, path, conc, secs] => rt.block_on(rps(sock.to_string(), path.to_string(), conc.parse().unwrap_or(1), secs.parse().unwrap_or(5))),
        ["events", sock, count, secs] => rt.block_on(events(sock.to_string(), count.parse().unwrap_or(1000), secs.parse().unwrap_or(10))),
        _ => Err("usage: dockward-loadgen rps SOCKET PATH CONCURRENCY SECONDS | events SOCKET COUNT SECONDS | relay LISTEN UPSTREAM".to_string()),
    };
    if let Err(e) = r {
        eprintln!("dockward-loadgen: {e}");
        std::process::exit(1);
    }
}
