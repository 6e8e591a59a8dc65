//! OTLP metrics: a [`Collection`] as an `ExportMetricsServiceRequest`
//! (opentelemetry-proto's types), sent over HTTP by the traces' own exporter
//! (`exporter/otlp/http.rs`: gzip, retries within the timeout) or over gRPC
//! (`grpc.rs`, feature `otlp-grpc`).

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue as PbKeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, metric, number_data_point, AggregationTemporality, Exemplar, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource as PbResource;
use opentelemetry_proto::transform::common::tonic::Attributes as PbAttributes;
use opentelemetry_sdk::Resource;
use prost::Message as _;

use super::collect::{Collection, Family, Point};
use super::{PushError, PushExporter};
use crate::config::redact::url_credentials;
use crate::config::{ConfigError, OtlpProtocol, Temporality};
use crate::exporter::otlp::http::HttpExporter;
use crate::metrics::instruments::SERVER_ACTIVE;
use crate::settings::MetricsSettings;

/// Pushes to an OTLP receiver, as `metrics.otlp` says.
#[derive(Debug)]
pub(crate) struct OtlpPush {
    endpoint: String,
    temporality: Temporality,
    resource: PbResource,
    schema_url: String,
    transport: Transport,
}

#[derive(Debug)]
enum Transport {
    Http(HttpExporter),
    #[cfg(feature = "otlp-grpc")]
    Grpc(Box<super::grpc::GrpcPush>),
}

impl OtlpPush {
    pub(crate) fn new(
        settings: &MetricsSettings,
        resource: &Resource,
    ) -> Result<Self, ConfigError> {
        let transport = match settings.otlp.protocol {
            OtlpProtocol::Http => Transport::Http(HttpExporter::from_settings(&settings.otlp)?),
            #[cfg(feature = "otlp-grpc")]
            OtlpProtocol::Grpc => {
                Transport::Grpc(Box::new(super::grpc::GrpcPush::new(&settings.otlp)?))
            }
            // Refused when the settings were resolved; refused here too.
            #[cfg(not(feature = "otlp-grpc"))]
            OtlpProtocol::Grpc => return Err(crate::settings::grpc_not_compiled_in()),
        };
        let attributes = resource
            .iter()
            .map(|(k, v)| opentelemetry::KeyValue::new(k.clone(), v.clone()));
        Ok(OtlpPush {
            endpoint: settings.otlp.endpoint.clone(),
            temporality: settings.temporality,
            resource: PbResource {
                attributes: PbAttributes::from(attributes).0,
                dropped_attributes_count: 0,
                entity_refs: Vec::new(),
            },
            schema_url: resource.schema_url().unwrap_or_default().to_owned(),
            transport,
        })
    }
}

impl PushExporter for OtlpPush {
    fn temporality(&self) -> Temporality {
        self.temporality
    }

    fn export(&mut self, collection: &Collection) -> Result<(), PushError> {
        let request = encode(collection, &self.resource, &self.schema_url);
        match &mut self.transport {
            Transport::Http(http) => http.send(request.encode_to_vec()).map_err(|e| PushError {
                kind: match e.status {
                    Some(status) => format!("HTTP {status}"),
                    None => "no answer".to_owned(),
                },
                message: e.to_string(),
            }),
            #[cfg(feature = "otlp-grpc")]
            Transport::Grpc(grpc) => grpc.export(request),
        }
    }

    fn target(&self) -> String {
        format!("otlp {}", url_credentials(&self.endpoint))
    }
}

/// The request one push sends: one resource, one scope (this crate), a
/// metric an instrument with points.
pub(crate) fn encode(
    c: &Collection,
    resource: &PbResource,
    schema_url: &str,
) -> ExportMetricsServiceRequest {
    let temporality = match c.temporality {
        Temporality::Cumulative => AggregationTemporality::Cumulative,
        Temporality::Delta => AggregationTemporality::Delta,
    };
    let mut metrics: Vec<Metric> = c
        .histograms
        .iter()
        .filter(|f| !f.points.is_empty())
        .map(|f| histogram(f, c, temporality))
        .collect();
    if !c.active.is_empty() {
        metrics.push(active_requests(c));
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource.clone()),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: env!("CARGO_PKG_NAME").to_owned(),
                    version: env!("CARGO_PKG_VERSION").to_owned(),
                    attributes: Vec::new(),
                    dropped_attributes_count: 0,
                }),
                metrics,
                schema_url: String::new(),
            }],
            schema_url: schema_url.to_owned(),
        }],
    }
}

fn histogram(f: &Family, c: &Collection, temporality: AggregationTemporality) -> Metric {
    let bounds: Vec<f64> = f
        .points
        .first()
        .map(|p| p.snapshot.bounds.iter().map(|&b| f.value(b)).collect())
        .unwrap_or_default();
    let data_points = f
        .points
        .iter()
        .map(|p| histogram_point(f, p, c, &bounds))
        .collect();
    Metric {
        name: f.instrument.name.to_owned(),
        description: f.instrument.description.to_owned(),
        unit: f.instrument.unit.to_owned(),
        metadata: Vec::new(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points,
            aggregation_temporality: temporality as i32,
        })),
    }
}

fn histogram_point(f: &Family, p: &Point, c: &Collection, bounds: &[f64]) -> HistogramDataPoint {
    let s = &p.snapshot;
    HistogramDataPoint {
        attributes: key_values(&p.attributes),
        start_time_unix_nano: nanos(c.start),
        time_unix_nano: nanos(c.time),
        count: s.count,
        sum: Some(f.value(s.sum)),
        bucket_counts: s.counts.clone(),
        explicit_bounds: bounds.to_vec(),
        exemplars: s
            .exemplars
            .iter()
            .flatten()
            .map(|e| Exemplar {
                filtered_attributes: Vec::new(),
                time_unix_nano: nanos(e.time),
                span_id: e.span_id.to_bytes().to_vec(),
                trace_id: e.trace_id.to_bytes().to_vec(),
                value: Some(exemplar::Value::AsDouble(e.value)),
            })
            .collect(),
        flags: 0,
        // Not measured: each would cost requests an atomic operation more.
        min: None,
        max: None,
    }
}

/// An up-down counter: a non-monotonic sum, cumulative whatever the
/// temporality (as the specification has it for delta preference).
fn active_requests(c: &Collection) -> Metric {
    Metric {
        name: SERVER_ACTIVE.name.to_owned(),
        description: SERVER_ACTIVE.description.to_owned(),
        unit: SERVER_ACTIVE.unit.to_owned(),
        metadata: Vec::new(),
        data: Some(metric::Data::Sum(Sum {
            data_points: c
                .active
                .iter()
                .map(|(attributes, count)| NumberDataPoint {
                    attributes: key_values(attributes),
                    start_time_unix_nano: nanos(c.started),
                    time_unix_nano: nanos(c.time),
                    exemplars: Vec::new(),
                    flags: 0,
                    value: Some(number_data_point::Value::AsInt(*count)),
                })
                .collect(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: false,
        })),
    }
}

fn key_values(attributes: &[opentelemetry::KeyValue]) -> Vec<PbKeyValue> {
    PbAttributes::from(attributes.iter().cloned()).0
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
