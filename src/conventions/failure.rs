//! What ended an exchange badly, for the server span's `exception` event
//! (<https://opentelemetry.io/docs/specs/semconv/exceptions/exceptions-spans/>).

use std::any::Any;
use std::borrow::Cow;

/// What ended an exchange early or badly, for the server span's exception event.
pub(crate) struct Failure<'a> {
    pub(crate) kind: Cow<'a, str>,
    pub(crate) message: Cow<'a, str>,
}

/// The message a panic carried, when it is text.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}
