//! The Redis serialization protocol: requests in ([`parse`]) and replies out ([`write`]).

pub mod frame;
pub mod parse;
pub mod write;

pub use frame::Frame;
pub use parse::{ProtocolError, RequestParser};
pub use write::{Protocol, ReplyBuf};
