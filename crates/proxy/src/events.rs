//! `/events` for a client that may not see every container: the lines
//! about hidden containers are left out, in order, as the stream flows.
//! A line that names a container by id only waits for that container's
//! lookup (see `Visibility::judge_event`); the lookup is a function, so the
//! tests below drive the filter with a fake one.

use crate::upstream::{Body, BoxError, Upstream};
use bytes::Bytes;
use dockward_apiguard::visibility::Visibility;
use futures_util::future::BoxFuture;
use http_body_util::BodyExt;
use hyper::body::Frame;
use std::collections::{HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Whether a container, looked up by id, may be seen by this client: the
/// one effect of the filter, behind a function so that tests give a fake.
pub(crate) type Lookup = Arc<dyn Fn(String, Visibility) -> BoxFuture<'static, bool> + Send + Sync>;

/// The real lookup: `GET /containers/{id}/json` on a new upstream
/// connection, judged by the visibility rules; a lookup that does not
/// answer within 5 s hides the line rather than stalling the stream.
pub(crate) fn inspect_lookup(upstream: &Upstream) -> Lookup {
    let up = upstream.clone();
    Arc::new(move |id: String, vis: Visibility| {
        let up = up.clone();
        Box::pin(async move {
            let path = format!("/containers/{id}/json");
            let lookup = async {
                let (status, body, _) = up.open().await?.get(&path).await?;
                Ok::<_, String>((status, body))
            };
            tokio::time::timeout(Duration::from_secs(5), lookup)
                .await
                .ok()
                .and_then(Result::ok)
                .is_some_and(|(status, body)| status == 200 && vis.filter_inspect(&body).is_some())
        })
    })
}

/// `inner` (an `/events` answer) with the lines about containers `v`
/// hides left out; `known` are the containers known to be visible.
pub(crate) fn filter(inner: Body, v: &Visibility, known: HashSet<String>, lookup: Lookup) -> Body {
    EventFilter {
        inner,
        buf: Vec::new(),
        lines: VecDeque::new(),
        vis: v.clone(),
        known,
        lookup,
        asking: None,
        done: false,
    }
    .boxed()
}

/// `/events` with the lines about hidden containers left out. Lines are
/// judged in order; a line naming an unknown container by id waits for
/// that container's inspect (see `Visibility::judge_event`).
struct EventFilter {
    inner: Body,
    /// Bytes after the last complete line.
    buf: Vec<u8>,
    /// Complete lines not judged yet, newline included.
    lines: VecDeque<Vec<u8>>,
    vis: Visibility,
    /// Containers known to be visible.
    known: HashSet<String>,
    lookup: Lookup,
    /// The container being looked up for the first queued line.
    asking: Option<(String, tokio::sync::oneshot::Receiver<bool>)>,
    done: bool,
}

impl EventFilter {
    /// Judge queued lines until one needs a lookup; the kept ones go to `out`.
    fn judge(&mut self, out: &mut Vec<u8>, cx: &mut Context<'_>) {
        use dockward_apiguard::visibility::Event;
        while let Some(line) = self.lines.front() {
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let verdict = match &mut self.asking {
                Some((id, rx)) => match std::future::Future::poll(Pin::new(rx), cx) {
                    Poll::Pending => return,
                    Poll::Ready(visible) => {
                        let id = id.clone();
                        self.asking = None;
                        if visible == Ok(true) {
                            self.known.insert(id);
                            Event::Keep
                        } else {
                            Event::Drop
                        }
                    }
                },
                None => self.vis.judge_event(body, &mut self.known),
            };
            match verdict {
                Event::Keep => out.extend_from_slice(line),
                Event::Drop => {}
                Event::Ask(id) => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let ask = (self.lookup)(id.clone(), self.vis.clone());
                    tokio::spawn(async move {
                        let _ = tx.send(ask.await);
                    });
                    self.asking = Some((id, rx));
                    continue;
                }
            }
            self.lines.pop_front();
        }
    }
}

