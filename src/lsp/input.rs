//! The protocol's input, checked frame by frame before tower-lsp-server reads it.
//!
//! Owns: splitting the byte stream into `Content-Length` frames and deciding which frames are
//! JSON-RPC messages. Must never: interpret a message (tower-lsp-server and the server do),
//! buffer more than one frame of at most [`MAX_MESSAGE_SIZE`], or log a message's contents.
//!
//! Why it exists: tower-lsp-server's reader ends for good at the first frame it cannot decode
//! (tokio-util's `FramedRead` stops after a decoder error), so one malformed message, or one
//! stray byte, from a client would end the session. Here:
//!
//! - input that does not start a frame (a header block without a usable `Content-Length`, or
//!   bytes in front of one) is dropped up to the next `Content-Length`, however the reads split
//!   it (as tower-lsp-server itself resynchronises);
//! - a frame larger than [`MAX_MESSAGE_SIZE`] is skipped without being buffered: only its
//!   first [`SNIFF_SIZE`] bytes are kept, to learn what it was. A request is answered (under
//!   its id, through [`TOO_LARGE_METHOD`], with an error naming the limit); a `didOpen` or
//!   `didChange` becomes a [`DOCUMENT_TOO_LARGE_METHOD`] notification for its document, so the
//!   server can say at that document why it is not analysed; anything else is dropped;
//! - a body that is not UTF-8 JSON forming a JSON-RPC message is dropped, or, when it carries
//!   a usable `id`, replaced by a request to [`INVALID_REQUEST_METHOD`] under that id, which
//!   the server answers with `Invalid Request`: a client waiting for that id is answered;
//! - every other frame passes unchanged (re-framed with only its `Content-Length`).
//!
//! Each dropped or replaced frame is logged (why, and its size: never its contents).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, ReadBuf};
use tower_lsp_server::jsonrpc::{Request, Response};

/// The largest message read (32 MiB), so that what the server holds for one message is
/// bounded by this number and not by what a client sends. A `didOpen` of a file at the
/// default file size limit (2 MiB) is at most 12 MiB of JSON even when every character is
/// escaped; anything larger is skipped unread (see the module docs).
pub const MAX_MESSAGE_SIZE: usize = 32 << 20;

/// How much of a skipped message is kept to learn its method, id and document.
pub const SNIFF_SIZE: usize = 16 << 10;

/// The method a malformed request with a usable id is turned into.
pub const INVALID_REQUEST_METHOD: &str = "threat-analyzer/invalidRequest";

/// The method a request over [`MAX_MESSAGE_SIZE`] is turned into (params: `method`, `bytes`,
/// `limit`); the server answers it with an error.
pub const TOO_LARGE_METHOD: &str = "threat-analyzer/messageTooLarge";

/// The notification a `didOpen`/`didChange` over [`MAX_MESSAGE_SIZE`] is turned into (params:
/// `uri`, `languageId` and `version` when they were seen, `method`, `bytes`, `limit`).
pub const DOCUMENT_TOO_LARGE_METHOD: &str = "threat-analyzer/documentTooLarge";

/// The header every frame has: what reading looks for after input that is not a frame.
const HEADER_NAME: &[u8] = b"Content-Length";

/// Header blocks longer than this are not headers.
const MAX_HEADER_SIZE: usize = 8 << 10;

/// How much is read from the inner stream at a time.
const READ_CHUNK: usize = 64 << 10;

/// An [`AsyncRead`] that passes on only well-formed frames (see the module docs).
// @exposes ThreatAnalyzer.Server to #protocol-desync -- "tower-lsp-server stops reading at the first bad frame"
// @mitigates ThreatAnalyzer.Server against #protocol-desync using #checked-input
// @mitigates ThreatAnalyzer.Server against #resource-exhaustion using #resource-limits
pub struct CheckedInput<R> {
    inner: R,
    /// Bytes read and not yet framed.
    pending: Vec<u8>,
    /// A checked frame being handed out, and how much of it is out already.
    ready: Vec<u8>,
    ready_at: usize,
    /// Bytes of an oversized body still to be discarded.
    skip: usize,
    /// The oversized body's length and its first [`SNIFF_SIZE`] bytes.
    skipped: Option<(usize, Vec<u8>)>,
    /// After input that is not a frame: everything up to the next `Content-Length` is dropped,
    /// however the reads split it.
    lost: bool,
    eof: bool,
    /// Where each read lands before `pending` takes what it filled (zeroed once, not per read).
    read_buf: Box<[u8]>,
}

