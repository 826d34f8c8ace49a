//! The network: the listener, one task per connection, the metrics HTTP endpoint. Everything
//! a request does past reading and writing bytes is the engine's.

pub mod connection;
pub mod http;
pub mod listener;
pub mod offload;
mod querybuf;

pub use listener::run;
