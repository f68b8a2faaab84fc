//! Cross-community gateways: XCA responding (ITI-38/39) for now.

pub mod xca_responding;
