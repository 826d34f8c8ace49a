//! The binary's command line: Redis option names, a config file, clear errors.

mod support;

use assert_cmd::Command;
use support::client::{RawClient, Reply};

#[test]
fn help_and_version_exit_zero() {
    let help = Command::cargo_bin("ferrokv")
        .unwrap()
        .arg("--help")
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&help.get_output().stdout).contains("Usage: ferrokv"));
    let version = Command::cargo_bin("ferrokv")
        .unwrap()
        .arg("--version")
        .assert()
        .success();
    assert!(String::from_utf8_lossy(&version.get_output().stdout).contains("ferrokv v="));
}

#[test]
fn unknown_or_malformed_options_fail_with_exit_code_1() {
    for args in [
        &["--no-such-option", "1"][..],
        &["--port", "notaport"],
        &["--maxmemory", "lots"],
        &["stray"],
    ] {
        let out = Command::cargo_bin("ferrokv")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(!out.stderr.is_empty(), "an error message for {args:?}");
    }
}

#[test]
fn a_config_file_is_read_and_the_command_line_wins() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("ferrokv.conf");
    std::fs::write(
        &conf,
        "# test config\nmaxmemory 2mb\nmaxmemory-policy allkeys-lru\ndatabases 4\n",
    )
    .unwrap();
    // The config file must be the first argument, before --port, so start it by hand.
    let port = support::server::free_port();
    let mut child = std::process::Command::new(support::server::ferrokv_bin())
        .arg(&conf)
        .args([
            "--port",
            &port.to_string(),
            "--databases",
            "8",
            "--loglevel",
            "warning",
        ])
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    assert!(
        support::server::wait_ready(&mut child, &addr),
        "server did not start"
    );
    let mut c = RawClient::connect(&addr);
    let get = |c: &mut RawClient, name: &str| match c.call(&["CONFIG", "GET", name]) {
        Reply::Array(v) => v[1].clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(get(&mut c, "maxmemory"), Reply::Bulk(b"2097152".to_vec()));
    assert_eq!(
        get(&mut c, "maxmemory-policy"),
        Reply::Bulk(b"allkeys-lru".to_vec())
    );
    assert_eq!(get(&mut c, "databases"), Reply::Bulk(b"8".to_vec()));
    assert_eq!(c.call(&["SELECT", "7"]), Reply::Status("OK".into()));
    assert_eq!(
        c.call(&["SELECT", "8"]),
        Reply::Error("ERR DB index is out of range".into())
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
