//! Busy scripts, black box: a script past busy-reply-threshold leaves the server serving
//! others (`-BUSY`, `FUNCTION STATS`), `SCRIPT KILL`/`FUNCTION KILL` stop it unless it wrote,
//! and `SHUTDOWN NOSAVE` ends the process even then. Run on the default single-thread runtime
//! and on four io-threads.

mod support;

use std::thread;
use std::time::Duration;
use support::client::{RawClient, Reply};
use support::server::{Server, Target};

const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

fn start(opts: &[&str]) -> Server {
    let server = Server::start_with(Target::Ferrokv, opts, None);
    let mut c = RawClient::connect(&server.addr());
    assert_eq!(
        c.call(&["CONFIG", "SET", "busy-reply-threshold", "100"]),
        Reply::Status("OK".into())
    );
    server
}

/// Send `args` on a new connection from another thread; its reply when it comes.
fn in_background(addr: String, args: &'static [&'static str]) -> thread::JoinHandle<Reply> {
    thread::spawn(move || RawClient::connect(&addr).call(args))
}

fn err(text: &str) -> Reply {
    Reply::Error(text.into())
}

fn a_busy_script_is_answered_for_and_killed(opts: &[&str]) {
    let server = start(opts);
    let addr = server.addr();
    let script = in_background(addr.clone(), &["EVAL", "while true do end", "0"]);
    thread::sleep(Duration::from_millis(400));
    let mut c = RawClient::connect(&addr);
    assert_eq!(c.call(&["PING"]), err(BUSY_EVAL));
    assert_eq!(c.call(&["GET", "k"]), err(BUSY_EVAL));
    assert_eq!(c.call(&["FUNCTION", "KILL"]), err(BUSY_EVAL));
    assert_eq!(c.call(&["SHUTDOWN"]), err(BUSY_EVAL));
    assert_eq!(c.call(&["SCRIPT", "KILL"]), Reply::Status("OK".into()));
    match script.join().unwrap() {
        Reply::Error(e) => assert!(
            e.starts_with("ERR Script killed by user with SCRIPT KILL..."),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(
        c.call(&["SCRIPT", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );

    // A function: FUNCTION STATS names it, SCRIPT KILL refuses, FUNCTION KILL stops it.
    c.call(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=spin\nredis.register_function('spin', function() while true do end end)",
    ]);
    let f = in_background(addr.clone(), &["FCALL", "spin", "0"]);
    thread::sleep(Duration::from_millis(400));
    assert_eq!(c.call(&["PING"]), err(BUSY_FUNCTION));
    match c.call(&["FUNCTION", "STATS"]) {
        Reply::Array(items) => match &items[1] {
            Reply::Array(run) => {
                assert_eq!(run[1], Reply::Bulk(b"spin".to_vec()));
                assert_eq!(
                    run[3],
                    Reply::Array(vec![
                        Reply::Bulk(b"fcall".to_vec()),
                        Reply::Bulk(b"spin".to_vec()),
                        Reply::Bulk(b"0".to_vec())
                    ])
                );
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(c.call(&["SCRIPT", "KILL"]), err(BUSY_FUNCTION));
    assert_eq!(c.call(&["FUNCTION", "KILL"]), Reply::Status("OK".into()));
    assert!(matches!(f.join().unwrap(), Reply::Error(_)));
    assert_eq!(c.call(&["PING"]), Reply::Status("PONG".into()));
}

fn a_script_that_wrote_is_unkillable_but_shutdown_nosave_ends_it(opts: &[&str]) {
    let mut server = start(opts);
    let addr = server.addr();
    let _script = in_background(
        addr.clone(),
        &["EVAL", "redis.call('SET', 'k', 'v') while true do end", "0"],
    );
    thread::sleep(Duration::from_millis(400));
    let mut c = RawClient::connect(&addr);
    match c.call(&["SCRIPT", "KILL"]) {
        Reply::Error(e) => assert!(
            e.starts_with("UNKILLABLE Sorry the script already executed write commands"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    c.send(&[b"SHUTDOWN".to_vec(), b"NOSAVE".to_vec()]);
    for _ in 0..100 {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            return;
        }
        thread::sleep(Duration::from_millis(50));
    }
    panic!("SHUTDOWN NOSAVE did not end the server while a script was busy");
}

#[test]
fn busy_script_single_thread() {
    a_busy_script_is_answered_for_and_killed(&[]);
}

#[test]
fn busy_script_io_threads() {
    a_busy_script_is_answered_for_and_killed(&["--io-threads", "4"]);
}

#[test]
fn unkillable_script_single_thread() {
    a_script_that_wrote_is_unkillable_but_shutdown_nosave_ends_it(&[]);
}

#[test]
fn unkillable_script_io_threads() {
    a_script_that_wrote_is_unkillable_but_shutdown_nosave_ends_it(&["--io-threads", "4"]);
}
