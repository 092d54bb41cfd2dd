//! The SCIM connection page: the base URL to copy and the IdPs' set-up steps.

use crate::helpers::TestApp;
use crate::helpers::browser::Browser;
use crate::on_both_backends;

on_both_backends! {
    async fn the_connection_page_gives_the_base_url_and_each_idps_steps(backend: Backend) {
        let app = TestApp::spawn(backend).await;
        let mut browser = Browser::open(&app.base_url, &format!("connection-{backend:?}")).await;
        browser.set_up_first_owner(&app.setup_path).await;
        browser.click("SCIM connection").await;
        assert_eq!(browser.path().await, "/console/orgs/default/connection");
        let base = format!("{}/scim/v2", app.base_url);
        assert_eq!(browser.text_of("#scim-base-url").await, base);
        // The script shows the Copy button; the page needs no script to be read.
        assert!(browser.find_control("Copy").await.is_some());
        let text = browser.text().await;
        for words in ["Okta", "Microsoft Entra ID", "SCIM provisioning (read, write, delete)", "AUTH_SECRET", "userName", "Tenant URL"] {
            assert!(text.contains(words), "{words} in {text}");
        }
        browser.click("Generate token").await;
        assert_eq!(browser.path().await, "/console/orgs/default/tokens/new");
        browser.close().await;
    }
}