impl<R> CheckedInput<R> {
    pub fn new(inner: R) -> Self {
        CheckedInput {
            inner,
            pending: Vec::new(),
            ready: Vec::new(),
            ready_at: 0,
            skip: 0,
            skipped: None,
            lost: false,
            eof: false,
            read_buf: vec![0; READ_CHUNK].into_boxed_slice(),
        }
    }

    /// The next checked frame from `pending`, or `None` when more input is needed.
    fn next_frame(&mut self) -> Option<Vec<u8>> {
        loop {
            if self.skip > 0 {
                let n = self.skip.min(self.pending.len());
                if let Some((_, prefix)) = &mut self.skipped {
                    let keep = n.min(SNIFF_SIZE - prefix.len());
                    prefix.extend_from_slice(&self.pending[..keep]);
                }
                self.pending.drain(..n);
                self.skip -= n;
                if self.skip > 0 {
                    return None;
                }
            }
            if let Some((length, prefix)) = self.skipped.take() {
                if let Some(replacement) = too_large(&sniff(&prefix), length) {
                    return Some(frame(replacement.to_string().as_bytes()));
                }
                tracing::warn!(
                    bytes = length,
                    "dropped a message over the size limit (not a request, nor a document's text)"
                );
                continue;
            }
            if self.lost {
                match memchr::memmem::find(&self.pending, HEADER_NAME) {
                    Some(at) => {
                        self.pending.drain(..at);
                        self.lost = false;
                    }
                    None => {
                        // All but what may be the start of the name, cut by the read.
                        let keep = HEADER_NAME.len() - 1;
                        self.pending.drain(..self.pending.len().saturating_sub(keep));
                        return None;
                    }
                }
            }
            // A header block longer than the limit is dropped whether its end has arrived
            // (`header_end` past the limit) or not (so much input that it would be): the same
            // bytes go however the reads split them.
            let header_end = memchr::memmem::find(&self.pending, b"\r\n\r\n");
            if header_end.map_or(self.pending.len() > MAX_HEADER_SIZE + 3, |end| end > MAX_HEADER_SIZE) {
                tracing::warn!("dropped input that is not a message header");
                self.get_lost();
                continue;
            }
            let header_end = header_end?; // more input is needed
            let Some(length) = content_length(&self.pending[..header_end]) else {
                // The body's length is unknown, and what looked like a header block may be
                // garbage in front of a good frame: look for the next header from here.
                tracing::warn!("dropped input without a valid Content-Length header");
                self.get_lost();
                continue;
            };
            let body_start = header_end + 4;
            if length > MAX_MESSAGE_SIZE {
                tracing::warn!(
                    bytes = length,
                    limit = MAX_MESSAGE_SIZE,
                    "skipped a message over the size limit"
                );
                self.pending.drain(..body_start);
                self.skip = length;
                self.skipped = Some((length, Vec::with_capacity(SNIFF_SIZE.min(length))));
                continue;
            }
            if self.pending.len() < body_start + length {
                self.pending.reserve(body_start + length - self.pending.len());
                return None;
            }
            let body: Vec<u8> = self.pending.drain(..body_start + length).skip(body_start).collect();
            match check(&body) {
                Checked::Message => return Some(frame(&body)),
                Checked::Invalid { id: Some(id), reason } => {
                    tracing::warn!(bytes = length, "answered a malformed request: {reason}");
                    let replacement = serde_json::json!({
                        "jsonrpc": "2.0", "id": id, "method": INVALID_REQUEST_METHOD, "params": null
                    });
                    return Some(frame(replacement.to_string().as_bytes()));
                }
                Checked::Invalid { id: None, reason } => {
                    tracing::warn!(bytes = length, "dropped a malformed message: {reason}");
                }
            }
        }
    }

    /// Drops the first byte of `pending`, which starts no frame, and then everything up to the
    /// next `Content-Length` (see [`Self::lost`]).
    fn get_lost(&mut self) {
        self.pending.drain(..self.pending.len().min(1));
        self.lost = true;
    }
}

/// The `Content-Length` of a header block (`Name: value` lines separated by CRLF).
fn content_length(headers: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(headers).ok()?;
    let mut length = None;
    for line in text.split("\r\n") {
        let (name, value) = line.split_once(':')?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse().ok()?);
        }
    }
    length
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// What the start of a skipped message says about it (see [`sniff`]).
#[derive(Debug, Default, PartialEq)]
struct Sniffed {
    method: Option<String>,
    id: Option<serde_json::Value>,
    uri: Option<String>,
    language_id: Option<String>,
    version: Option<i64>,
}

