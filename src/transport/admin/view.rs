//! `/view` on the admin listener: an operator uploads a foreign pivot document and gets it back
//! as one page to read. The renderer is handed in by the node (transport knows no translation).
//! Nothing is stored, and neither the document nor why it was refused goes to the log.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::body::Body;
use hyper::{Method, Request, StatusCode};

use crate::soap::mtom::{self, ContentType};
use crate::transport::body::{read_limited, ReadBodyError};

/// Why a document could not be shown; its text is the 400 answer's body.
pub type RenderError = Box<dyn std::error::Error + Send + Sync>;
/// Document bytes to a self-contained HTML page.
pub type Render = Arc<dyn Fn(&[u8]) -> Result<String, RenderError> + Send + Sync>;

#[derive(Clone)]
pub struct DocumentView {
    pub render: Render,
    /// The largest upload accepted; beyond it the answer is 413.
    pub max_body: usize,
    /// The rendered page's Content-Security-Policy, sent as a header as well.
    pub page_csp: &'static str,
}

/// A slow upload on loopback is a stuck client; its connection is not kept forever.
const BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// An answer of the admin listener.
pub struct Reply {
    pub status: StatusCode,
    pub content_type: &'static str,
    pub body: String,
    /// Sent with HTML pages: the policy, no sniffing, no caching of patient data.
    pub csp: Option<&'static str>,
}

impl Reply {
    pub fn text(status: StatusCode, body: impl Into<String>) -> Reply {
        Reply {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            csp: None,
        }
    }
}

const FORM_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                        base-uri 'none'";

/// The upload form: one file field, sent as multipart/form-data to `POST /view`.
const FORM: &str = r#"<!DOCTYPE html>
<html lang="nb">
<head>
<meta charset="utf-8">
<title>Vis utenlandsk dokument</title>
<style>
body{font-family:system-ui,'DejaVu Sans',sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}
h1{color:#2b4a6f}
form{border:1px solid #ccd;padding:1rem;background:#f6f8fb}
button{margin-top:.8rem;padding:.3rem 1.2rem}
</style>
</head>
<body>
<h1>Vis et utenlandsk dokument på bokmål</h1>
<p>Velg et eHDSI-pivotdokument (pasientsammendrag, e-resept, utlevering, OrCD eller HCER) som
XML-fil. Det vises som én side med overskrifter og kodede verdier på bokmål. Dokumentet lagres ikke.</p>
<form method="post" action="/view" enctype="multipart/form-data">
<label for="document">Dokument (CDA, XML):</label>
<input id="document" type="file" name="document" accept=".xml,application/xml,text/xml" required>
<br><button type="submit">Vis</button>
</form>
</body>
</html>
"#;

pub async fn answer<B>(view: &DocumentView, req: Request<B>) -> Reply
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    match *req.method() {
        Method::GET | Method::HEAD => Reply {
            status: StatusCode::OK,
            content_type: "text/html; charset=utf-8",
            body: FORM.to_string(),
            csp: Some(FORM_CSP),
        },
        Method::POST => {
            let reply = render(view, req).await;
            tracing::info!(status = reply.status.as_u16(), "document view");
            reply
        }
        _ => Reply::text(
            StatusCode::METHOD_NOT_ALLOWED,
            "use GET for the form or POST a document\n",
        ),
    }
}

async fn render<B>(view: &DocumentView, req: Request<B>) -> Reply
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    let ct = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(ContentType::parse);
    let Some(ct) = ct.filter(|c| {
        matches!(
            c.media_type.as_str(),
            "application/xml" | "text/xml" | "multipart/form-data"
        )
    }) else {
        return Reply::text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the document as application/xml, text/xml or multipart/form-data\n",
        );
    };
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let too_large = || {
        Reply::text(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the document is larger than {} bytes\n", view.max_body),
        )
    };
    if declared.is_some_and(|n| n > view.max_body as u64) {
        return too_large();
    }
    let read = read_limited(req.into_body(), view.max_body, declared);
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, read).await {
        Ok(Ok(b)) => b,
        Ok(Err(ReadBodyError::TooLarge(_))) => return too_large(),
        Ok(Err(e)) => return Reply::text(StatusCode::BAD_REQUEST, format!("{e}\n")),
        Err(_) => return Reply::text(StatusCode::REQUEST_TIMEOUT, "upload too slow\n"),
    };
    // The form sends one file field; its part is the document. The MIME reader is the MTOM one:
    // with no `start` parameter, the first part is the root.
    let doc = if ct.media_type == "multipart/form-data" {
        match mtom::decode(&ct, bytes) {
            Ok(m) => m.root,
            Err(e) => {
                return Reply::text(
                    StatusCode::BAD_REQUEST,
                    format!("the form upload cannot be read: {e}\n"),
                )
            }
        }
    } else {
        bytes
    };
    let render = view.render.clone();
    match tokio::task::spawn_blocking(move || render(&doc)).await {
        Ok(Ok(page)) => Reply {
            status: StatusCode::OK,
            content_type: "text/html; charset=utf-8",
            body: page,
            csp: Some(view.page_csp),
        },
        Ok(Err(e)) => Reply::text(
            StatusCode::BAD_REQUEST,
            format!("the document cannot be shown: {e}\n"),
        ),
        Err(_) => Reply::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be made\n",
        ),
    }
}
