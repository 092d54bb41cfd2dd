//! The registry's data: the User, Enterprise User and Group schemas with RFC 7643 §8.7.1
//! characteristics, and the two resource types that use them.

use super::{
    AttrType, AttributeDef, Mutability, ResourceTypeDef, Returned, SchemaDef, SchemaExtension,
    Uniqueness,
};
use crate::scim::{ENTERPRISE_USER_URN, GROUP_URN, USER_URN};

/// The User resource type (RFC 7643 §4.1, §4.3).
pub static USER_RESOURCE_TYPE: ResourceTypeDef = ResourceTypeDef {
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: &[SchemaExtension {
        schema: &ENTERPRISE_USER_SCHEMA,
        required: false,
    }],
};

/// The Group resource type (RFC 7643 §4.2).
pub static GROUP_RESOURCE_TYPE: ResourceTypeDef = ResourceTypeDef {
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP_SCHEMA,
    extensions: &[],
};

// Common attributes (RFC 7643 §3.1) head each core schema so that `/Schemas` shows `id` as
// readOnly and the registry answers for them like for any other attribute.
const ID: AttributeDef = AttributeDef::string(
    "id",
    "Unique identifier for the resource, assigned by the service provider.",
)
.exact()
.with_mutability(Mutability::ReadOnly)
.with_returned(Returned::Always)
.with_uniqueness(Uniqueness::Server);

const EXTERNAL_ID: AttributeDef = AttributeDef::string(
    "externalId",
    "Identifier for the resource as defined by the provisioning client.",
)
.exact();

static META_SUBS: [AttributeDef; 5] = [
    AttributeDef::string(
        "resourceType",
        "The name of the resource type of the resource.",
    )
    .exact()
    .with_mutability(Mutability::ReadOnly),
    AttributeDef::new(
        "created",
        AttrType::DateTime,
        "The date and time the resource was added to the service provider.",
    )
    .with_mutability(Mutability::ReadOnly),
    AttributeDef::new(
        "lastModified",
        AttrType::DateTime,
        "The most recent date and time the resource was modified.",
    )
    .with_mutability(Mutability::ReadOnly),
    AttributeDef::reference("location", &["uri"], "The URI of the resource.")
        .exact()
        .with_mutability(Mutability::ReadOnly),
    AttributeDef::string("version", "The version (weak entity tag) of the resource.")
        .exact()
        .with_mutability(Mutability::ReadOnly),
];

const META: AttributeDef = AttributeDef::complex(
    "meta",
    &META_SUBS,
    "Resource metadata set by the service provider.",
)
.with_mutability(Mutability::ReadOnly);

/// The sub-attributes shared by most multi-valued attributes (RFC 7643 §2.4).
const fn plural_subs(value: AttributeDef, types: &'static [&'static str]) -> [AttributeDef; 4] {
    [
        value,
        AttributeDef::string("display", "A human-readable name, primarily for display."),
        AttributeDef::string("type", "A label indicating the value's function.")
            .with_canonical_values(types),
        AttributeDef::boolean(
            "primary",
            "Whether this is the preferred value; 'true' appears at most once.",
        ),
    ]
}

