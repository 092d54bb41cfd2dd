//! Bounds on what an IdP controls, enforced by the server and advertised in ServiceProviderConfig.

/// The one set of limits: the server enforces these values and `discovery` renders the same
/// values into `/ServiceProviderConfig`, so advertised and enforced limits cannot drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body for single-resource endpoints, in bytes.
    pub max_payload_bytes: usize,
    /// Most resources returned in one list or search response (`filter.maxResults`).
    pub max_results: usize,
    /// Longest accepted `filter` expression, in bytes.
    pub max_filter_length: usize,
    /// Deepest accepted nesting of filter expressions (parentheses, `not`, value paths).
    pub max_filter_depth: usize,
    /// Most operations accepted in one PATCH request.
    pub max_patch_operations: usize,
    /// Most operations accepted in one Bulk request (`bulk.maxOperations`).
    pub bulk_max_operations: usize,
    /// Largest accepted Bulk request body, in bytes (`bulk.maxPayloadSize`).
    pub bulk_max_payload_bytes: usize,
}

impl Limits {
    /// The number of resources to return for a requested `count` (RFC 7644 §3.4.2.4).
    ///
    /// No `count` means as many as allowed, a negative one means zero, and any value is capped at
    /// `max_results` (servers may return fewer than requested).
    pub fn page_size(&self, requested: Option<i64>) -> usize {
        match requested {
            None => self.max_results,
            Some(count) => usize::try_from(count.max(0))
                .unwrap_or(usize::MAX)
                .min(self.max_results),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload_bytes: 1024 * 1024,
            max_results: 1000,
            max_filter_length: 4096,
            max_filter_depth: 16,
            max_patch_operations: 1000,
            bulk_max_operations: 1000,
            bulk_max_payload_bytes: 4 * 1024 * 1024,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_payload_limit_is_one_mebibyte() {
        assert_eq!(Limits::default().max_payload_bytes, 1_048_576);
        assert_eq!(Limits::default().bulk_max_payload_bytes, 4_194_304);
    }

    // authentik's SCIM provider puts up to `bulk.maxOperations` operations into one group PATCH
    // (providers/scim/clients/groups.py `_patch_chunked`); a smaller PATCH limit would refuse
    // every full chunk with tooMany.
    #[test]
    fn a_patch_accepts_as_many_operations_as_bulk_advertises() {
        let limits = Limits::default();
        assert!(limits.bulk_max_operations <= limits.max_patch_operations);
    }

    #[test]
    fn page_size_clamps_the_requested_count() {
        let limits = Limits {
            max_results: 100,
            ..Limits::default()
        };
        let cases = [
            (None, 100),
            (Some(-1), 0),
            (Some(0), 0),
            (Some(2), 2),
            (Some(100), 100),
            (Some(100_000), 100),
            (Some(i64::MAX), 100),
        ];
        for (requested, expected) in cases {
            assert_eq!(limits.page_size(requested), expected, "count {requested:?}");
        }
    }
}
