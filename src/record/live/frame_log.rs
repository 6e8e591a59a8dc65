//! [`FrameLog`]: the frames of a record (`record.rs`): which
//! message, and the ticks it began and ended at, written as they happen by the
//! request body, the response future and the response body, which may each run
//! on another thread. A plain request has 2 to 4 frames, written to inline
//! slots with three atomic stores and no lock; only a long stream's further
//! frames (bounded by `max_frame_spans`, see `totals.rs`) take the spill
//! list's lock.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::clock::Tick;
use crate::conventions::message::Message;

/// Frames kept inline: receive, response start and one body frame, what most
/// requests have.
const INLINE: usize = 3;

/// One frame.
#[derive(Clone, Copy)]
pub(crate) struct LoggedFrame {
    pub(crate) message: Message,
    pub(crate) start: Tick,
    pub(crate) end: Tick,
}

/// An inline slot. `message` is written last (release) and read first
/// (acquire): a slot whose message is still 0 is not written yet.
struct Slot {
    message: AtomicU8,
    start: fastant::Atomic,
    end: fastant::Atomic,
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            message: AtomicU8::new(0),
            start: fastant::Atomic::new(Tick::ZERO),
            end: fastant::Atomic::new(Tick::ZERO),
        }
    }
}

#[derive(Default)]
pub(crate) struct FrameLog {
    next: AtomicUsize,
    slots: [Slot; INLINE],
    more: Mutex<Vec<LoggedFrame>>,
}

impl FrameLog {
    #[inline]
    pub(crate) fn push(&self, message: Message, start: Tick, end: Tick) {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        match self.slots.get(i) {
            Some(slot) => {
                slot.start.store(start, Ordering::Relaxed);
                slot.end.store(end, Ordering::Relaxed);
                slot.message.store(code(message), Ordering::Release);
            }
            None => self
                .more
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(LoggedFrame {
                    message,
                    start,
                    end,
                }),
        }
    }

    /// Each of the first `limit` frames written so far, in the order they were
    /// written, without collecting them (a request's spans are built by one
    /// walk); the spilled ones are taken, so a second walk sees only the
    /// inline slots.
    pub(crate) fn for_each(&self, limit: usize, mut f: impl FnMut(LoggedFrame)) {
        let mut left = limit;
        for slot in &self.slots {
            if left == 0 {
                return;
            }
            let Some(message) = message(slot.message.load(Ordering::Acquire)) else {
                continue;
            };
            f(LoggedFrame {
                message,
                start: slot.start.load(Ordering::Relaxed),
                end: slot.end.load(Ordering::Relaxed),
            });
            left -= 1;
        }
        if left == 0 || self.next.load(Ordering::Relaxed) <= INLINE {
            return;
        }
        let more = std::mem::take(&mut *self.more.lock().unwrap_or_else(PoisonError::into_inner));
        more.into_iter().take(left).for_each(f);
    }

    /// How many frames are written completely so far; never fewer later, so
    /// that many can always be walked (`for_each`) afterwards.
    pub(crate) fn written(&self) -> usize {
        let inline = self
            .slots
            .iter()
            .filter(|slot| slot.message.load(Ordering::Acquire) != 0)
            .count();
        if self.next.load(Ordering::Relaxed) <= INLINE {
            return inline;
        }
        inline
            + self
                .more
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len()
    }

    /// The frames written so far, in the order they were written.
    #[cfg(test)]
    fn frames(&self) -> Vec<LoggedFrame> {
        let mut frames = Vec::new();
        self.for_each(usize::MAX, |frame| frames.push(frame));
        frames
    }
}

fn code(message: Message) -> u8 {
    match message {
        Message::ResponseStart => 1,
        Message::ResponseBody => 2,
        Message::ResponseTrailers => 3,
        Message::Request => 4,
    }
}

fn message(code: u8) -> Option<Message> {
    Some(match code {
        1 => Message::ResponseStart,
        2 => Message::ResponseBody,
        3 => Message::ResponseTrailers,
        4 => Message::Request,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn frames_come_back_in_order_past_the_inline_slots() {
        let log = FrameLog::default();
        let t0 = crate::clock::tick();
        let kinds = [
            Message::Request,
            Message::ResponseStart,
            Message::ResponseBody,
            Message::ResponseBody,
            Message::ResponseBody,
            Message::ResponseTrailers,
        ];
        for (i, kind) in kinds.iter().enumerate() {
            let start = t0 + Duration::from_micros(i as u64 * 10);
            log.push(*kind, start, start + Duration::from_micros(7));
        }
        let frames = log.frames();
        assert_eq!(frames.len(), kinds.len());
        for (i, (frame, kind)) in frames.iter().zip(kinds).enumerate() {
            assert_eq!(frame.message.as_str(), kind.as_str());
            assert_eq!(frame.start, t0 + Duration::from_micros(i as u64 * 10));
            assert_eq!(frame.end, frame.start + Duration::from_micros(7));
        }
    }

    #[test]
    fn frames_from_many_threads_are_all_kept() {
        let log = std::sync::Arc::new(FrameLog::default());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let log = log.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let now = crate::clock::tick();
                        log.push(Message::Request, now, now);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(log.frames().len(), 200);
    }
}
