//! Push delivery of an organization's Security Event Tokens (RFC 8935), and the token
//! notices that travel the same way.

pub mod deliver;
pub mod destination;
pub mod notices;
pub mod retry;

pub use deliver::{PushGuard, PushSettings, start};
pub use destination::PushDestinations;
