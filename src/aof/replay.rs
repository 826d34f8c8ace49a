//! Loading an AOF at startup through the normal command path.

use crate::command::{self, LocalStats};
use crate::resp::{Frame, Protocol, ReplyBuf, RequestParser};
use crate::server::{ClientInfo, ClientState, Shared};
use bytes::BytesMut;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What loading found.
#[derive(Debug, Default, PartialEq)]
pub struct LoadReport {
    pub commands: u64,
    pub bytes: u64,
    /// A torn last record that was cut off: (offset where it started, bytes dropped).
    pub truncated: Option<(u64, u64)>,
}

/// Why the AOF could not be loaded. The server refuses to start.
#[derive(Debug)]
pub enum LoadError {
    Io(PathBuf, std::io::Error),
    /// Bytes that are not a request, not at the end of the file.
    BadFormat {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
    /// A torn last record while `aof-load-truncated` is `no`: the file is left as it is.
    Truncated {
        path: PathBuf,
        offset: u64,
        dropped: u64,
    },
    /// A record the server refused (an error reply).
    BadCommand {
        path: PathBuf,
        offset: u64,
        error: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io(p, e) => {
                write!(f, "Can't read the append only file {}: {e}", p.display())
            }
            LoadError::BadFormat {
                path,
                offset,
                reason,
            } => write!(
                f,
                "Bad file format reading the append only file {} at offset {offset}: {reason}. \
                 Inspect it with 'redis-check-aof {}' (and repair it with 'redis-check-aof --fix' \
                 only if losing the data after that offset is acceptable)",
                path.display(),
                path.display()
            ),
            LoadError::Truncated { path, offset, dropped } => write!(
                f,
                "Unexpected end of file reading the append only file {}: the last record, at offset {offset} ({dropped} bytes), is incomplete. \
                 Start with 'aof-load-truncated yes' to drop it automatically, or fix the file with 'redis-check-aof --fix {}'",
                path.display(),
                path.display()
            ),
            LoadError::BadCommand {
                path,
                offset,
                error,
            } => write!(
                f,
                "The command at offset {offset} of the append only file {} failed: {error}. \
                 Inspect it with 'redis-check-aof {}'",
                path.display(),
                path.display()
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// Replay the AOF at `path` into `shared`'s store. A missing or empty file is a clean start.
/// A torn last record is cut off (and the file truncated to the last whole record).
pub fn load(shared: &Arc<Shared>, path: &Path) -> Result<LoadReport, LoadError> {
    let allow_truncated = shared.config.read().get_bool("aof-load-truncated");
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LoadReport::default()),
        Err(e) => return Err(LoadError::Io(path.to_path_buf(), e)),
    };
    let total = data.len() as u64;
    let mut buf = BytesMut::from(&data[..]);
    drop(data);
    let mut parser = RequestParser::new();
    let info = Arc::new(ClientInfo::new(
        0,
        "aof".into(),
        "aof".into(),
        shared.store.now(),
    ));
    let mut client = ClientState::new(info, true);
    let mut out = ReplyBuf::new(Protocol::Resp2);
    let mut local = LocalStats::default();
    let mut report = LoadReport {
        bytes: total,
        ..LoadReport::default()
    };
    loop {
        let offset = total - buf.len() as u64;
        // Only multibulk records belong in an AOF (the parser would also take inline text).
        if !parser.in_progress() && buf.first().is_some_and(|&b| b != b'*') {
            return Err(LoadError::BadFormat {
                path: path.to_path_buf(),
                offset,
                reason: format!("expected '*', got '{}'", buf[0].escape_ascii()),
            });
        }
        let args = match parser.parse(&mut buf) {
            Ok(Some(args)) => args,
            Ok(None) => {
                if !buf.is_empty() || parser.in_progress() {
                    let dropped = total - offset;
                    if !allow_truncated {
                        return Err(LoadError::Truncated {
                            path: path.to_path_buf(),
                            offset,
                            dropped,
                        });
                    }
                    tracing::warn!(
                        "!!! Warning: short read while loading the AOF file {}!!! Truncating the AOF at offset {offset}, dropping the last {dropped} bytes (an incomplete last record)",
                        path.display()
                    );
                    let f = std::fs::OpenOptions::new()
                        .write(true)
                        .open(path)
                        .map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
                    f.set_len(offset)
                        .and_then(|_| f.sync_all())
                        .map_err(|e| LoadError::Io(path.to_path_buf(), e))?;
                    report.truncated = Some((offset, dropped));
                    report.bytes = offset;
                }
                break;
            }
            Err(e) => {
                return Err(LoadError::BadFormat {
                    path: path.to_path_buf(),
                    offset,
                    reason: e.to_string(),
                });
            }
        };
        out.buf.clear();
        // Time stands still during a load (as in Redis): nothing expires, so every record
        // applies to the data it was applied to when logged. Expiries that happened later
        // were logged as DEL.
        command::execute(shared, &mut client, &mut out, &args, 0, &mut local);
        if let Some((Frame::Error(e), _)) = Frame::parse(&out.buf) {
            return Err(LoadError::BadCommand {
                path: path.to_path_buf(),
                offset,
                error: e,
            });
        }
        report.commands += 1;
    }
    local.flush(shared);
    Ok(report)
}
