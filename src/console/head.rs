//! The `<head>` every console page has, the error page included. Apart from [`super::page`] so
//! that the error page can use it while pages' rendering reports a [`super::error::ConsoleError`]:
//! page -> error -> head -> assets, one way.

use super::assets;

pub const HTML: &str = "text/html; charset=utf-8";

/// The `<head>` of every page.
pub struct Head {
    pub title: String,
    pub stylesheet: String,
    pub script: String,
}

impl Head {
    pub fn new(title: impl Into<String>) -> Head {
        Head {
            title: title.into(),
            stylesheet: assets::stylesheet_url(),
            script: assets::script_url(),
        }
    }
}
