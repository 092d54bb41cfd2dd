//! How a stored User or Group renders: the one place where stored rows become the SCIM
//! resource that responses, Bulk results and in-memory filtering all see.

use serde_json::Value;

use super::groups::GroupView;
use super::resources::StoredResource;
use super::users::UserView;
use crate::scim::resource::{self, Meta, RenderExtras};
use crate::scim::schema::{GROUP_RESOURCE_TYPE, ResourceTypeDef, USER_RESOURCE_TYPE};

impl StoredResource {
    /// The resource as clients see it, given the base URL they addressed (for `meta.location`
    /// and `$ref`s); without one, as a filter sees it, with neither. The one rendering of a
    /// stored resource: responses, Bulk results and in-memory filtering all come through here.
    pub fn render(
        &self,
        rt: &ResourceTypeDef,
        extras: RenderExtras,
        base_url: Option<&str>,
    ) -> Value {
        let meta = Meta {
            created: self.created_at.and_utc(),
            last_modified: self.last_modified.and_utc(),
            version: self.version,
            location: base_url
                .map(|base_url| resource::location(base_url, rt, &self.id))
                .unwrap_or_default(),
        };
        resource::render(rt, &self.resource, &self.id, &meta, extras)
    }
}

/// A stored User or Group with the attribute computed from memberships that its rendering
/// adds: a user's `groups`, a group's `members`.
pub trait ResourceView {
    const RESOURCE_TYPE: &'static ResourceTypeDef;

    fn stored(&self) -> &StoredResource;
    /// The computed attribute, copied.
    fn extras(&self) -> RenderExtras;
    fn into_parts(self) -> (StoredResource, RenderExtras);

    /// See [`StoredResource::render`].
    fn render(&self, base_url: Option<&str>) -> Value {
        self.stored()
            .render(Self::RESOURCE_TYPE, self.extras(), base_url)
    }

    /// [`ResourceView::render`] without copying a large member list.
    fn into_rendered(self, base_url: Option<&str>) -> Value
    where
        Self: Sized,
    {
        let (stored, extras) = self.into_parts();
        stored.render(Self::RESOURCE_TYPE, extras, base_url)
    }
}

impl ResourceView for UserView {
    const RESOURCE_TYPE: &'static ResourceTypeDef = &USER_RESOURCE_TYPE;

    fn stored(&self) -> &StoredResource {
        &self.stored
    }

    fn extras(&self) -> RenderExtras {
        RenderExtras {
            members: None,
            groups: Some(self.groups.clone()),
        }
    }

    fn into_parts(self) -> (StoredResource, RenderExtras) {
        let extras = RenderExtras {
            members: None,
            groups: Some(self.groups),
        };
        (self.stored, extras)
    }
}

impl ResourceView for GroupView {
    const RESOURCE_TYPE: &'static ResourceTypeDef = &GROUP_RESOURCE_TYPE;

    fn stored(&self) -> &StoredResource {
        &self.stored
    }

    fn extras(&self) -> RenderExtras {
        RenderExtras {
            members: self.members.clone(),
            groups: None,
        }
    }

    fn into_parts(self) -> (StoredResource, RenderExtras) {
        let extras = RenderExtras {
            members: self.members,
            groups: None,
        };
        (self.stored, extras)
    }
}
