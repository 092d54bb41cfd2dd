//! Tests of the filter language: tables of accepted and rejected text, round trips, resolution
//! against the registry, evaluation over RFC 7643 §8 resources, PATCH paths.

mod accepted;
mod eval;
mod patch_path;
mod rejected;
mod resolve;
mod roundtrip;

use super::{Filter, FilterError, FilterLimits, parse_filter};

/// Parses with the default limits, failing the test with the error.
fn parse(text: &str) -> Filter {
    parse_filter(text, &FilterLimits::default())
        .unwrap_or_else(|error| panic!("{text:?} was rejected: {error}"))
}

/// Parses with the default limits, expecting an error.
fn reject(text: &str) -> FilterError {
    match parse_filter(text, &FilterLimits::default()) {
        Ok(filter) => panic!("{text:?} was accepted as {filter}"),
        Err(error) => error,
    }
}
