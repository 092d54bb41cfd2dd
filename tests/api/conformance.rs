//! The `scim-conformance` cases (every profile) against scimd in-process, on both backends.

use scim_conformance::{Config, Profile};

use crate::helpers::TestApp;
use crate::on_both_backends;

on_both_backends! {
    async fn every_conformance_case_passes_or_skips_for_an_unsupported_feature(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let config = Config {
            base_url: app.url("/scim/v2"),
            token: app.token.clone(),
            profiles: Profile::ALL.to_vec(),
            force_optional: false,
        };

        // The library's client is blocking.
        let report = tokio::task::spawn_blocking(move || scim_conformance::run(&config))
            .await
            .expect("conformance task")
            .expect("conformance run");

        assert_eq!(report.failed, 0, "\n{}", report.render_text());
        assert!(report.passed > 0, "\n{}", report.render_text());
    }
}
