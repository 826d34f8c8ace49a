//! RDB snapshot files (`SAVE`), in Redis 7.0's format: `redis-check-rdb` accepts them and
//! redis-server loads them, so a dataset can move from ferrokv to Redis. ferrokv itself
//! persists through its AOF and does not read them back.
//!
//! # Format (RDB version 10)
//! `REDIS0010`; auxiliary fields (`0xFA name value`: redis-ver, redis-bits, ctime, used-mem,
//! aof-base); each function library (`0xF5 code`); for each database that has keys,
//! `0xFE db` and `0xFB keys expires` (a size hint), then its keys, each as
//! `[0xFC expire-ms (u64 LE)] type key object` with the objects DUMP writes
//! (`rdb::put_object`); then `0xFF` and the CRC-64/Redis (u64 LE) of every byte before it.
//! Lengths use RDB's length encoding (`rdb::put_len`).
//!
//! The file is written beside its final name and renamed over it once complete and synced,
//! so a crash mid-save leaves the previous snapshot whole.

use super::rdb::{put_len, put_object, put_str, RDB_OPCODE_FUNCTION2, RDB_VERSION};
use super::value::Value;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

static CRC64: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

const OPCODE_AUX: u8 = 0xFA;
const OPCODE_RESIZEDB: u8 = 0xFB;
const OPCODE_EXPIRETIME_MS: u8 = 0xFC;
const OPCODE_SELECTDB: u8 = 0xFE;
const OPCODE_EOF: u8 = 0xFF;

/// An RDB file being written.
pub struct RdbFile {
    w: BufWriter<File>,
    crc: crc::Digest<'static, u64>,
    tmp: PathBuf,
    path: PathBuf,
    /// Scratch for one record.
    buf: Vec<u8>,
}

impl RdbFile {
    /// Start `path` (written as a temporary file beside it until `finish`).
    pub fn create(path: &Path) -> std::io::Result<RdbFile> {
        let tmp = path.with_file_name(format!("temp-{}.rdb", std::process::id()));
        let mut f = RdbFile {
            w: BufWriter::new(File::create(&tmp)?),
            crc: CRC64.digest(),
            tmp,
            path: path.to_path_buf(),
            buf: Vec::new(),
        };
        f.emit(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        Ok(f)
    }

    fn emit(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.crc.update(bytes);
        self.w.write_all(bytes)
    }

    /// Write the record built in `buf`.
    fn flush_buf(&mut self) -> std::io::Result<()> {
        let buf = std::mem::take(&mut self.buf);
        let r = self.emit(&buf);
        self.buf = buf;
        self.buf.clear();
        r
    }

    pub fn aux(&mut self, name: &str, value: &str) -> std::io::Result<()> {
        self.buf.push(OPCODE_AUX);
        put_str(&mut self.buf, name.as_bytes());
        put_str(&mut self.buf, value.as_bytes());
        self.flush_buf()
    }

    /// A function library, by its code.
    pub fn function(&mut self, code: &[u8]) -> std::io::Result<()> {
        self.buf.push(RDB_OPCODE_FUNCTION2);
        put_str(&mut self.buf, code);
        self.flush_buf()
    }

    /// The keys that follow are in database `db` (`keys` and `expires` are size hints).
    pub fn select_db(&mut self, db: usize, keys: usize, expires: usize) -> std::io::Result<()> {
        self.buf.push(OPCODE_SELECTDB);
        put_len(&mut self.buf, db);
        self.buf.push(OPCODE_RESIZEDB);
        put_len(&mut self.buf, keys);
        put_len(&mut self.buf, expires);
        self.flush_buf()
    }

    /// One key; `expire_at` is in Unix milliseconds, 0 for none.
    pub fn key(&mut self, key: &[u8], expire_at: u64, v: &Value) -> std::io::Result<()> {
        if expire_at != 0 {
            self.buf.push(OPCODE_EXPIRETIME_MS);
            self.buf.extend_from_slice(&expire_at.to_le_bytes());
        }
        // The type byte comes before the key: write the object, then splice the key in.
        let at = self.buf.len();
        put_object(&mut self.buf, v);
        let mut k = Vec::with_capacity(key.len() + 9);
        put_str(&mut k, key);
        self.buf.splice(at + 1..at + 1, k);
        self.flush_buf()
    }

    /// End the file, sync it and put it in place of `path`.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.emit(&[OPCODE_EOF])?;
        let crc = self.crc.finalize();
        self.w.write_all(&crc.to_le_bytes())?;
        let f = self.w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&self.tmp, &self.path)?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Give up: remove the temporary file.
    pub fn abandon(self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}
