//! Statements written out by hand as types of their own, so that diesel knows them by type and
//! prepares each once per connection. Diesel caches only statements with a static query id:
//! a `sql_query`, or an insert whose `None` columns it leaves out (so its SQL varies), is
//! built through the multi-backend layer and prepared anew on every run. On the hot paths
//! that measured as a fifth of a `GET /Users/{id}` and most of the activity log's inserts.

/// Gives `$statement<'_>` (a struct with one lifetime that implements `QueryFragment`) a
/// static query id and diesel's run methods.
macro_rules! cached_statement {
    ($statement:ident) => {
        impl diesel::query_builder::QueryId for $statement<'_> {
            type QueryId = $statement<'static>;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl<Conn> diesel::RunQueryDsl<Conn> for $statement<'_> {}
    };
}

pub(super) use cached_statement;