static NAME_SUBS: [AttributeDef; 6] = [
    AttributeDef::string("formatted", "The full name, formatted for display."),
    AttributeDef::string("familyName", "The family name, or last name."),
    AttributeDef::string("givenName", "The given name, or first name."),
    AttributeDef::string("middleName", "The middle name(s)."),
    AttributeDef::string("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
    AttributeDef::string("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
];

static EMAIL_SUBS: [AttributeDef; 4] = plural_subs(
    AttributeDef::string("value", "Email address for the User."),
    &["work", "home", "other"],
);

static PHONE_SUBS: [AttributeDef; 4] = plural_subs(
    AttributeDef::string("value", "Phone number for the User."),
    &["work", "home", "mobile", "fax", "pager", "other"],
);

static IM_SUBS: [AttributeDef; 4] = plural_subs(
    AttributeDef::string("value", "Instant messaging address for the User."),
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
);

static PHOTO_SUBS: [AttributeDef; 4] = plural_subs(
    AttributeDef::reference("value", &["external"], "URL of a photo of the User."),
    &["photo", "thumbnail"],
);

static ADDRESS_SUBS: [AttributeDef; 8] = [
    AttributeDef::string(
        "formatted",
        "The full mailing address, formatted for display.",
    ),
    AttributeDef::string("streetAddress", "The full street address component."),
    AttributeDef::string("locality", "The city or locality component."),
    AttributeDef::string("region", "The state or region component."),
    AttributeDef::string("postalCode", "The zip code or postal code component."),
    AttributeDef::string("country", "The country name component."),
    AttributeDef::string("type", "A label indicating the address's function.")
        .with_canonical_values(&["work", "home", "other"]),
    AttributeDef::boolean("primary", "Whether this is the preferred mailing address."),
];

static GROUP_REF_SUBS: [AttributeDef; 4] = [
    AttributeDef::string("value", "The id of the Group.")
        .exact()
        .with_mutability(Mutability::ReadOnly),
    AttributeDef::reference("$ref", &["User", "Group"], "The URI of the Group.")
        .exact()
        .with_mutability(Mutability::ReadOnly),
    AttributeDef::string("display", "A human-readable name, primarily for display.")
        .with_mutability(Mutability::ReadOnly),
    AttributeDef::string("type", "Whether membership is direct or inherited.")
        .with_canonical_values(&["direct", "indirect"])
        .with_mutability(Mutability::ReadOnly),
];

static ENTITLEMENT_SUBS: [AttributeDef; 4] = plural_subs(
    AttributeDef::string("value", "The value of an entitlement."),
    &[],
);

static ROLE_SUBS: [AttributeDef; 4] =
    plural_subs(AttributeDef::string("value", "The value of a role."), &[]);

static CERTIFICATE_SUBS: [AttributeDef; 4] = plural_subs(
    AttributeDef::new(
        "value",
        AttrType::Binary,
        "The value of an X.509 certificate (base64 DER).",
    ),
    &[],
);

static USER_ATTRIBUTES: [AttributeDef; 24] = [
    ID,
    EXTERNAL_ID,
    META,
    AttributeDef::string(
        "userName",
        "Unique identifier for the User, used to authenticate.",
    )
    .require()
    .with_uniqueness(Uniqueness::Server),
    AttributeDef::complex(
        "name",
        &NAME_SUBS,
        "The components of the user's real name.",
    ),
    AttributeDef::string("displayName", "The name of the User, suitable for display."),
    AttributeDef::string(
        "nickName",
        "The casual way to address the user in real life.",
    ),
    AttributeDef::reference(
        "profileUrl",
        &["external"],
        "A URL of the User's online profile.",
    ),
    AttributeDef::string("title", "The user's title, such as 'Vice President'."),
    AttributeDef::string(
        "userType",
        "The relationship between the organization and the user.",
    ),
    AttributeDef::string(
        "preferredLanguage",
        "The User's preferred written or spoken language.",
    ),
    AttributeDef::string("locale", "The User's default location for localisation."),
    AttributeDef::string("timezone", "The User's time zone in IANA format."),
    AttributeDef::boolean("active", "The User's administrative status."),
    AttributeDef::string(
        "password",
        "The User's cleartext password, to set or reset it.",
    )
    .with_mutability(Mutability::WriteOnly)
    .with_returned(Returned::Never),
    AttributeDef::complex("emails", &EMAIL_SUBS, "Email addresses for the User.").multi(),
    AttributeDef::complex("phoneNumbers", &PHONE_SUBS, "Phone numbers for the User.").multi(),
    AttributeDef::complex("ims", &IM_SUBS, "Instant messaging addresses for the User.").multi(),
    AttributeDef::complex("photos", &PHOTO_SUBS, "URLs of photos of the User.").multi(),
    AttributeDef::complex("addresses", &ADDRESS_SUBS, "Physical mailing addresses.").multi(),
    AttributeDef::complex(
        "groups",
        &GROUP_REF_SUBS,
        "Groups the user belongs to; changed through the Group resource.",
    )
    .multi()
    .with_mutability(Mutability::ReadOnly),
    AttributeDef::complex(
        "entitlements",
        &ENTITLEMENT_SUBS,
        "Entitlements of the User.",
    )
    .multi(),
    AttributeDef::complex("roles", &ROLE_SUBS, "Roles of the User.").multi(),
    AttributeDef::complex(
        "x509Certificates",
        &CERTIFICATE_SUBS,
        "Certificates issued to the User.",
    )
    .multi(),
];

/// The core User schema (RFC 7643 §4.1, §8.7.1), headed by the common attributes.
pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER_URN,
    name: "User",
    description: "User Account",
    attributes: &USER_ATTRIBUTES,
};

static MANAGER_SUBS: [AttributeDef; 3] = [
    AttributeDef::string("value", "The id of the User's manager."),
    AttributeDef::reference("$ref", &["User"], "The URI of the User's manager."),
    AttributeDef::string("displayName", "The displayName of the User's manager.")
        .with_mutability(Mutability::ReadOnly),
];

static ENTERPRISE_USER_ATTRIBUTES: [AttributeDef; 6] = [
    AttributeDef::string(
        "employeeNumber",
        "Numeric or alphanumeric identifier of an employee.",
    ),
    AttributeDef::string("costCenter", "Identifies the name of a cost center."),
    AttributeDef::string("organization", "Identifies the name of an organization."),
    AttributeDef::string("division", "Identifies the name of a division."),
    AttributeDef::string("department", "Identifies the name of a department."),
    AttributeDef::complex("manager", &MANAGER_SUBS, "The User's manager."),
];

/// The Enterprise User extension (RFC 7643 §4.3, §8.7.1).
pub static ENTERPRISE_USER_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &ENTERPRISE_USER_ATTRIBUTES,
};

static MEMBER_SUBS: [AttributeDef; 4] = [
    AttributeDef::string("value", "The id of the member.")
        .exact()
        .with_mutability(Mutability::Immutable),
    AttributeDef::reference("$ref", &["User", "Group"], "The URI of the member.")
        .exact()
        .with_mutability(Mutability::Immutable),
    // The server derives `display` from the member itself, whatever a client sends, so it is
    // readOnly rather than RFC 7643 §8.7.1's immutable.
    AttributeDef::string("display", "A human-readable name of the member.")
        .with_mutability(Mutability::ReadOnly),
    AttributeDef::string("type", "The type of the member.")
        .with_canonical_values(&["User", "Group"])
        .with_mutability(Mutability::Immutable),
];

// displayName is REQUIRED by RFC 7643 §4.2 (the §8.7.1 JSON says otherwise) and unique per
// organisation, which Entra relies on when it matches groups by displayName.
static GROUP_ATTRIBUTES: [AttributeDef; 5] = [
    ID,
    EXTERNAL_ID,
    META,
    AttributeDef::string("displayName", "A human-readable name for the Group.")
        .require()
        .with_uniqueness(Uniqueness::Server),
    AttributeDef::complex("members", &MEMBER_SUBS, "A list of members of the Group.").multi(),
];

/// The core Group schema (RFC 7643 §4.2, §8.7.1), headed by the common attributes.
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attributes: &GROUP_ATTRIBUTES,
};
