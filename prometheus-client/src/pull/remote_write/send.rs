//! One remote write request, and what its answer means: sent, worth retrying, or not.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{header, Request};

use super::RemoteWrite;
use crate::pull::connect::{connect, Client, Connection};

/// What became of a request.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The receiver took it (2xx).
    Sent,
    /// Worth sending again: a 5xx, a 429 when configured so, a network error or a timeout.
    Retry(String),
    /// Not worth sending again: any other answer (a 4xx: the receiver will refuse it again).
    Fail(String),
}

/// How much of an error answer's body is kept for the error message.
const ERROR_BODY_BYTES: usize = 512;

/// Posts `body` (a snappy-compressed `WriteRequest`) to `remote`.
pub(crate) async fn send(remote: &RemoteWrite, client: &Client, body: Bytes) -> Outcome {
    match tokio::time::timeout(remote.timeout, exchange(remote, client, body)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Retry(format!("no answer within {:?}", remote.timeout)),
    }
}

async fn exchange(remote: &RemoteWrite, client: &Client, body: Bytes) -> Outcome {
    let Connection {
        mut sender,
        host,
        port,
        uri,
    } = match connect::<Full<Bytes>>(&remote.url, client).await {
        Ok(connection) => connection,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut request = Request::post(path)
        .header(header::HOST, format!("{host}:{port}"))
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .header(header::CONTENT_ENCODING, "snappy")
        .header(header::USER_AGENT, "prometheus-client-pull/0.1")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0");
    if let Some(auth) = &remote.basic_auth {
        match auth.header_value() {
            Ok(value) => request = request.header(header::AUTHORIZATION, value),
            Err(e) => return Outcome::Retry(e),
        }
    }
    let request = match request.body(Full::new(body)) {
        Ok(request) => request,
        Err(e) => return Outcome::Fail(e.to_string()),
    };
    let response = match sender.send_request(request).await {
        Ok(response) => response,
        Err(e) => return Outcome::Retry(e.to_string()),
    };
    let status = response.status();
    if status.is_success() {
        return Outcome::Sent;
    }
    // At most the first bytes of the answer's body, however much the receiver sends.
    let mut body = response.into_body();
    let mut text = Vec::new();
    while text.len() < ERROR_BODY_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    text.extend_from_slice(&data);
                }
            }
            _ => break,
        }
    }
    text.truncate(ERROR_BODY_BYTES);
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let error = format!("server returned HTTP status {status}: {text}");
    let retry = status.is_server_error()
        || status == hyper::StatusCode::TOO_MANY_REQUESTS && remote.retry_on_http_429;
    if retry {
        Outcome::Retry(error)
    } else {
        Outcome::Fail(error)
    }
}
