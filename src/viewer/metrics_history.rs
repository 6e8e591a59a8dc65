//! [`MetricsHistory`]: the last 15 minutes of each name's requests/s,
//! errors/s, p50 and p99, for the overview's charts.
//!
//! The metrics hold cumulative counts only (they never reset), so a history
//! needs readings over time: every [`INTERVAL`] a reading of every server
//! series ([`metrics_totals::read`]) is compared with the one before, and the
//! difference becomes one point a name: requests and errors over the
//! interval's seconds, p50 and p99 estimated from the bucket differences
//! ([`quantile`]).
//!
//! Who takes the readings: a thread of its own (`sampler.rs`), started once a
//! viewer exists and metrics are measured. It only loads atomics every 10 s,
//! so no request pays for the charts; and it keeps the history while nobody
//! looks, which sampling when a page is rendered could not (the first view
//! would have no past). [`MetricsHistory::sample_at`] takes a reading at a
//! time the caller gives, so tests need neither the thread nor sleeping.
//!
//! Memory is bounded by counts: at most [`MAX_NAMES`] names (the viewer's
//! own cap; later names are counted, not charted), each with at most
//! [`POINTS`] points and one exemplar a duration bucket: 32 × 90 points of
//! 48 bytes, about 140 KiB at most.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use super::metrics_totals::{self, Naming, Reading, Totals};
use super::sampler::{self, Stop};
use super::store::MAX_NAMES;
use crate::metrics::quantile::{deltas, quantile, rate};
use crate::metrics::{Exemplar, HttpMetrics, DURATION_BOUNDS};

/// Time between two readings of the sampler thread.
pub(crate) const INTERVAL: Duration = Duration::from_secs(10);
/// How far back the charts go.
pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Points kept a name: the window at one point an interval.
pub(crate) const POINTS: usize = (WINDOW.as_secs() / INTERVAL.as_secs()) as usize;

/// One interval of one name, ending at `at`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Point {
    pub(crate) at: SystemTime,
    pub(crate) requests_per_sec: f64,
    pub(crate) errors_per_sec: f64,
    /// Estimated from the interval's bucket counts; `None` without requests.
    pub(crate) p50: Option<Duration>,
    pub(crate) p99: Option<Duration>,
}

/// One name's points, oldest first, and its buckets' latest exemplars.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NameHistory {
    pub(crate) name: String,
    pub(crate) points: Vec<Point>,
    /// By time, newest first.
    pub(crate) exemplars: Vec<Exemplar>,
}

/// What the page shows, copied out of the history.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct HistoryView {
    /// Whether requests are measured at all.
    pub(crate) enabled: bool,
    /// The last reading, the charts' right edge.
    pub(crate) last_at: Option<SystemTime>,
    /// By name.
    pub(crate) names: Vec<NameHistory>,
    /// Names seen beyond [`MAX_NAMES`] at the last reading, not charted.
    pub(crate) names_beyond_cap: usize,
    /// Requests in the metrics' overflow series, which have no name.
    pub(crate) overflow: u64,
}

/// The history of one layer's metrics, shared by its viewers.
#[derive(Debug)]
pub(crate) struct MetricsHistory {
    /// Weak: the charts never keep the layer's metrics alive.
    metrics: Weak<HttpMetrics>,
    naming: Naming,
    state: Mutex<State>,
    /// Whether the sampler thread was started.
    sampling: AtomicBool,
    /// Tells the sampler thread to end now rather than at its next reading.
    stop: Arc<Stop>,
}

/// Who takes a reading.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum By {
    /// The sampler thread, on the system clock.
    Thread,
    /// A caller with its own clock ([`MetricsHistory::sample_at`]).
    Caller,
}

#[derive(Debug, Default)]
struct State {
    last_at: Option<SystemTime>,
    rings: BTreeMap<String, Ring>,
    names_beyond_cap: usize,
    overflow: u64,
    /// A caller drives the clock: the thread's readings are refused.
    by_caller: bool,
}

#[derive(Debug, Default)]
struct Ring {
    /// The totals of the last reading, which the next one is compared with.
    last: Totals,
    points: VecDeque<Point>,
}

/// The sampler thread's reading: into `history` while it and the metrics
/// exist. The strong reference is dropped before the thread waits, so the
/// history can go while it sleeps.
fn reader(history: Weak<MetricsHistory>) -> impl FnMut(SystemTime) -> bool + Send + 'static {
    move |now| {
        history
            .upgrade()
            .is_some_and(|history| history.sample(now, By::Thread))
    }
}

