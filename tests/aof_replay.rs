//! Durability of the append-only file across crashes: every acknowledged write survives a
//! SIGKILL, a torn last record is cut off cleanly, corruption in the middle stops the start,
//! and `everysec` loses at most about a second.

mod aof_common;
mod support;

use aof_common::writers::{self, Writers};
use aof_common::{
    dump, record_boundaries, resp_str, run_expecting_exit, start_ferrokv, Depth, Dump, Item, Rng,
    Val,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::server::{Server, Target};

const ALWAYS: &[&str] = &["--appendonly", "yes", "--appendfsync", "always"];

// ---------------------------------------------------------------------------------------
// 1. Crash replay with concurrent writers.

#[test]
fn every_acknowledged_write_survives_sigkill_at_random_moments_with_appendfsync_always() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(Target::Ferrokv, ALWAYS, Some(dir.path().to_path_buf()));
    let mut writers = Writers::new(8, 0);
    for cycle in 0..8u64 {
        let mut rng = Rng::new(1000 + cycle);
        let running = writers.start(&server.addr(), cycle, Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(rng.range(150, 900)));
        running.expect_kill();
        let _ = server.child.kill();
        let _ = server.child.wait();
        server.restart();
        writers.finish_and_verify(running, &server.addr(), &format!("after kill {cycle}"));
    }
    // Nothing outside the writers' databases either.
    let mut con = aof_common::connect(&server.addr());
    let stray = dump(&mut con, 16, Depth::Lengths);
    assert!(
        stray.keys().all(|(db, _)| *db < writers::DBS),
        "keys in databases nobody wrote to"
    );
    assert!(
        writers.total_ops > 800,
        "too few writes to mean anything: {}",
        writers.total_ops
    );
    eprintln!(
        "crash replay: {} acknowledged writes over 8 kills, {} in flight at a kill",
        writers.total_ops, writers.inflight_total
    );
}

// ---------------------------------------------------------------------------------------
// 2. A torn last record, at every byte offset.

/// The hand-built AOF of the torn-tail and corruption tests: records across databases 0
/// and 2, with a binary value holding CR, LF and NUL.
fn sample_records() -> Vec<Vec<u8>> {
    let bin: &[u8] = b"x\r\n\0y";
    vec![
        resp_str(&["SELECT", "0"]),
        resp_str(&["SET", "a", "1"]),
        resp_str(&["SET", "b", "hello"]),
        resp_str(&["INCR", "a"]),
        resp_str(&["APPEND", "b", "!"]),
        resp_str(&["SELECT", "2"]),
        resp_str(&["SET", "c", "x"]),
        resp_str(&["MSET", "d", "1", "e", "22"]),
        resp_str(&["DEL", "d"]),
        resp_str(&["RPUSH", "l", "x", "y"]),
        resp_str(&["SELECT", "0"]),
        aof_common::resp(&[b"SET", b"f", bin]),
        resp_str(&["SADD", "s", "m", "n"]),
        resp_str(&["HSET", "h", "f", "v"]),
    ]
}

/// What the first `n` sample records leave (a tiny interpreter for the commands used).
fn expected_after(records: &[Vec<u8>], n: usize) -> Dump {
    let mut db = 0i64;
    let mut out = Dump::new();
    let s = |v: &[u8]| Item {
        kind: "string".into(),
        val: Val::Str(v.to_vec()),
        expire_at: None,
    };
    let coll = |kind: &str, len: i64| Item {
        kind: kind.into(),
        val: Val::Len(len),
        expire_at: None,
    };
    for rec in &records[..n] {
        let args = parse_record(rec);
        let a: Vec<&[u8]> = args.iter().map(|x| &x[..]).collect();
        let key = |i: usize| (db, a[i].to_vec());
        match a[0] {
            b"SELECT" => db = std::str::from_utf8(a[1]).unwrap().parse().unwrap(),
            b"SET" => {
                out.insert(key(1), s(a[2]));
            }
            b"INCR" => {
                let Some(Item {
                    val: Val::Str(v), ..
                }) = out.get(&key(1))
                else {
                    unreachable!()
                };
                let n: i64 = std::str::from_utf8(v).unwrap().parse().unwrap();
                out.insert(key(1), s((n + 1).to_string().as_bytes()));
            }
            b"APPEND" => {
                let Some(Item {
                    val: Val::Str(v), ..
                }) = out.get(&key(1))
                else {
                    unreachable!()
                };
                let mut v = v.clone();
                v.extend_from_slice(a[2]);
                out.insert(key(1), s(&v));
            }
            b"MSET" => {
                for i in (1..a.len()).step_by(2) {
                    out.insert(key(i), s(a[i + 1]));
                }
            }
            b"DEL" => {
                out.remove(&key(1));
            }
            b"RPUSH" => {
                out.insert(key(1), coll("list", a.len() as i64 - 2));
            }
            b"SADD" => {
                out.insert(key(1), coll("set", a.len() as i64 - 2));
            }
            b"HSET" => {
                out.insert(key(1), coll("hash", (a.len() as i64 - 2) / 2));
            }
            other => panic!("interpreter lacks {}", aof_common::show(other)),
        }
    }
    out
}

