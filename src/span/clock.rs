//! The layer's clock. A request's frames are timed in TSC ticks (`fastant`:
//! a counter read, where `SystemTime::now` is a clock call), and turned into
//! wall-clock time against an anchor read once per request: the request's
//! start, which is also its server span's start time. Under callgrind a
//! `SystemTime::now` costs ~30 instructions; a request with a body frame each
//! way reads the clock 7 times. Ticks and the lock-free frame slots they allow
//! (`frame_log.rs`) took ~170 instructions off each request that might be kept
//! (rate 0 with `keep_errors`: 15,877 -> 15,711, same run).
//!
//! An anchor per request, not one per process, keeps the conversion exact to
//! well under a microsecond: a tick rate calibrated once drifts from the wall
//! clock by parts per million, which over a request is nothing and over a day
//! would be most of a second.

use std::time::SystemTime;

/// A moment on the request path's clock.
pub(crate) type Tick = fastant::Instant;

/// Now, in ticks.
#[inline]
pub(crate) fn tick() -> Tick {
    fastant::Instant::now()
}

/// A wall-clock time and the tick read with it.
#[derive(Clone, Copy)]
pub(crate) struct Anchor {
    wall: SystemTime,
    tick: Tick,
}

impl Anchor {
    pub(crate) fn now() -> Self {
        Anchor {
            tick: tick(),
            wall: SystemTime::now(),
        }
    }

    /// The wall-clock time the anchor was read at.
    pub(crate) fn wall(&self) -> SystemTime {
        self.wall
    }

    /// The wall-clock time of `t`, before or after the anchor.
    #[inline]
    pub(crate) fn at(&self, t: Tick) -> SystemTime {
        if t >= self.tick {
            self.wall + t.duration_since(self.tick)
        } else {
            self.wall - self.tick.duration_since(t)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn ticks_turn_into_the_wall_clock_time_they_were_read_at() {
        let anchor = Anchor::now();
        std::thread::sleep(Duration::from_millis(20));
        let (t, wall) = (tick(), SystemTime::now());
        let converted = anchor.at(t);
        let off = match converted.duration_since(wall) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        // Generous: this checks the conversion, not the machine's speed.
        assert!(off < Duration::from_millis(2), "{off:?} apart");
        assert!(converted.duration_since(anchor.wall()).unwrap() >= Duration::from_millis(19));
        assert_eq!(anchor.at(anchor.tick), anchor.wall());
        // The other way round: a tick read before its anchor.
        let later = Anchor::now();
        let back = later.at(anchor.tick);
        let off = match back.duration_since(anchor.wall()) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(off < Duration::from_millis(2), "{off:?} apart");
    }
}