/// The replacement for a message of `length` bytes over the limit, when one is due: an error
/// answer for a request, a [`DOCUMENT_TOO_LARGE_METHOD`] notification for a document's text.
fn too_large(sniffed: &Sniffed, length: usize) -> Option<serde_json::Value> {
    let method = sniffed.method.as_deref()?;
    if let Some(id) = &sniffed.id {
        tracing::warn!(bytes = length, limit = MAX_MESSAGE_SIZE, "answered a request over the size limit");
        return Some(serde_json::json!({
            "jsonrpc": "2.0", "id": id, "method": TOO_LARGE_METHOD,
            "params": {"method": method, "bytes": length, "limit": MAX_MESSAGE_SIZE}
        }));
    }
    if !matches!(method, "textDocument/didOpen" | "textDocument/didChange") {
        return None;
    }
    let uri = sniffed.uri.as_deref()?;
    tracing::warn!(bytes = length, limit = MAX_MESSAGE_SIZE, "a document's text is over the size limit");
    Some(serde_json::json!({
        "jsonrpc": "2.0", "method": DOCUMENT_TOO_LARGE_METHOD,
        "params": {"uri": uri, "languageId": sniffed.language_id, "version": sniffed.version,
                   "method": method, "bytes": length, "limit": MAX_MESSAGE_SIZE}
    }))
}

/// Reads `method`, `id`, `params.textDocument.uri` and `params.textDocument.version` from the
/// start of a JSON-RPC message, which may end anywhere (it is a prefix). A small scanner, not
/// a parser: it tracks where it is (strings, nesting, the key path) and decodes only the
/// values it wants; whatever it cannot make sense of it leaves out.
fn sniff(prefix: &[u8]) -> Sniffed {
    let mut found = Sniffed::default();
    // One entry per open container: whether it is an object, and the key last read in it.
    let mut path: Vec<(bool, Option<String>)> = Vec::new();
    let mut expecting_key = false;
    let mut at = 0;
    while at < prefix.len() {
        match prefix[at] {
            open @ (b'{' | b'[') => {
                expecting_key = open == b'{';
                path.push((expecting_key, None));
                at += 1;
            }
            b'}' | b']' => {
                path.pop();
                at += 1;
            }
            b',' => {
                expecting_key = path.last().is_some_and(|(object, _)| *object);
                at += 1;
            }
            b'"' => {
                let Some(end) = string_end(prefix, at) else { break };
                let text: Option<String> = serde_json::from_slice(&prefix[at..end]).ok();
                if expecting_key {
                    if let Some((_, key)) = path.last_mut() {
                        *key = text;
                    }
                    expecting_key = false;
                } else if let Some(text) = text {
                    match keys(&path).as_slice() {
                        ["method"] => found.method = Some(text),
                        ["id"] => found.id = Some(serde_json::Value::String(text)),
                        ["params", "textDocument", "uri"] => found.uri = Some(text),
                        ["params", "textDocument", "languageId"] => found.language_id = Some(text),
                        _ => {}
                    }
                }
                at = end;
            }
            b'-' | b'0'..=b'9' => {
                let end = at + prefix[at..].iter().take_while(|b| b.is_ascii_digit() || **b == b'-').count();
                // A number that reaches the end of the prefix may be cut short.
                if end < prefix.len() {
                    let number =
                        std::str::from_utf8(&prefix[at..end]).ok().and_then(|n| n.parse::<i64>().ok());
                    match (keys(&path).as_slice(), number) {
                        (["id"], Some(number)) => found.id = Some(number.into()),
                        (["params", "textDocument", "version"], Some(number)) => found.version = Some(number),
                        _ => {}
                    }
                }
                at = end;
            }
            _ => at += 1,
        }
    }
    found
}

/// The keys of the open objects on `path`, outermost first, as far as every one is known (an
/// array on the way ends it).
fn keys(path: &[(bool, Option<String>)]) -> Vec<&str> {
    path.iter().map_while(|(object, key)| key.as_deref().filter(|_| *object)).collect()
}

