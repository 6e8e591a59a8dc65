//! The settings shown to people: `--print-config` (one line per setting with
//! where its value came from, secrets masked) and the README's reference table,
//! both made from the table.

use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;

use super::fields::{fields, DefaultText, Field};
use super::Settings;
use crate::config::{ExporterType, TracingConfig};

impl fmt::Display for Settings {
    /// What will run, one setting per line with its origin. Secrets are masked.
    /// Exporter sections other than the running exporter's are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<_> = fields()
            .iter()
            .filter(|field| field.shown_for(self))
            .map(|field| (field.key(), (field.show)(self)))
            .collect();
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (key, value) in rows {
            writeln!(f, "{key:<width$} = {value}  ({})", self.source(key))?;
        }
        Ok(())
    }
}

impl Field {
    /// The value when nothing sets it, as the README's table shows it: what
    /// `--print-config` prints for it (`none` for nothing), with a remark where
    /// the default depends on the exporter or is only known at run time.
    ///
    /// ```
    /// let timeout = tower_otel_tracing::settings::fields()
    ///     .iter()
    ///     .find(|f| f.key() == "timeout")
    ///     .unwrap();
    /// assert_eq!(timeout.default_value(), "10s");
    /// ```
    pub fn default_value(&self) -> &'static str {
        // Resolved once, from an empty config and environment: the defaults the
        // code really starts from, not a second copy of them.
        static TEXTS: LazyLock<HashMap<&'static str, String>> = LazyLock::new(|| {
            let resolved = |exporter_type| {
                let cfg = TracingConfig {
                    exporter_type,
                    ..TracingConfig::default()
                };
                Settings::resolve_with(&cfg, HashMap::new())
                    .expect("an empty config and environment resolve")
            };
            let start = resolved(None);
            fields()
                .iter()
                .map(|field| (field.key(), default_text(field, &start, resolved)))
                .collect()
        });
        &TEXTS[self.key()]
    }
}

fn default_text(
    field: &Field,
    start: &Settings,
    resolved: impl Fn(Option<ExporterType>) -> Settings,
) -> String {
    let shown = |s: &Settings| match (field.show)(s) {
        text if text.is_empty() => "none".to_owned(),
        text => text,
    };
    match field.default {
        DefaultText::Shown => shown(start),
        DefaultText::ShownWith(remark) => format!("{} ({remark})", shown(start)),
        DefaultText::ShownAndFor(exporter) => format!(
            "{} ({} for {})",
            shown(start),
            shown(&resolved(Some(exporter))),
            exporter.as_str()
        ),
        DefaultText::Described(text) => text.to_owned(),
    }
}

/// The README's reference table, in Markdown.
#[cfg(test)]
pub(crate) fn reference_table() -> String {
    use std::fmt::Write as _;
    let mut out = String::from(
        "| setting | config field (under `tracing`) | variables (a later one wins) | default | accepts |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for field in fields() {
        let code = |s: &str| format!("`{s}`");
        let config = field.config_path().map_or("—".to_owned(), code);
        let vars = if field.vars().is_empty() {
            "—".to_owned()
        } else {
            field
                .vars()
                .iter()
                .map(|v| code(v))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let secret = if field.secret() {
            " (secret: never shown)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}` | {config} | {vars} | {} | {}{secret} |",
            field.key(),
            field.default_value(),
            field.expected(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    /// The README shows exactly the table the code resolves with.
    #[test]
    fn readme_reference_table_matches_the_settings_table() {
        let readme = include_str!("../../README.md");
        let start = "<!-- settings-table:start -->\n";
        let end = "<!-- settings-table:end -->";
        let from = readme
            .find(start)
            .expect("README has the settings table markers")
            + start.len();
        let to = readme[from..].find(end).expect("end marker") + from;
        let expected = super::reference_table();
        assert_eq!(
            &readme[from..to],
            expected,
            "regenerate the README table from settings::print::reference_table():\n{expected}"
        );
    }
}
