//! Filter language throughput: parsing, resolution against the registry, and compilation to
//! SQL. Run with `cargo bench --bench filter`.

#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scimd::scim::filter::{FilterLimits, parse_filter, parse_patch_path, resolve};
use scimd::scim::schema::{GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE};
use scimd::store::{DatabaseUrl, Store, filter_sql, migrate, orgs};

/// What Okta, Entra and RFC 7644 §3.4.2.2 send, from the one-liner to the longest example.
const USER_FILTERS: &[&str] = &[
    r#"userName eq "test.user@okta.local""#,
    "externalId eq jyoung",
    r#"emails[type eq "work"].value eq "alice@a.example""#,
    "id eq 54D382A4-2050-4C03-94D1-E769F1D15682 and manager eq 2819c223-7f76-453a-919d-413861904646",
    r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
];

fn parse_user_filters(c: &mut Criterion) {
    let limits = FilterLimits::default();
    c.bench_function("parse_filter/idp_and_rfc_examples", |b| {
        b.iter(|| {
            for text in USER_FILTERS {
                let _ = black_box(parse_filter(black_box(text), &limits));
            }
        })
    });
}

fn parse_and_resolve_user_filters(c: &mut Criterion) {
    let limits = FilterLimits::default();
    c.bench_function("parse_and_resolve/idp_and_rfc_examples", |b| {
        b.iter(|| {
            for text in USER_FILTERS {
                if let Ok(filter) = parse_filter(black_box(text), &limits) {
                    let _ = black_box(resolve(&filter, &USER_RESOURCE_TYPE));
                }
            }
        })
    });
}

fn parse_group_membership_checks(c: &mut Criterion) {
    let limits = FilterLimits::default();
    let text = r#"id eq "927fa2c08dcb4a7fae9e" and members eq "f648f8d5ea4e4cd38e9c""#;
    c.bench_function("parse_and_resolve/group_member_check", |b| {
        b.iter(|| {
            if let Ok(filter) = parse_filter(black_box(text), &limits) {
                let _ = black_box(resolve(&filter, &GROUP_RESOURCE_TYPE));
            }
        })
    });
}

fn parse_patch_paths(c: &mut Criterion) {
    let paths = [
        r#"members[value eq "89bb1940-b905-4575-9e7f-6f887cfb368e"]"#,
        r#"emails[type eq "work"].value"#,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        "name.givenName",
    ];
    c.bench_function("parse_patch_path/okta_and_entra", |b| {
        b.iter(|| {
            for text in paths {
                let _ = black_box(parse_patch_path(black_box(text)));
            }
        })
    });
}

fn reject_hostile_input(c: &mut Criterion) {
    let limits = FilterLimits::default();
    let nested = "(".repeat(4000);
    let chain = vec!["a pr"; 500].join(" or ");
    c.bench_function("parse_filter/reject_4000_open_parentheses", |b| {
        b.iter(|| black_box(parse_filter(black_box(&nested), &limits)))
    });
    c.bench_function("parse_filter/500_term_or_chain", |b| {
        b.iter(|| black_box(parse_filter(black_box(&chain), &limits)))
    });
}

/// The SQL compiler: resolved filter → boxed diesel predicate, on a migrated SQLite store
/// (e-mail and member conditions run their index lookup against it, as in production).
fn compile_filters_to_sql(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = DatabaseUrl::parse(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .expect("database url");
    let store = Store::open(&url, 1).expect("open store");
    migrate::run_pending(&store).expect("migrate");
    let org = store
        .write_blocking(|conn| orgs::insert_org(conn, "bench", scimd::store::now()))
        .expect("org")
        .id;
    let limits = FilterLimits::default();
    let user_filters: Vec<_> = USER_FILTERS
        .iter()
        .filter_map(|text| parse_filter(text, &limits).ok())
        .filter_map(|filter| resolve(&filter, &USER_RESOURCE_TYPE).ok())
        .collect();
    c.bench_function("compile_sql/users/idp_and_rfc_examples", |b| {
        b.iter(|| {
            store
                .run_blocking(|conn| {
                    for filter in &user_filters {
                        black_box(filter_sql::users_filter(conn, &org, filter)?.exact);
                    }
                    Ok(())
                })
                .expect("compile")
        })
    });
    let group_filter = parse_filter(r#"displayName eq "Engineering""#, &limits)
        .ok()
        .and_then(|filter| resolve(&filter, &GROUP_RESOURCE_TYPE).ok())
        .expect("group filter");
    c.bench_function("compile_sql/groups/display_name_eq", |b| {
        b.iter(|| {
            store
                .run_blocking(
                    |conn| Ok(filter_sql::groups_filter(conn, &org, &group_filter)?.exact),
                )
                .expect("compile")
        })
    });
}

criterion_group!(
    benches,
    compile_filters_to_sql,
    parse_user_filters,
    parse_and_resolve_user_filters,
    parse_group_membership_checks,
    parse_patch_paths,
    reject_hostile_input
);
criterion_main!(benches);
