//! Loading an AOF at startup through the engine's batch runner, in loading mode.

use crate::engine::{Batch, ClientInfo, ClientState, Engine};
use crate::resp::{Frame, RequestParser};
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

/// Replay the AOF at `path` into `engine`'s store, in loading mode. A missing or empty file is
/// a clean start. A torn last record, or a `MULTI` block left without its `EXEC` at the end,
/// is cut off (and the file truncated to where it began).
pub fn load(engine: &Arc<Engine>, path: &Path) -> Result<LoadReport, LoadError> {
    let allow_truncated = engine.config.read().get_bool("aof-load-truncated");
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
        engine.store.now(),
    ));
    let mut batch = Batch::new(engine.clone(), ClientState::new(info, true));
    batch.set_loading(true);
    batch.begin();
    let mut report = LoadReport {
        bytes: total,
        ..LoadReport::default()
    };
    // An open MULTI block: where it began and the commands queued so far.
    let mut block: Option<(u64, Vec<Vec<bytes::Bytes>>)> = None;
    let truncate_at = |offset: u64, report: &mut LoadReport| -> Result<(), LoadError> {
        let dropped = total - offset;
        if !allow_truncated {
            return Err(LoadError::Truncated {
                path: path.to_path_buf(),
                offset,
                dropped,
            });
        }
        tracing::warn!(
            "!!! Warning: short read while loading the AOF file {}!!! Truncating the AOF at offset {offset}, dropping the last {dropped} bytes (an incomplete last record or transaction)",
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
        Ok(())
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
                if let Some((start, _)) = block.take() {
                    truncate_at(start, &mut report)?;
                } else if !buf.is_empty() || parser.in_progress() {
                    truncate_at(offset, &mut report)?;
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
        let name = &args[0];
        if name.eq_ignore_ascii_case(b"multi") {
            if block.is_some() {
                return Err(bad_command(path, offset, "MULTI calls can not be nested"));
            }
            block = Some((offset, Vec::new()));
            report.commands += 1;
            continue;
        }
        if name.eq_ignore_ascii_case(b"exec") {
            let Some((start, cmds)) = block.take() else {
                return Err(bad_command(path, offset, "EXEC without MULTI"));
            };
            batch.out().buf.clear();
            // The whole block at once, under one lock set: all or nothing.
            batch.run_atomic(&cmds, true);
            if let Some(e) = first_error(&batch.out().buf) {
                return Err(bad_command(path, start, &e));
            }
            report.commands += 1;
            continue;
        }
        if let Some((_, cmds)) = block.as_mut() {
            cmds.push(args);
            report.commands += 1;
            continue;
        }
        batch.out().buf.clear();
        batch.execute(&args);
        if let Some(e) = first_error(&batch.out().buf) {
            return Err(bad_command(path, offset, &e));
        }
        report.commands += 1;
    }
    batch.end();
    // A load counts no keyspace statistics (hits, misses) either.
    engine.store.reset_stats();
    Ok(report)
}

fn bad_command(path: &Path, offset: u64, error: &str) -> LoadError {
    LoadError::BadCommand {
        path: path.to_path_buf(),
        offset,
        error: error.to_string(),
    }
}

/// The first error among the replies in `buf`.
fn first_error(mut buf: &[u8]) -> Option<String> {
    while let Some((f, n)) = Frame::parse(buf) {
        if let Frame::Error(e) = f {
            return Some(e);
        }
        buf = &buf[n..];
    }
    None
}
