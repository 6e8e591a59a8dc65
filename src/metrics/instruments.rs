//! The instruments, as the stable HTTP semantic conventions name them
//! (<https://opentelemetry.io/docs/specs/semconv/http/http-metrics/>): names,
//! units, descriptions and bucket boundaries, and the names the Prometheus
//! exposition gives them (OpenTelemetry's Prometheus mapping: dots become
//! underscores, the unit is appended).

/// A histogram's buckets: the upper bound of each but the last (`+Inf`), in
/// the unit the histogram counts in (nanoseconds, or bytes); at most
/// [`MAX_BOUNDS`].
pub(crate) type Bounds = &'static [u64];

/// Bounds a histogram has at most.
pub(crate) const MAX_BOUNDS: usize = 15;

/// An instrument: what it is called, in OpenTelemetry and in Prometheus, and
/// measured in.
#[derive(Debug)]
pub(crate) struct Instrument {
    /// Its OpenTelemetry name, as pushed.
    pub(crate) name: &'static str,
    /// Its unit, in UCUM as OTLP carries it.
    pub(crate) unit: &'static str,
    /// Its Prometheus name (the unit appended).
    pub(crate) prometheus: &'static str,
    pub(crate) description: &'static str,
}

/// `http.server.request.duration`: seconds, from the request's arrival to its
/// response's last byte (or its end, cancelled).
pub(crate) const SERVER_DURATION: Instrument = Instrument {
    name: "http.server.request.duration",
    unit: "s",
    prometheus: "http_server_request_duration_seconds",
    description: "Duration of HTTP server requests.",
};

/// `http.server.request.body.size`.
pub(crate) const SERVER_REQUEST_SIZE: Instrument = Instrument {
    name: "http.server.request.body.size",
    unit: "By",
    prometheus: "http_server_request_body_size_bytes",
    description: "Size of HTTP server request bodies.",
};

/// `http.server.response.body.size`.
pub(crate) const SERVER_RESPONSE_SIZE: Instrument = Instrument {
    name: "http.server.response.body.size",
    unit: "By",
    prometheus: "http_server_response_body_size_bytes",
    description: "Size of HTTP server response bodies.",
};

/// `http.client.request.duration`: seconds, from a call to its response's
/// last byte (or its failure).
pub(crate) const CLIENT_DURATION: Instrument = Instrument {
    name: "http.client.request.duration",
    unit: "s",
    prometheus: "http_client_request_duration_seconds",
    description: "Duration of HTTP client requests.",
};

/// `rpc.server.call.duration`: seconds, a gRPC call through the server
/// layer, from its arrival to its trailers.
pub(crate) const RPC_SERVER_DURATION: Instrument = Instrument {
    name: "rpc.server.call.duration",
    unit: "s",
    prometheus: "rpc_server_call_duration_seconds",
    description: "Measures the duration of an incoming Remote Procedure Call (RPC).",
};

/// `http.server.active_requests`: an up-down counter.
pub(crate) const SERVER_ACTIVE: Instrument = Instrument {
    name: "http.server.active_requests",
    unit: "{request}",
    prometheus: "http_server_active_requests",
    description: "Number of active HTTP server requests.",
};

/// The conventions' advised boundaries for durations
/// `[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]`
/// seconds, in nanoseconds.
pub(crate) const DURATION_BOUNDS: Bounds = &[
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    75_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    750_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    7_500_000_000,
    10_000_000_000,
];

/// The SDK specification's default explicit bucket boundaries, for body sizes
/// (the conventions advise none), in bytes.
pub(crate) const SIZE_BOUNDS: Bounds = &[
    0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1_000, 2_500, 5_000, 7_500, 10_000,
];

/// Nanoseconds in a second, for durations counted in nanoseconds.
pub(crate) const NANOS_PER_SECOND: f64 = 1e9;