fn parse_record(rec: &[u8]) -> Vec<Vec<u8>> {
    fn line(rec: &[u8], pos: &mut usize) -> usize {
        let rel = rec[*pos..].windows(2).position(|w| w == b"\r\n").unwrap();
        let n = std::str::from_utf8(&rec[*pos + 1..*pos + rel])
            .unwrap()
            .parse()
            .unwrap();
        *pos += rel + 2;
        n
    }
    let mut pos = 0;
    let argc = line(rec, &mut pos);
    let mut out = Vec::new();
    for _ in 0..argc {
        let len = line(rec, &mut pos);
        out.push(rec[pos..pos + len].to_vec());
        pos += len + 2;
    }
    out
}

/// ok_up_to from redis-check-aof's report.
fn check_aof_ok_up_to(text: &str) -> Option<usize> {
    let i = text.find("ok_up_to=")? + "ok_up_to=".len();
    text[i..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn a_file_cut_at_any_byte_loads_the_whole_records_before_the_cut_and_is_truncated_there() {
    let records = sample_records();
    let file: Vec<u8> = records.concat();
    let bounds = record_boundaries(&file);
    assert_eq!(bounds.len(), records.len() + 1);
    assert!(
        file.len() < 420,
        "keep the sample small: {} bytes",
        file.len()
    );
    let check_aof = aof_common::have("redis-check-aof");
    if !check_aof {
        eprintln!("redis-check-aof not installed: its cross-check is skipped");
    }
    let dir = tempfile::tempdir().unwrap();
    let aof = dir.path().join("appendonly.aof");
    let log = dir.path().join("server.log");
    let mut failures = Vec::new();
    for cut in 0..=file.len() {
        // Records wholly before the cut.
        let whole = bounds.iter().rposition(|&b| b <= cut).unwrap();
        let keep = bounds[whole];
        std::fs::write(&aof, &file[..cut]).unwrap();
        if check_aof && cut > 0 {
            // Redis's own checker finds the same last whole record.
            let (ok, text) = aof_common::redis_check_aof(&aof).unwrap();
            let up_to = check_aof_ok_up_to(&text);
            if up_to != Some(keep) || ok != (keep == cut) {
                failures.push(format!(
                    "cut {cut}: redis-check-aof says ok_up_to {up_to:?} (valid: {ok}), expected {keep}"
                ));
            }
        }
        let mut p = start_ferrokv(dir.path(), &["--appendonly", "yes"], &[], &log);
        let mut con = aof_common::connect(&p.addr());
        let got = dump(&mut con, 3, Depth::Lengths);
        drop(con);
        p.kill();
        let want = expected_after(&records, whole);
        let diff = aof_common::diff_dumps(&want, &got, 0);
        if !diff.is_empty() {
            failures.push(format!(
                "cut {cut} ({whole} whole records): {}",
                diff.join("; ")
            ));
        }
        let on_disk = std::fs::read(&aof).unwrap();
        if on_disk != file[..keep] {
            failures.push(format!(
                "cut {cut}: file is {} bytes after the start, expected truncation to {keep}",
                on_disk.len()
            ));
        }
        let text = p.log_text();
        let warned = text.contains(&format!("Truncating the AOF at offset {keep}"))
            && text.contains(&format!("dropping the last {} bytes", cut - keep));
        if (cut != keep) != warned {
            failures.push(format!(
                "cut {cut}: truncation warning {} expected (log: {text:?})",
                if cut != keep { "" } else { "not" }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cuts wrong:\n{}",
        failures.len(),
        file.len() + 1,
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// 3. Corruption in the middle.

#[test]
fn garbage_or_a_failing_record_in_the_middle_stops_the_start_with_exit_code_1_and_the_offset() {
    let records = sample_records();
    let file: Vec<u8> = records.concat();
    let bounds = record_boundaries(&file);
    let insert = |at: usize, bytes: &[u8]| -> Vec<u8> {
        let mut f = file[..at].to_vec();
        f.extend_from_slice(bytes);
        f.extend_from_slice(&file[at..]);
        f
    };
    let mut flipped = file.clone();
    // Record 8 (MSET …): its first bulk header `$4` becomes `#4`.
    let rec8 = bounds[7];
    let dollar = rec8 + file[rec8..].iter().position(|&b| b == b'$').unwrap();
    flipped[dollar] = b'#';
    let format_err = "Bad file format reading the append only file";
    let cmd_err = |off: usize| format!("The command at offset {off} of the append only file");
    // (name, file contents, expected message parts)
    let cases: Vec<(&str, Vec<u8>, Vec<String>)> = vec![
        (
            "text between records",
            insert(bounds[5], b"garbage\r\n"),
            vec![format_err.into(), format!("at offset {}", bounds[5])],
        ),
        (
            "NUL bytes between records",
            insert(bounds[7], &[0u8; 16]),
            vec![format_err.into(), format!("at offset {}", bounds[7])],
        ),
        (
            "a non-bulk element in a record",
            insert(bounds[3], b"*2\r\n$3\r\nGET\r\n:1\r\n"),
            vec![format_err.into(), format!("at offset {}", bounds[3])],
        ),
        (
            "a bad multibulk length",
            insert(bounds[9], b"*x\r\n"),
            vec![format_err.into(), format!("at offset {}", bounds[9])],
        ),
        (
            "a damaged byte inside a record",
            flipped,
            vec![format_err.into(), format!("at offset {rec8}")],
        ),
        (
            "an unknown command",
            insert(bounds[5], &resp_str(&["NOSUCHCOMMAND", "x"])),
            vec![cmd_err(bounds[5]), "failed".into()],
        ),
        (
            "a command with the wrong arity",
            insert(bounds[2], &resp_str(&["SET", "a"])),
            vec![cmd_err(bounds[2]), "failed".into()],
        ),
        (
            "a command that fails on the data (INCR of a non-number)",
            insert(bounds[5], &resp_str(&["INCR", "b"])),
            vec![cmd_err(bounds[5]), "failed".into(), "not an integer".into()],
        ),
    ];
    let mut failures = Vec::new();
    for (name, contents, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let aof = dir.path().join("appendonly.aof");
        std::fs::write(&aof, &contents).unwrap();
        let (code, out) = run_expecting_exit(
            dir.path(),
            &["--appendonly", "yes"],
            Duration::from_secs(10),
        );
        if code != Some(1) {
            failures.push(format!("{name}: exit code {code:?}, output: {out}"));
            continue;
        }
        for w in &want {
            if !out.contains(w.as_str()) {
                failures.push(format!("{name}: output lacks {w:?}: {out}"));
            }
        }
        if std::fs::read(&aof).unwrap() != contents {
            failures.push(format!("{name}: the refused file was modified"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// 4. everysec.

#[test]
fn with_appendfsync_everysec_a_sigkill_loses_at_most_the_last_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start_with(
        Target::Ferrokv,
        &["--appendonly", "yes", "--appendfsync", "everysec"],
        Some(dir.path().to_path_buf()),
    );
    let acks: Arc<Mutex<Vec<(Instant, i64)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (addr, acks, stop) = (server.addr(), acks.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut con = aof_common::connect(&addr);
            let mut n = 0i64;
            // Bounded: at most 10 s even if the kill never comes.
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end && !stop.load(Ordering::SeqCst) {
                n += 1;
                let r: redis::RedisResult<(i64, ())> = redis::pipe()
                    .cmd("INCR")
                    .arg("counter")
                    .cmd("SET")
                    .arg(format!("k:{n}"))
                    .arg(n)
                    .query(&mut con);
                match r {
                    Ok((c, ())) => {
                        assert_eq!(c, n);
                        acks.lock().unwrap().push((Instant::now(), n));
                    }
                    Err(e) if e.code().is_none() => return n,
                    Err(e) => panic!("{e}"),
                }
            }
            n
        })
    };
    std::thread::sleep(Duration::from_millis(3000));
    let kill_at = Instant::now();
    stop.store(true, Ordering::SeqCst);
    let _ = server.child.kill();
    let _ = server.child.wait();
    let last_sent = writer.join().unwrap();
    server.restart();
    let acks = acks.lock().unwrap();
    let safe = acks
        .iter()
        .filter(|(t, _)| kill_at.duration_since(*t) > Duration::from_secs(2))
        .map(|&(_, n)| n)
        .max()
        .unwrap_or(0);
    let last_acked = acks.last().map_or(0, |&(_, n)| n);
    assert!(safe > 100, "too few writes before the safe point: {safe}");
    let mut con = aof_common::connect(&server.addr());
    let c: i64 = redis::cmd("GET").arg("counter").query(&mut con).unwrap();
    assert!(
        c >= safe && c <= last_sent,
        "counter {c}: writes acknowledged 2 s before the kill reached {safe}, last sent {last_sent}"
    );
    // The file is a prefix of the history: every k:n up to the counter, nothing after.
    let keys: Vec<String> = (1..=c + 2).map(|n| format!("k:{n}")).collect();
    for chunk in keys.chunks(1000) {
        let vals: Vec<Option<i64>> = redis::cmd("MGET").arg(chunk).query(&mut con).unwrap();
        for (k, v) in chunk.iter().zip(vals) {
            let n: i64 = k[2..].parse().unwrap();
            if n < c {
                assert_eq!(v, Some(n), "{k} lost although counter is {c}");
            } else if n > c {
                assert_eq!(v, None, "{k} present although counter is {c}");
            }
        }
    }
    let size: i64 = redis::cmd("DBSIZE").query(&mut con).unwrap();
    assert!(size == c || size == c + 1, "DBSIZE {size} with counter {c}");
    eprintln!("everysec: {last_acked} acknowledged, {c} after the restart, {safe} required");
}
