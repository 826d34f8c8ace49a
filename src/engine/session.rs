//! Commands run in-process, as one client would over a connection, through the same batch
//! runner as connections and replay.

use super::{Batch, ClientInfo, ClientState, Engine};
use crate::resp::Frame;
use std::sync::Arc;

/// An embedded client.
///
/// ```
/// use ferrokv::config::Config;
/// use ferrokv::engine::Session;
/// use ferrokv::resp::Frame;
///
/// let engine = ferrokv::command::engine(Config::default());
/// let mut session = Session::new(engine);
/// assert_eq!(session.execute(&[&b"SET"[..], b"k", b"v"]), Frame::Simple("OK".into()));
/// assert_eq!(session.execute(&[&b"GET"[..], b"k"]), Frame::Bulk(b"v".to_vec()));
/// assert_eq!(session.execute(&[&b"INCR"[..], b"k"]),
///            Frame::Error("ERR value is not an integer or out of range".into()));
/// ```
pub struct Session {
    batch: Batch,
}

impl Session {
    pub fn new(engine: Arc<Engine>) -> Session {
        let info = ClientInfo::new(
            engine.next_client_id(),
            "in-process".into(),
            "in-process".into(),
            engine.store.now(),
        );
        let client = ClientState::new(Arc::new(info), !engine.acl.auth_required());
        Session {
            batch: Batch::new(engine, client),
        }
    }

    /// Run one command and decode its reply. Under `appendfsync always` the call returns
    /// once the command's record is written out (the durability wait is the caller's: see
    /// `execute_batch`).
    pub fn execute(&mut self, args: &[&[u8]]) -> Frame {
        let args: Vec<bytes::Bytes> = args
            .iter()
            .map(|a| bytes::Bytes::copy_from_slice(a))
            .collect();
        self.batch.out().buf.clear();
        self.batch.begin();
        self.batch.execute(&args);
        self.batch.end();
        Frame::parse(&self.batch.out().buf)
            .map(|(f, _)| f)
            .unwrap_or(Frame::Null)
    }

    /// Run several commands as one atomic unit (see `Batch::run_atomic`) and decode each
    /// reply.
    pub fn execute_atomic(&mut self, cmds: &[Vec<&[u8]>]) -> Vec<Frame> {
        let cmds: Vec<Vec<bytes::Bytes>> = cmds
            .iter()
            .map(|c| c.iter().map(|a| bytes::Bytes::copy_from_slice(a)).collect())
            .collect();
        self.batch.out().buf.clear();
        self.batch.begin();
        self.batch.run_atomic(&cmds, false);
        self.batch.end();
        let mut frames = Vec::new();
        let mut at = &self.batch.out().buf[..];
        while let Some((f, n)) = Frame::parse(at) {
            frames.push(f);
            at = &at[n..];
        }
        frames
    }
}
