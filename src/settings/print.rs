//! The settings shown to people: `--print-config` (one line per setting with
//! where its value came from, secrets masked) and the README's reference table,
//! both made from the table.

use std::fmt;

use super::fields::fields;
use super::Settings;

impl fmt::Display for Settings {
    /// What will run, one setting per line with its origin. Secrets are masked.
    /// Exporter sections other than the running exporter's are left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<_> = fields()
            .iter()
            .filter(|field| field.shown_for(self.exporter))
            .map(|field| (field.key(), (field.show)(self)))
            .collect();
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (key, value) in rows {
            writeln!(f, "{key:<width$} = {value}  ({})", self.source(key))?;
        }
        Ok(())
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
