//! The request path's clock, which records and metrics read. A frame's wait is timed in TSC ticks (`fastant`:
//! a counter read, where `SystemTime::now` is a clock call), and a frame that
//! was there at once reads the clock once, not twice. A record stores only
//! ticks, in lock-free slots (`frame_log.rs`); the wall clock is read once,
//! when its spans are built, and only if it is exported ([`Anchor`]); an
//! exemplar's time is a tick turned into Unix time.
//!
//! `fastant` calibrates the TSC once, before `main`, in every program that
//! links this crate: a busy wait of at least 20 ms of one core. Where the TSC
//! is not usable it falls back to the system clock.

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
        assert!(converted.duration_since(anchor.wall).unwrap() >= Duration::from_millis(19));
        assert_eq!(anchor.at(anchor.tick), anchor.wall);
        // The other way round: a tick read before its anchor.
        let later = Anchor::now();
        let back = later.at(anchor.tick);
        let off = match back.duration_since(anchor.wall) {
            Ok(d) => d,
            Err(e) => e.duration(),
        };
        assert!(off < Duration::from_millis(2), "{off:?} apart");
    }
}
