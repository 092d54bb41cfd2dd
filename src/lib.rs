//! scimd: a SCIM 2.0 provisioning server.

pub mod auth;
pub mod background;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod console;
pub mod error;
pub mod http;
pub mod logging;
pub mod metrics;
pub mod scim;
pub mod service;
pub mod startup;
pub mod store;
pub mod tls;
