//! Filters that parse, with their canonical printed form.

use super::parse;

/// (filter as sent, canonical form). The first 17 are RFC 7644 §3.4.2.2's examples verbatim.
const ACCEPTED: &[(&str, &str)] = &[
    (r#"userName eq "bjensen""#, r#"userName eq "bjensen""#),
    (
        r#"name.familyName co "O'Malley""#,
        r#"name.familyName co "O'Malley""#,
    ),
    (r#"userName sw "J""#, r#"userName sw "J""#),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
    ),
    ("title pr", "title pr"),
    (
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
    ),
    (
        r#"title pr and userType eq "Employee""#,
        r#"title pr and userType eq "Employee""#,
    ),
    (
        r#"title pr or userType eq "Intern""#,
        r#"title pr or userType eq "Intern""#,
    ),
    (
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
    ),
    (
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
    ),
    (
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    ),
    (
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails.type eq "work""#,
    ),
    (
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    ),
    (
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
    ),
    // Dossier §1.5(b), §2.4, §4.3, §4.6: what Okta and Entra send.
    (
        r#"userName eq "test.user@okta.local""#,
        r#"userName eq "test.user@okta.local""#,
    ),
    (
        r#"userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee""#,
        r#"userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee""#,
    ),
    ("externalId eq jyoung", r#"externalId eq "jyoung""#),
    ("userName eq alice@x.com", r#"userName eq "alice@x.com""#),
    (
        "id eq 54D382A4-2050-4C03-94D1-E769F1D15682 and manager eq 2819c223-7f76-453a-919d-413861904646",
        r#"id eq "54D382A4-2050-4C03-94D1-E769F1D15682" and manager eq "2819c223-7f76-453a-919d-413861904646""#,
    ),
    (
        r#"emails[type eq "work"].value eq "alice@a.example""#,
        r#"emails[type eq "work" and value eq "alice@a.example"]"#,
    ),
    (
        r#"emails[type eq "work" or primary eq true].value pr"#,
        r#"emails[(type eq "work" or primary eq true) and value pr]"#,
    ),
    (
        r#"displayName eq "Engineering""#,
        r#"displayName eq "Engineering""#,
    ),
    (
        r#"id eq "X" and members eq "Y""#,
        r#"id eq "X" and members eq "Y""#,
    ),
    (r#"externalId eq "ga1-ext""#, r#"externalId eq "ga1-ext""#),
    (
        r#"userName eq "alice@a.example" and active eq true"#,
        r#"userName eq "alice@a.example" and active eq true"#,
    ),
    (r#"members[value eq "abc"]"#, r#"members[value eq "abc"]"#),
    (
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
    ),
    (
        r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName eq "Barbara""#,
    ),
    // Case-insensitive keywords and operators; extra whitespace.
    (r#"USERNAME EQ "alice""#, r#"USERNAME eq "alice""#),
    (r#"userName Eq "alice""#, r#"userName eq "alice""#),
    (
        "  title  PR\tAND\n userType   eq \"x\"  ",
        r#"title pr and userType eq "x""#,
    ),
    (r#"NOT(title pr)"#, "not (title pr)"),
    (r#"(((title pr)))"#, "title pr"),
    (r#"(title pr)or(nickName pr)"#, "title pr or nickName pr"),
    // Precedence: not > and > or; left associativity.
    ("a pr or b pr and c pr", "a pr or b pr and c pr"),
    ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
    ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
    ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
    ("(a pr or b pr) or c pr", "a pr or b pr or c pr"),
    (
        "not (a pr) and not (b pr or c pr)",
        "not (a pr) and not (b pr or c pr)",
    ),
    // Values: escapes, numbers, literals.
    (
        r#"userName eq "o\"brien@a.example""#,
        r#"userName eq "o\"brien@a.example""#,
    ),
    (
        r#"displayName eq "back\\slash""#,
        r#"displayName eq "back\\slash""#,
    ),
    (r#"displayName eq "caf\u00e9""#, r#"displayName eq "café""#),
    (
        r#"displayName eq "\ud83d\ude00 \/ \t""#,
        "displayName eq \"\u{1F600} / \\t\"",
    ),
    ("x eq 42", "x eq 42"),
    ("x ge -1.5", "x ge -1.5"),
    ("x lt 2.5e3", "x lt 2500.0"),
    ("x eq 0", "x eq 0"),
    ("active eq FALSE", "active eq false"),
    ("title eq null", "title eq null"),
    (r#"userName eq "%""#, r#"userName eq "%""#),
    (
        r#"userName eq "x' OR '1'='1""#,
        r#"userName eq "x' OR '1'='1""#,
    ),
    ("groups.$ref pr", "groups.$ref pr"),
    // Single quotes, as GitHub's SCIM documentation writes them: the same strings.
    ("userName eq 'bjensen'", r#"userName eq "bjensen""#),
    (
        "emails[type eq 'work'].value eq 'a@b'",
        r#"emails[type eq "work" and value eq "a@b"]"#,
    ),
    (
        r"name.familyName co 'O\'Malley'",
        r#"name.familyName co "O'Malley""#,
    ),
    (r#"title eq 'say "hi"'"#, r#"title eq "say \"hi\"""#),
    ("title eq ''", r#"title eq """#),
    ("notes pr and nota eq \"x\"", "notes pr and nota eq \"x\""),
];

#[test]
fn accepted_filters_print_in_canonical_form() {
    assert!(ACCEPTED.len() >= 40);
    for (text, canonical) in ACCEPTED {
        let filter = parse(text);
        assert_eq!(filter.to_string(), *canonical, "filter {text:?}");
        assert_eq!(parse(canonical), filter, "canonical form of {text:?}");
    }
}

#[test]
fn and_binds_tighter_than_or_and_both_associate_left() {
    use crate::scim::filter::{AttrPath, Filter};
    let present = |name: &str| Filter::Present(AttrPath::new(name));
    assert_eq!(
        parse("a pr or b pr and c pr"),
        Filter::or(present("a"), Filter::and(present("b"), present("c")))
    );
    assert_eq!(
        parse("a pr and b pr and c pr"),
        Filter::and(Filter::and(present("a"), present("b")), present("c"))
    );
    assert_eq!(
        parse("not (a pr) and b pr"),
        Filter::and(Filter::not(present("a")), present("b"))
    );
}

#[test]
fn urn_prefix_ends_at_the_last_colon() {
    use crate::scim::filter::Filter;
    let Filter::Compare { path, .. } =
        parse(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x""#)
    else {
        panic!("not a comparison");
    };
    assert_eq!(
        path.urn.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(path.attribute, "manager");
    assert_eq!(path.sub_attribute.as_deref(), Some("value"));
    assert_eq!((path.span.start, path.span.end), (0, 72));
}

#[test]
fn unquoted_words_and_numbers_keep_their_kind() {
    use crate::scim::filter::{CompValue, Filter};
    let value = |text: &str| match parse(text) {
        Filter::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        value("externalId eq jyoung"),
        CompValue::String("jyoung".into())
    );
    assert_eq!(
        value("employeeNumber eq 701984"),
        CompValue::Number(701_984.into())
    );
    assert_eq!(value("x eq TRUE"), CompValue::Bool(true));
    assert_eq!(value("x eq Null"), CompValue::Null);
    assert_eq!(value("x eq 00123"), CompValue::String("00123".into()));
}
