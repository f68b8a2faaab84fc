//! HTTPS with mutual TLS: the SOAP listener, the admin listener, and the outbound client.

pub mod admin;
pub mod admission;
pub mod body;
pub mod client;
pub mod memory;
#[cfg(unix)]
pub mod reload;
pub mod rest;
pub mod router;
pub mod server;
pub mod shutdown;
pub mod tls;