impl hyper::body::Body for EventFilter {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        loop {
            let mut out = Vec::new();
            this.judge(&mut out, cx);
            if !out.is_empty() {
                return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
            }
            if this.asking.is_some() {
                // Woken by the lookup's answer.
                return Poll::Pending;
            }
            if this.done {
                return Poll::Ready(None);
            }
            match std::task::ready!(Pin::new(&mut this.inner).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    this.buf.extend_from_slice(&data);
                    while let Some(i) = this.buf.iter().position(|b| *b == b'\n') {
                        this.lines.push_back(this.buf.drain(..=i).collect());
                    }
                }
                Some(Err(e)) => return Poll::Ready(Some(Err(e))),
                None => {
                    this.done = true;
                    let rest = std::mem::take(&mut this.buf);
                    if !rest.is_empty() {
                        this.lines.push_back(rest);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{Full, StreamBody};

    fn vis() -> Visibility {
        Visibility::new(&["team=a".to_string()], &[], false).unwrap()
    }

    /// A body that delivers `chunks` one frame each.
    fn body(chunks: &[&str]) -> Body {
        let frames: Vec<Result<Frame<Bytes>, BoxError>> = chunks
            .iter()
            .map(|c| Ok(Frame::data(Bytes::from(c.to_string()))))
            .collect();
        StreamBody::new(futures_util::stream::iter(frames)).boxed()
    }

    fn start(id: &str, name: &str, team: &str) -> String {
        format!(
            "{{\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{{\"ID\":\"{id}\",\"Attributes\":{{\"name\":\"{name}\",\"team\":\"{team}\"}}}}}}\n"
        )
    }

    fn connect(container: &str) -> String {
        format!(
            "{{\"Type\":\"network\",\"Action\":\"connect\",\"Actor\":{{\"ID\":\"n1\",\"Attributes\":{{\"container\":\"{container}\"}}}}}}\n"
        )
    }

    /// A lookup that knows `visible` and records what it was asked.
    fn fake(visible: &'static [&'static str], asked: Arc<std::sync::Mutex<Vec<String>>>) -> Lookup {
        Arc::new(move |id: String, _vis: Visibility| {
            asked.lock().unwrap().push(id.clone());
            Box::pin(async move { visible.contains(&id.as_str()) })
        })
    }

    async fn run(
        chunks: &[&str],
        known: &[&str],
        visible: &'static [&'static str],
    ) -> (String, Vec<String>) {
        let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
        let out = filter(
            body(chunks),
            &vis(),
            known.iter().map(|s| s.to_string()).collect(),
            fake(visible, asked.clone()),
        )
        .collect()
        .await
        .unwrap()
        .to_bytes();
        let asked = asked.lock().unwrap().clone();
        (String::from_utf8(out.to_vec()).unwrap(), asked)
    }

    #[tokio::test]
    async fn hidden_containers_lines_are_left_out_in_order() {
        let (a, b) = (start("a1", "web", "a"), start("b1", "db", "b"));
        // Split across frames mid-line, as a stream may be.
        let all = format!("{a}{b}{a}");
        let (first, rest) = all.split_at(10);
        let (out, asked) = run(&[first, rest], &[], &[]).await;
        assert_eq!(out, format!("{a}{a}"));
        assert!(asked.is_empty(), "names decide, no lookup: {asked:?}");
    }

    #[tokio::test]
    async fn an_id_only_line_waits_for_its_lookup_and_keeps_the_order() {
        let (seen, hidden) = (connect("v1"), connect("h1"));
        let web = start("a1", "web", "a");
        let (out, asked) = run(&[&seen, &hidden, &web, &connect("a1")], &[], &["v1"]).await;
        // v1 is visible (looked up), h1 is not; a1 became known from its
        // own start line, so its connect needs no lookup.
        assert_eq!(out, format!("{seen}{web}{}", connect("a1")));
        assert_eq!(asked, vec!["v1".to_string(), "h1".to_string()]);
        // A container already known is not looked up again.
        let (out, asked) = run(&[&seen, &seen], &["v1"], &[]).await;
        assert_eq!(out, format!("{seen}{seen}"));
        assert!(asked.is_empty());
    }

    #[tokio::test]
    async fn a_last_line_without_newline_and_garbage() {
        let web = start("a1", "web", "a");
        let tail = web.trim_end();
        let (out, _) = run(&["not json\n", tail], &[], &[]).await;
        assert_eq!(
            out, tail,
            "garbage dropped, the unterminated last line judged"
        );
        let full: Body = Full::new(Bytes::new()).map_err(|e| match e {}).boxed();
        let out = filter(full, &vis(), HashSet::new(), fake(&[], Default::default()))
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert!(out.is_empty());
    }
}
