//! Keep rules: every error and every slow request is kept at any sample rate,
//! exported as a sampled request would be, with `sampling.reason`.
//!
//! Modules:
//! - `keep`: the keep rules and `keep_detail`.

#[path = "../common/mod.rs"]
mod common;

mod keep;