impl MetricsHistory {
    pub(crate) fn new(metrics: &Arc<HttpMetrics>, naming: Naming) -> Self {
        MetricsHistory {
            metrics: Arc::downgrade(metrics),
            naming,
            state: Mutex::default(),
            sampling: AtomicBool::new(false),
            stop: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere leaves at worst a partly applied reading: keep going.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether requests are measured (the pull endpoint was made, or a push
    /// exporter is configured), while the layer's metrics exist.
    pub(crate) fn enabled(&self) -> bool {
        self.metrics.upgrade().is_some_and(|m| m.enabled())
    }

    /// Starts the sampler thread, once, if metrics are measured and no
    /// caller drives the clock; the thread when this call started it. Cheap
    /// to call again (a page view does, in case metrics were enabled after
    /// the viewer was made).
    pub(crate) fn start_sampler(self: &Arc<Self>) -> Option<JoinHandle<()>> {
        if self.sampling.load(Ordering::Acquire) || !self.enabled() || self.lock().by_caller {
            return None;
        }
        if self.sampling.swap(true, Ordering::AcqRel) {
            return None;
        }
        sampler::spawn(reader(Arc::downgrade(self)), self.stop.clone(), INTERVAL)
    }

    /// Takes a reading at `now` on the caller's clock. The first call stops
    /// the sampler thread and forgets its readings, so that every point comes
    /// from the caller's times.
    pub(crate) fn sample_at(&self, now: SystemTime) {
        {
            let mut state = self.lock();
            if !state.by_caller {
                *state = State {
                    by_caller: true,
                    ..State::default()
                };
                self.stop.stop();
            }
        }
        self.sample(now, By::Caller);
    }

    /// Takes a reading at `now`: read outside the lock, applied under it.
    /// Nothing when the thread's reading comes after a caller took over the
    /// clock; nothing either, and `false`, once the layer's metrics are gone
    /// (the thread ends then).
    pub(crate) fn sample(&self, now: SystemTime, by: By) -> bool {
        let Some(metrics) = self.metrics.upgrade() else {
            return false;
        };
        let reading = metrics_totals::read(&metrics, self.naming);
        drop(metrics);
        let mut state = self.lock();
        if by == By::Thread && state.by_caller {
            return true;
        }
        state.apply(now, reading);
        true
    }

    /// The points within [`WINDOW`] of the last reading, for a page.
    pub(crate) fn view(&self) -> HistoryView {
        let enabled = self.enabled();
        let state = self.lock();
        let since = state.last_at.and_then(|t| t.checked_sub(WINDOW));
        HistoryView {
            enabled,
            last_at: state.last_at,
            names: state
                .rings
                .iter()
                .map(|(name, ring)| {
                    let mut exemplars: Vec<Exemplar> =
                        ring.last.exemplars.iter().flatten().copied().collect();
                    exemplars.sort_by_key(|e| std::cmp::Reverse(e.time));
                    NameHistory {
                        name: name.clone(),
                        points: ring
                            .points
                            .iter()
                            .filter(|p| since.is_none_or(|s| p.at >= s))
                            .copied()
                            .collect(),
                        exemplars,
                    }
                })
                .collect(),
            names_beyond_cap: state.names_beyond_cap,
            overflow: state.overflow,
        }
    }
}

impl Drop for MetricsHistory {
    fn drop(&mut self) {
        self.stop.stop();
    }
}

impl State {
    /// Compares `reading` with the last one and adds a point a name.
    fn apply(&mut self, now: SystemTime, reading: Reading) {
        // No interval on the first reading; none either when the clock went
        // back or stood still: that reading becomes the new base, no point.
        let interval = self
            .last_at
            .and_then(|last| now.duration_since(last).ok())
            .filter(|d| !d.is_zero());
        self.last_at = Some(now);
        self.overflow = reading.overflow;
        self.names_beyond_cap = 0;
        for (name, totals) in reading.names {
            let tracked = self.rings.len();
            let ring = match self.rings.get_mut(&name) {
                Some(ring) => ring,
                // A name new since the last reading had no requests then (series
                // are never removed): compared with zero totals.
                None if tracked < MAX_NAMES => self.rings.entry(name).or_default(),
                None => {
                    self.names_beyond_cap += 1;
                    continue;
                }
            };
            if let Some(interval) = interval {
                ring.push(point(now, interval, &ring.last, &totals));
            }
            ring.last = totals;
        }
    }
}

impl Ring {
    /// Adds `point`, dropping what is beyond [`POINTS`] or older than the
    /// window (readings closer than [`INTERVAL`] cover less than the window).
    fn push(&mut self, point: Point) {
        self.points.push_back(point);
        while self.points.len() > POINTS {
            self.points.pop_front();
        }
        let since = point.at.checked_sub(WINDOW);
        while self
            .points
            .front()
            .is_some_and(|p| since.is_some_and(|s| p.at < s))
        {
            self.points.pop_front();
        }
    }
}

/// The interval from `before` to `now`, `interval` long.
fn point(at: SystemTime, interval: Duration, before: &Totals, now: &Totals) -> Point {
    let buckets = deltas(&now.buckets, &before.buckets);
    let estimate = |q: f64| {
        quantile(DURATION_BOUNDS, &buckets, q)
            .map(|nanos| Duration::from_nanos(nanos.round() as u64))
    };
    Point {
        at,
        requests_per_sec: rate(now.count.saturating_sub(before.count), interval),
        errors_per_sec: rate(now.errors.saturating_sub(before.errors), interval),
        p50: estimate(0.5),
        p99: estimate(0.99),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conventions::Conventions;
    use crate::metrics::CARDINALITY_LIMIT;
    use crate::viewer::sampler::tests::ended_soon;
    use crate::viewer::sampler::THREAD_NAME;
    use std::time::{Instant, UNIX_EPOCH};

    /// Started once, only when metrics are measured; the thread takes its
    /// base reading at once, and ends as soon as the history is dropped,
    /// not an interval (10 s) later.
    #[test]
    fn the_thread_reads_at_once_and_ends_with_the_history() {
        let metrics = Arc::new(HttpMetrics::new(
            Default::default(),
            false,
            CARDINALITY_LIMIT,
            opentelemetry_sdk::Resource::builder_empty().build(),
        ));
        let history = Arc::new(MetricsHistory::new(
            &metrics,
            Naming::of(&Conventions::legacy()),
        ));
        assert!(
            history.start_sampler().is_none(),
            "metrics are not measured"
        );
        metrics.enable();
        let thread = history.start_sampler().expect("a thread");
        assert!(history.start_sampler().is_none(), "one thread");
        assert_eq!(thread.thread().name(), Some(THREAD_NAME));
        let deadline = Instant::now() + Duration::from_secs(10);
        while history.view().last_at.is_none() {
            assert!(Instant::now() < deadline, "no base reading");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(history);
        ended_soon(thread);
    }

    /// Without the layer's metrics there is nothing to read: the thread
    /// ends at its next reading, even while a viewer keeps the history.
    #[test]
    fn the_thread_ends_when_the_metrics_are_gone() {
        let metrics = Arc::new(HttpMetrics::new(
            Default::default(),
            false,
            CARDINALITY_LIMIT,
            opentelemetry_sdk::Resource::builder_empty().build(),
        ));
        metrics.enable();
        let history = Arc::new(MetricsHistory::new(
            &metrics,
            Naming::of(&Conventions::legacy()),
        ));
        drop(metrics);
        // Started by hand: `start_sampler` would not start it without metrics.
        let thread = sampler::spawn(
            reader(Arc::downgrade(&history)),
            Arc::new(Stop::default()),
            Duration::from_secs(3600),
        )
        .expect("a thread");
        ended_soon(thread);
        assert!(history.view().last_at.is_none());
    }

    /// `count` requests, `errors` of them failed, all in bucket `bucket`.
    fn totals(count: u64, errors: u64, bucket: usize) -> Totals {
        let mut t = Totals {
            count,
            errors,
            ..Totals::default()
        };
        t.buckets[bucket] = count;
        t
    }

    fn reading(names: &[(&str, Totals)]) -> Reading {
        Reading {
            names: names
                .iter()
                .map(|(n, t)| ((*n).to_owned(), t.clone()))
                .collect(),
            overflow: 0,
        }
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
    }

    #[test]
    fn a_point_is_the_difference_of_two_readings_over_their_interval() {
        let mut state = State::default();
        state.apply(at(0), reading(&[("GET /a", totals(10, 0, 0))]));
        assert!(
            state.rings["GET /a"].points.is_empty(),
            "the first reading is the base"
        );
        // 30 more requests in 10 s, 5 of them failed, 300 ms each (bucket 7:
        // 250 to 500 ms); a name new since the base counts from zero.
        let mut a = totals(10, 0, 0);
        a.count += 30;
        a.errors += 5;
        a.buckets[7] += 30;
        state.apply(
            at(10),
            reading(&[("GET /a", a), ("GET /b", totals(4, 4, 1))]),
        );
        let p = state.rings["GET /a"].points[0];
        assert_eq!(
            (p.at, p.requests_per_sec, p.errors_per_sec),
            (at(10), 3.0, 0.5)
        );
        assert_eq!(p.p50, Some(Duration::from_micros(375_000)));
        assert_eq!(p.p99, Some(Duration::from_micros(497_500)));
        let b = state.rings["GET /b"].points[0];
        assert_eq!((b.requests_per_sec, b.errors_per_sec), (0.4, 0.4));
        // 5 to 10 ms: p50 at the middle of the bucket.
        assert_eq!(b.p50, Some(Duration::from_micros(7_500)));
        // Nothing new: zero rates, no latency.
        let same = state.rings["GET /a"].last.clone();
        state.apply(at(20), reading(&[("GET /a", same)]));
        let p = state.rings["GET /a"].points[1];
        assert_eq!((p.requests_per_sec, p.p50, p.p99), (0.0, None, None));
    }

    #[test]
    fn a_clock_that_goes_back_or_stands_still_makes_a_new_base() {
        let mut state = State::default();
        state.apply(at(10), reading(&[("GET /a", totals(1, 0, 0))]));
        state.apply(at(10), reading(&[("GET /a", totals(5, 0, 0))]));
        state.apply(at(5), reading(&[("GET /a", totals(7, 0, 0))]));
        assert!(state.rings["GET /a"].points.is_empty());
        state.apply(at(15), reading(&[("GET /a", totals(12, 0, 0))]));
        assert_eq!(state.rings["GET /a"].points[0].requests_per_sec, 0.5);
    }

    #[test]
    fn rings_keep_at_most_the_window() {
        let mut state = State::default();
        for i in 0..=200u64 {
            state.apply(at(i * 10), reading(&[("GET /a", totals(i, 0, 0))]));
        }
        let points = &state.rings["GET /a"].points;
        assert_eq!(points.len(), POINTS);
        assert_eq!(points.back().unwrap().at, at(2000));
        // Readings a second apart: the window, not the count, is the bound.
        let mut state = State::default();
        for i in 0..=200u64 {
            state.apply(at(i * 12), reading(&[("GET /a", totals(i, 0, 0))]));
        }
        let points = &state.rings["GET /a"].points;
        assert_eq!(points.len(), 76, "900 s at 12 s a point, both ends in");
        assert!(points.front().unwrap().at >= at(2400) - WINDOW);
    }

    #[test]
    fn names_beyond_the_cap_are_counted_not_kept() {
        let mut state = State::default();
        let names: Vec<String> = (0..MAX_NAMES + 5).map(|i| format!("GET /{i:03}")).collect();
        for t in 0..3 {
            let r = Reading {
                names: names.iter().map(|n| (n.clone(), totals(t, 0, 0))).collect(),
                overflow: 7,
            };
            state.apply(at(t * 10), r);
        }
        assert_eq!(state.rings.len(), MAX_NAMES);
        assert_eq!((state.names_beyond_cap, state.overflow), (5, 7));
        assert!(
            state.rings.contains_key("GET /000") && !state.rings.contains_key(&names[MAX_NAMES])
        );
    }

    /// A caller's clock replaces the thread's: its readings are forgotten,
    /// later ones refused, and the view covers the window before the last
    /// reading.
    #[test]
    fn a_callers_clock_takes_over_from_the_thread() {
        let metrics = Arc::new(HttpMetrics::new(
            Default::default(),
            false,
            CARDINALITY_LIMIT,
            opentelemetry_sdk::Resource::builder_empty().build(),
        ));
        metrics.enable();
        let history = MetricsHistory::new(
            &metrics,
            Naming::of(&crate::conventions::Conventions::legacy()),
        );
        history
            .lock()
            .apply(at(0), reading(&[("GET /a", totals(1, 0, 0))]));
        history.sample_at(at(100));
        assert!(
            history.lock().rings.is_empty(),
            "the thread's readings are forgotten"
        );
        history.sample(at(105), By::Thread);
        assert_eq!(
            history.lock().last_at,
            Some(at(100)),
            "the thread is refused"
        );
        history.sample_at(at(110));
        let view = history.view();
        assert!(view.enabled);
        assert_eq!(view.last_at, Some(at(110)));
        drop(metrics);
        assert!(!history.view().enabled, "the layer's metrics are gone");
    }
}
