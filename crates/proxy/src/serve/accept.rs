//! Accepting: every listener's loop, a task per connection, TLS before
//! HTTP (in the connection's task, so a slow handshake never holds up
//! accepting), then `conn`; and a graceful stop.

use super::conn::run;
use super::ctx::Ctx;
use super::Options;
use crate::listen::{Conn, Listen, Peer};
use std::sync::Arc;
use std::time::Duration;

/// A connection ready for HTTP.
enum Served {
    Unix(tokio::net::UnixStream),
    Tcp(tokio::net::TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<tokio::net::TcpStream>>),
}

/// Serves every listener until `shutdown` resolves, then stops accepting,
/// asks open connections to finish (streams get `grace` to end) and returns.
pub async fn serve(
    listeners: Vec<Listen>,
    names: Vec<String>,
    opts: Arc<Options>,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
) {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    for (l, name) in listeners.into_iter().zip(names) {
        let opts = opts.clone();
        let mut stop = stop_rx.clone();
        tasks.spawn(async move {
            let l = Arc::new(l);
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let next = tokio::select! {
                    _ = stop.changed() => break,
                    a = l.accept() => a,
                };
                let (conn, peer) = match next {
                    Ok(Ok(c)) => c,
                    Ok(Err(who)) => {
                        tracing::warn!("refused a connection: {who}");
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!("accept on {name}: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let opts = opts.clone();
                let name = name.clone();
                let stop = stop.clone();
                conns.spawn(async move {
                    // TLS first (in this task, so a slow handshake never
                    // holds up accepting), then the client is known.
                    let mut peer = peer;
                    let conn = match conn {
                        Conn::Tls(s, acceptor) => {
                            let hs =
                                tokio::time::timeout(opts.header_timeout, acceptor.accept(s)).await;
                            let Ok(Ok(tls)) = hs else {
                                tracing::warn!("TLS handshake failed on {name}");
                                return;
                            };
                            if let Peer::Tcp { client_cert, .. } = &mut peer {
                                *client_cert = tls
                                    .get_ref()
                                    .1
                                    .peer_certificates()
                                    .and_then(|c| c.first())
                                    .map(|c| crate::tls::fingerprint(c.as_ref()));
                            }
                            Served::Tls(Box::new(tls))
                        }
                        Conn::Unix(s) => Served::Unix(s),
                        Conn::Tcp(s) => Served::Tcp(s),
                    };
                    let ctx = Arc::new(Ctx {
                        opts,
                        peer,
                        listener: name,
                        upstream: std::sync::Mutex::new(None),
                    });
                    let stop = stop.clone();
                    match conn {
                        Served::Unix(s) => run(s, ctx, stop).await,
                        Served::Tcp(s) => {
                            let _ = s.set_nodelay(true);
                            run(s, ctx, stop).await;
                        }
                        Served::Tls(s) => run(s, ctx, stop).await,
                    }
                });
                while conns.try_join_next().is_some() {}
            }
            let _ =
                tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} })
                    .await;
        });
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(grace + Duration::from_secs(1), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
}
