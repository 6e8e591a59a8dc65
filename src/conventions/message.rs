//! The ASGI message a child span records: BentoML's children are ASGI
//! `send`/`receive` calls, and each carries the message's `type`.

/// The `type` of an ASGI message, which each child span carries.
#[derive(Clone, Copy)]
pub(crate) enum Message {
    ResponseStart,
    ResponseBody,
    ResponseTrailers,
    Request,
}

impl Message {
    /// How many kinds there are (`as usize` numbers them from 0).
    pub(crate) const KINDS: usize = 4;

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Message::ResponseStart => "http.response.start",
            Message::ResponseBody => "http.response.body",
            Message::ResponseTrailers => "http.response.trailers",
            Message::Request => "http.request",
        }
    }
}