/// The end (exclusive) of the JSON string that starts with the `"` at `start`, if it ends in
/// `bytes`.
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut at = start + 1;
    while at < bytes.len() {
        match bytes[at] {
            b'\\' => at += 2,
            b'"' => return Some(at + 1),
            _ => at += 1,
        }
    }
    None
}

enum Checked {
    Message,
    Invalid { id: Option<serde_json::Value>, reason: String },
}

/// Whether `body` is a message tower-lsp-server can read (what its decoder accepts).
fn check(body: &[u8]) -> Checked {
    let text = match std::str::from_utf8(body) {
        Ok(text) => text,
        Err(e) => return Checked::Invalid { id: None, reason: format!("not UTF-8 ({e})") },
    };
    if serde_json::from_str::<Request>(text).is_ok() || serde_json::from_str::<Response>(text).is_ok() {
        return Checked::Message;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => Checked::Invalid { id: None, reason: format!("not JSON ({e})") },
        Ok(value) => {
            // Only a request (a method and an id) expects an answer.
            let id = value
                .get("id")
                .filter(|id| id.is_string() || id.is_i64() || id.is_u64())
                .filter(|_| value.get("method").is_some())
                .cloned();
            Checked::Invalid { id, reason: "not a JSON-RPC 2.0 message".into() }
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for CheckedInput<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.ready_at < this.ready.len() {
                let n = out.remaining().min(this.ready.len() - this.ready_at);
                out.put_slice(&this.ready[this.ready_at..this.ready_at + n]);
                this.ready_at += n;
                return Poll::Ready(Ok(()));
            }
            if let Some(frame) = this.next_frame() {
                this.ready = frame;
                this.ready_at = 0;
                // A big message leaves big buffers behind: give the memory back.
                if this.pending.capacity() > 4 * READ_CHUNK && this.pending.len() < READ_CHUNK {
                    this.pending.shrink_to(READ_CHUNK);
                }
                continue;
            }
            if this.ready.capacity() > 4 * READ_CHUNK {
                this.ready = Vec::new();
            }
            if this.eof {
                return Poll::Ready(Ok(()));
            }
            let mut buf = ReadBuf::new(&mut this.read_buf);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut buf))?;
            let filled = buf.filled();
            if filled.is_empty() {
                this.eof = true;
            }
            this.pending.extend_from_slice(filled);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    fn framed(body: &str) -> Vec<u8> {
        frame(body.as_bytes())
    }

    async fn pass(input: Vec<u8>) -> String {
        let mut out = String::new();
        CheckedInput::new(&input[..]).read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn good_frames_pass_and_bad_ones_are_dropped_or_answered() {
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let note = r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#;
        let input = [
            framed(good),
            framed("{oops"),
            b"Content-Length: twelve\r\n\r\n{}".to_vec(),
            frame(b"\xff\xfe"),
            framed(r#"{"jsonrpc":"1.0","id":7,"method":"x"}"#),
            framed(r#"{"jsonrpc":"1.0","id":{"a":1},"method":"x"}"#),
            b"Content-Type: text/plain\r\n\r\n".to_vec(),
            framed(note),
        ]
        .concat();
        let out = pass(input).await;
        let replaced =
            format!(r#"{{"id":7,"jsonrpc":"2.0","method":"{INVALID_REQUEST_METHOD}","params":null}}"#);
        assert_eq!(out, String::from_utf8([framed(good), framed(&replaced), framed(note)].concat()).unwrap());
    }

    /// `body` padded with spaces to one byte over the limit, framed.
    fn oversized(body: &str) -> Vec<u8> {
        let mut padded = body.as_bytes().to_vec();
        padded.resize(MAX_MESSAGE_SIZE + 1, b' ');
        frame(&padded)
    }

    #[tokio::test]
    async fn oversized_frames_are_skipped_unread_and_reading_goes_on() {
        let good = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let mut input = format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE_SIZE + 1).into_bytes();
        input.resize(input.len() + MAX_MESSAGE_SIZE + 1, b'x');
        input.extend(framed(good));
        assert_eq!(pass(input).await, String::from_utf8(framed(good)).unwrap());
    }

    #[tokio::test]
    async fn oversized_requests_are_answered_and_documents_reported() {
        let request = r#"{"jsonrpc":"2.0","id":9,"method":"workspace/symbol","params":{"query":""#;
        let open = r##"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":
            {"uri":"file:///w/a.py","languageId":"python","version":3,"text":"# @asset \"uri\": x"##;
        let other = r#"{"jsonrpc":"2.0","method":"workspace/didChangeConfiguration","params":{"#;
        let good = r#"{"jsonrpc":"2.0","method":"exit"}"#;
        let input = [oversized(request), oversized(open), oversized(other), framed(good)].concat();
        let answered = serde_json::json!({"jsonrpc": "2.0", "id": 9, "method": TOO_LARGE_METHOD,
            "params": {"method": "workspace/symbol", "bytes": MAX_MESSAGE_SIZE + 1, "limit": MAX_MESSAGE_SIZE}});
        let reported = serde_json::json!({"jsonrpc": "2.0", "method": DOCUMENT_TOO_LARGE_METHOD,
            "params": {"uri": "file:///w/a.py", "languageId": "python", "version": 3, "method": "textDocument/didOpen",
                       "bytes": MAX_MESSAGE_SIZE + 1, "limit": MAX_MESSAGE_SIZE}});
        let want = [framed(&answered.to_string()), framed(&reported.to_string()), framed(good)].concat();
        assert_eq!(pass(input).await, String::from_utf8(want).unwrap());
    }

    #[test]
    fn sniffing_reads_only_the_messages_own_fields() {
        let text = r#"{"id":"a\"b","params":{"textDocument":{"version":-2,"text":"{\"method\":\"x\"}","uri":"u"},
            "uri":"not this","method":"nor this"},"method":"textDocument/didChange","list":[{"id":1}],"#;
        let want = Sniffed {
            method: Some("textDocument/didChange".into()),
            id: Some("a\"b".into()),
            uri: Some("u".into()),
            language_id: None,
            version: Some(-2),
        };
        assert_eq!(sniff(text.as_bytes()), want);
        // Cut anywhere, it never invents a value: each field is either whole or missing.
        for cut in 0..text.len() {
            let partial = sniff(&text.as_bytes()[..cut]);
            for (got, whole) in [(&partial.method, &want.method), (&partial.uri, &want.uri)] {
                assert!(got.is_none() || got == whole, "cut at {cut}: {partial:?}");
            }
            assert!(partial.id.is_none() || partial.id == want.id, "cut at {cut}: {partial:?}");
            assert!(
                partial.version.is_none() || partial.version == want.version,
                "cut at {cut}: {partial:?}"
            );
        }
        // A number cut by the end of the prefix is not taken.
        assert_eq!(sniff(br#"{"method":"m","id":12"#).id, None);
    }

    /// Each read hands over at most `size` bytes of `input`.
    async fn pass_in_reads_of(size: usize, input: Vec<u8>) -> String {
        let (mut tx, rx) = tokio::io::duplex(size);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            tx.write_all(&input).await.unwrap();
        });
        let mut out = String::new();
        CheckedInput::new(rx).read_to_string(&mut out).await.unwrap();
        writer.await.unwrap();
        out
    }

    #[tokio::test]
    async fn bad_frames_are_dropped_wherever_the_reads_split_them() {
        // A header block without a usable length leaves its body ("{}") unread: what follows
        // it up to the next `Content-Length` is dropped even when that arrives in a later read.
        let good = r#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#;
        let input = [
            b"Content-Length: twelve\r\n\r\n{}".to_vec(),
            framed(good),
            b"Content-Type: text/plain\r\n\r\n{}".to_vec(),
            framed(good),
            vec![b'x'; MAX_HEADER_SIZE + 10],
            framed(good),
            // A header block over the limit, whole in one read or not: dropped with its body.
            format!("Content-Length: 44\r\nX-Pad: {}\r\n\r\n{good}", "p".repeat(MAX_HEADER_SIZE))
                .into_bytes(),
            framed(good),
        ]
        .concat();
        let want =
            String::from_utf8([framed(good), framed(good), framed(good), framed(good)].concat()).unwrap();
        assert_eq!(pass(input.clone()).await, want, "in one read");
        for size in [1, 2, 3, 5, 8, 13, 29, 64, 1000] {
            assert_eq!(pass_in_reads_of(size, input.clone()).await, want, "in reads of {size} bytes");
        }
    }

    #[tokio::test]
    async fn frames_split_across_reads_are_reassembled() {
        let good = r#"{"jsonrpc":"2.0","id":"a","method":"shutdown"}"#;
        let out = pass_in_reads_of(3, [framed(good), framed(good)].concat()).await;
        assert_eq!(out, String::from_utf8([framed(good), framed(good)].concat()).unwrap());
    }
}
