//! The resource every span carries: the telemetry SDK attributes,
//! `OTEL_RESOURCE_ATTRIBUTES` and `service.name` as resolved
//! (<https://opentelemetry.io/docs/specs/semconv/resource/>).

use opentelemetry::KeyValue;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use opentelemetry_sdk::Resource;

use crate::settings::Settings;

pub(crate) fn resource(settings: &Settings) -> Resource {
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            settings
                .resource_attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(settings.service_name.clone())
        .build()
}
