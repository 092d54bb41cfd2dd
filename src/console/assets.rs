//! The console's stylesheet and script, embedded in the binary and served under a name that
//! carries a hash of their content: a browser may keep each for a year, and a new build's
//! pages name new files instead of waiting for old copies to expire.

use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::header;
use sha2::{Digest, Sha256};

/// One embedded file.
pub struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// `<stem>.<first 16 hex digits of SHA-256>.<extension>`
    hashed_name: String,
}

impl Asset {
    fn new(
        stem: &'static str,
        extension: &'static str,
        content_type: &'static str,
        body: &'static [u8],
    ) -> Asset {
        let digest = Sha256::digest(body);
        let hash: String = digest
            .iter()
            .take(8)
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Asset {
            stem,
            extension,
            content_type,
            body,
            hashed_name: format!("{stem}.{hash}.{}", extension),
        }
    }

    /// The path pages link to.
    pub fn url(&self) -> String {
        format!("/console/assets/{}", self.hashed_name)
    }
}

/// Built once: the hashes depend only on what was compiled in.
static ASSETS: LazyLock<[Asset; 2]> = LazyLock::new(|| {
    [
        Asset::new(
            "console",
            "css",
            "text/css; charset=utf-8",
            include_bytes!("../../assets/console/console.css"),
        ),
        Asset::new(
            "console",
            "js",
            "text/javascript; charset=utf-8",
            include_bytes!("../../assets/console/console.js"),
        ),
    ]
});

fn find(stem: &str, extension: &str) -> Option<&'static Asset> {
    ASSETS
        .iter()
        .find(|asset| asset.stem == stem && asset.extension == extension)
}

/// The stylesheet's URL, for `<link rel="stylesheet">`.
pub fn stylesheet_url() -> String {
    find("console", "css").map(Asset::url).unwrap_or_default()
}

/// The script's URL, for `<script src>`.
pub fn script_url() -> String {
    find("console", "js").map(Asset::url).unwrap_or_default()
}

/// The response for a hashed name, or `None` when it is not a current one (the router answers
/// that with the console's 404 page).
pub fn response(hashed_name: &str) -> Option<HttpResponse> {
    let asset = ASSETS
        .iter()
        .find(|asset| asset.hashed_name == hashed_name)?;
    Some(
        HttpResponse::Ok()
            .content_type(asset.content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
            .body(asset.body),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_a_hash_of_their_content() {
        let css = stylesheet_url();
        assert!(css.starts_with("/console/assets/console."), "{css}");
        assert!(css.ends_with(".css"), "{css}");
        let hash = css
            .trim_start_matches("/console/assets/console.")
            .trim_end_matches(".css");
        assert_eq!(hash.len(), 16, "{css}");
        assert_ne!(stylesheet_url(), script_url());
    }
}
