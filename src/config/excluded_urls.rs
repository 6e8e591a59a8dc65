//! [`ExcludedUrls`]: the routes that are never traced.

use std::fmt;

use regex::RegexSet;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::ConfigError;

const FIELD: &str = "tracing.excluded_urls";

/// Routes that are never traced: regular expressions searched anywhere in the
/// request's `scheme://host/path` (the query string is not part of it).
///
/// Accepts BentoML's two spellings, a comma-separated string or a list.
/// Entries are trimmed and empty ones ignored.
///
/// ```
/// use tower_otel_tracing::config::ExcludedUrls;
///
/// let excluded = ExcludedUrls::new(["readyz", r"^https?://[^/]+/metrics$"]).unwrap();
/// assert!(excluded.is_excluded("http://10.0.0.1:3000/readyz"));
/// assert!(excluded.is_excluded("http://svc/metrics"));
/// assert!(!excluded.is_excluded("http://svc/metrics/detail"));
/// assert!(!excluded.is_excluded("http://svc/summarize"));
/// ```
#[derive(Clone)]
pub struct ExcludedUrls {
    patterns: Vec<String>,
    set: RegexSet,
}

impl ExcludedUrls {
    /// Compiles the patterns; the error names the first one that is not a valid regex.
    pub fn new<I, S>(patterns: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let patterns: Vec<String> = patterns
            .into_iter()
            .map(|p| p.as_ref().trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        for p in &patterns {
            if let Err(e) = regex::Regex::new(p) {
                return Err(ConfigError::new(
                    FIELD,
                    format!("`{p}` is not a valid regular expression: {e}"),
                ));
            }
        }
        let set = RegexSet::new(&patterns).map_err(|e| ConfigError::new(FIELD, e.to_string()))?;
        Ok(ExcludedUrls { patterns, set })
    }

    /// Parses BentoML's comma-separated form, e.g. `"readyz,livez"`.
    ///
    /// ```
    /// use tower_otel_tracing::config::ExcludedUrls;
    ///
    /// let excluded = ExcludedUrls::from_comma_separated("readyz, livez,")?;
    /// assert_eq!(excluded.patterns(), ["readyz", "livez"]);
    /// assert!(excluded.is_excluded("http://svc/livez"));
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn from_comma_separated(list: &str) -> Result<Self, ConfigError> {
        ExcludedUrls::new(list.split(','))
    }

    /// The patterns, trimmed, in the order given.
    ///
    /// ```
    /// use tower_otel_tracing::config::ExcludedUrls;
    ///
    /// let excluded = ExcludedUrls::new([" readyz ", "", "^http://svc/metrics$"])?;
    /// assert_eq!(excluded.patterns(), ["readyz", "^http://svc/metrics$"]);
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether no pattern is configured.
    ///
    /// ```
    /// use tower_otel_tracing::config::ExcludedUrls;
    ///
    /// // Blank entries are dropped, so this list excludes nothing.
    /// let excluded = ExcludedUrls::from_comma_separated(" , ")?;
    /// assert!(excluded.is_empty());
    /// assert!(!excluded.is_excluded("http://svc/readyz"));
    /// # Ok::<(), tower_otel_tracing::ConfigError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `url` (`scheme://host/path`) matches any pattern.
    pub fn is_excluded(&self, url: &str) -> bool {
        !self.patterns.is_empty() && self.set.is_match(url)
    }
}

impl fmt::Debug for ExcludedUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.patterns).finish()
    }
}

impl PartialEq for ExcludedUrls {
    fn eq(&self, other: &Self) -> bool {
        self.patterns == other.patterns
    }
}

impl Serialize for ExcludedUrls {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.patterns.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ExcludedUrls {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StringOrList;

        impl<'de> Visitor<'de> for StringOrList {
            type Value = ExcludedUrls;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a comma-separated string or a list of regular expressions")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExcludedUrls, E> {
                ExcludedUrls::from_comma_separated(v).map_err(|e| E::custom(e.message()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ExcludedUrls, A::Error> {
                let mut patterns = Vec::new();
                while let Some(p) = seq.next_element::<String>()? {
                    patterns.push(p);
                }
                ExcludedUrls::new(patterns).map_err(|e| de::Error::custom(e.message()))
            }
        }

        deserializer.deserialize_any(StringOrList)
    }
}
