//! PATCH throughput on a user with every attribute set (RFC 7643 §8.3 plus roles, entitlements
//! and ims): the Okta and Entra requests of the IdP dossier, end to end (parse → compat →
//! apply) and followed by the server's `prepare` validation.
//! Run with `cargo bench --bench patch`.

#![allow(clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scimd::scim::limits::Limits;
use scimd::scim::patch::patch;
use scimd::scim::resource::prepare;
use scimd::scim::schema::USER_RESOURCE_TYPE;
use serde_json::{Value, json};

const ID: &str = "2819c223-7f76-453a-919d-413861904646";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Every attribute of the User and enterprise schemas set, as `prepare` stores it.
fn full_user() -> Value {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
                 "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Babs Jensen", "nickName": "Babs", "profileUrl": "https://login.example.com/bjensen",
        "title": "Tour Guide", "userType": "Employee", "preferredLanguage": "en-US", "locale": "en-US",
        "timezone": "America/Los_Angeles", "active": true,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"value": "555-555-4444", "type": "mobile"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "photos": [{"value": "https://photos.example.com/profilephoto/72930000000Ccne/F", "type": "photo"}],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA",
             "postalCode": "91608", "country": "USA", "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
             "primary": true},
            {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood", "region": "CA",
             "postalCode": "91608", "country": "USA", "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"}],
        "entitlements": [{"value": "reports"}],
        "roles": [{"value": "{\"id\":\"06b07648\",\"value\":\"25\",\"displayName\":\"Role1234\"}", "primary": true}],
        "x509Certificates": [{"value": "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"}],
        ENTERPRISE: {"employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
                     "division": "Theme Park", "department": "Tour Operations",
                     "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}
    });
    prepare(&USER_RESOURCE_TYPE, &body, None)
        .expect("the bench user is valid")
        .resource
}

/// (name, PatchOp body) — the dossier's user PATCH shapes.
fn requests() -> Vec<(&'static str, Value)> {
    let wrap = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    vec![
        (
            "okta_deactivate",
            wrap(json!([{"op": "replace", "value": {"active": false}}])),
        ),
        (
            "entra_legacy_disable",
            wrap(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        ),
        (
            "entra_multi_valued_update",
            wrap(json!([
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}])),
        ),
        (
            "entra_flag_form",
            wrap(json!([
            {"op": "replace", "value": {"displayName": "Pvlo", "name.givenName": "Pvlo", "name.familyName": "Pvlo",
             "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Pvlo"}},
            {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "pvlo@example.com"}])),
        ),
        (
            "entra_manager",
            wrap(json!([{"op": "Add", "path": "manager",
            "value": [{"$ref": "http://x/scim/Users/00aa00aa", "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"}]}])),
        ),
        (
            "no_op_replace",
            wrap(json!([{"op": "replace", "path": "userName", "value": "bjensen@example.com"}])),
        ),
    ]
}

fn patch_full_user(c: &mut Criterion) {
    let stored = full_user();
    let limits = Limits::default();
    for (name, body) in requests() {
        c.bench_function(&format!("patch/{name}"), |b| {
            b.iter(|| {
                black_box(patch(
                    &USER_RESOURCE_TYPE,
                    ID,
                    black_box(&stored),
                    black_box(&body),
                    &limits,
                ))
            })
        });
    }
}

fn patch_and_prepare_full_user(c: &mut Criterion) {
    let stored = full_user();
    let limits = Limits::default();
    let (_, body) = requests().swap_remove(3);
    c.bench_function("patch_then_prepare/entra_flag_form", |b| {
        b.iter(|| {
            let applied = patch(&USER_RESOURCE_TYPE, ID, &stored, black_box(&body), &limits)
                .expect("the request applies");
            black_box(prepare(
                &USER_RESOURCE_TYPE,
                &applied.resource,
                Some(&stored),
            ))
        })
    });
}

criterion_group!(benches, patch_full_user, patch_and_prepare_full_user);
criterion_main!(benches);
