//! Start a ferrokv binary or a real `redis-server` on a free loopback port, and stop it
//! (by PID, on drop) when the test is done.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Which server a test talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Ferrokv,
    Redis,
}

impl Target {
    /// `SPEC_TARGET=redis` selects the oracle; anything else is ferrokv.
    pub fn from_env() -> Target {
        match std::env::var("SPEC_TARGET").as_deref() {
            Ok("redis") => Target::Redis,
            _ => Target::Ferrokv,
        }
    }
}

/// A running server process, killed when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub target: Target,
    pub dir: Option<PathBuf>,
    extra: Vec<String>,
}

/// A port that was free a moment ago. Races with other processes are retried by `start`.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn ferrokv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ferrokv"))
}

impl Server {
    pub fn start(target: Target) -> Server {
        Server::start_with(target, &[], None)
    }

    /// Start with extra command-line options (Redis option names work for both targets).
    pub fn start_with(target: Target, extra: &[&str], dir: Option<PathBuf>) -> Server {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        for _ in 0..20 {
            let port = free_port();
            let child = spawn(target, port, &extra, dir.as_ref());
            let mut server = Server {
                child,
                port,
                target,
                dir: dir.clone(),
                extra: extra.clone(),
            };
            if server.wait_ready() {
                return server;
            }
        }
        panic!("could not start {target:?}");
    }

    fn wait_ready(&mut self) -> bool {
        let addr = self.addr();
        wait_ready(&mut self.child, &addr)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Kill the process (SIGKILL) and start it again on the same port and directory.
    pub fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.target, self.port, &self.extra, self.dir.as_ref());
        assert!(self.wait_ready(), "server did not come back after restart");
    }
}

/// Wait until the server `child` answers on `addr`; false if it exited or 10 s went by.
///
/// A bare TCP connect is not proof: another test's server may hold the port we picked, and
/// a connect to a free port in the ephemeral range can connect the socket to itself. Only a
/// server that reports `child`'s PID counts.
pub fn wait_ready(child: &mut Child, addr: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false; // exited: most likely the port was taken meanwhile
        }
        match answering_pid(addr) {
            Ok(Some(pid)) => return pid == child.id(),
            // A password-protected server cannot say who it is: trust a live child.
            Err(()) => return matches!(child.try_wait(), Ok(None)),
            Ok(None) => {}
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    false
}

/// The `process_id` the server on `addr` reports in `INFO server`.
fn answering_pid(addr: &str) -> Result<Option<u32>, ()> {
    use super::client::{RawClient, Reply};
    let Ok(mut c) = RawClient::try_connect(addr) else {
        return Ok(None);
    };
    c.send(&[b"INFO".to_vec(), b"server".to_vec()]);
    Ok(match c.read() {
        Ok(Reply::Bulk(b)) | Ok(Reply::Verbatim(_, b)) => String::from_utf8_lossy(&b)
            .lines()
            .find_map(|l| l.strip_prefix("process_id:"))
            .and_then(|v| v.trim().parse().ok()),
        Ok(Reply::Error(e)) if e.starts_with("NOAUTH") => return Err(()),
        _ => None,
    })
}

fn spawn(target: Target, port: u16, extra: &[String], dir: Option<&PathBuf>) -> Child {
    let mut cmd = match target {
        Target::Ferrokv => {
            let mut c = Command::new(ferrokv_bin());
            c.args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--loglevel",
                "warning",
            ]);
            c
        }
        Target::Redis => {
            let mut c = Command::new("redis-server");
            c.args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]);
            c.args(["--loglevel", "warning", "--daemonize", "no"]);
            c
        }
    };
    if let Some(d) = dir {
        cmd.args(["--dir", d.to_str().unwrap()]);
    }
    cmd.args(extra);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd.spawn()
        .unwrap_or_else(|e| panic!("spawn {target:?}: {e}"))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
