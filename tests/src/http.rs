//! Blocking HTTP to the emulator's admin APIs on loopback, through `ureq` (no TLS: loopback only).
use std::sync::OnceLock;
use std::time::Duration;

/// A response: status code and body.
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as (lossy) UTF-8, for error messages.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One agent for the process: every status is an answer, not an error, and nothing waits forever.
fn agent() -> &'static ureq::Agent {
    static AGENT: OnceLock<ureq::Agent> = OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent()
    })
}

/// Sends one request to `127.0.0.1:<port>` with a JSON body (if any) and reads the whole answer.
pub(crate) fn request(port: u16, method: &str, path: &str, body: Option<&[u8]>) -> Result<Response, ureq::Error> {
    request_with(port, method, path, &[("Content-Type", "application/json")], body)
}

/// [`request`] with these headers.
pub(crate) fn request_with(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Response, ureq::Error> {
    let uri = format!("http://127.0.0.1:{port}{path}");
    let mut request = ureq::http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body.unwrap_or_default().to_vec())?;
    let mut answer = agent().run(request)?;
    let status = answer.status().as_u16();
    let body = answer.body_mut().read_to_vec()?;
    Ok(Response { status, body })
}
