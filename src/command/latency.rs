//! `LATENCY` (the latency monitor, `engine::latency`, and per-command histograms), and the
//! commands Redis 7.0 refuses by default: `DEBUG` (`enable-debug-command no`) and the
//! loading side of `MODULE` (`enable-module-command no`).

use super::error;
use super::server::help;
use super::{flags::*, Cmd, Ctx, Outcome};
use crate::engine::stats::HIST_BUCKETS;
use bytes::Bytes;
use std::sync::atomic::Ordering;

fn container(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Ok(())
}

/// `LATENCY LATEST`: per class, [name, time of the last sample, its ms, all-time worst ms].
fn latency_latest(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let all = ctx.engine.latency.all();
    ctx.out.array(all.len());
    for (name, s) in all {
        let (t, ms) = s.samples.back().copied().unwrap_or((0, 0));
        ctx.out.array(4);
        ctx.out.bulk(name.as_bytes());
        ctx.out.int(t as i64);
        ctx.out.int(ms as i64);
        ctx.out.int(s.max as i64);
    }
    Ok(())
}

/// `LATENCY HISTORY event`: its [time, ms] samples, oldest first.
fn latency_history(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let samples = ctx
        .engine
        .latency
        .get(&args[2])
        .map(|s| s.samples)
        .unwrap_or_default();
    ctx.out.array(samples.len());
    for (t, ms) in samples {
        ctx.out.array(2);
        ctx.out.int(t as i64);
        ctx.out.int(ms as i64);
    }
    Ok(())
}

/// `LATENCY RESET [event …]`: how many classes were reset.
fn latency_reset(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let events: Vec<&[u8]> = args[2..].iter().map(|a| &a[..]).collect();
    let n = ctx.engine.latency.reset(&events);
    ctx.out.int(n as i64);
    Ok(())
}

/// (mean, mean deviation, period in seconds) of a class's samples.
fn summary(s: &crate::engine::latency::Series) -> (u64, u64, u64) {
    let n = s.samples.len().max(1) as u64;
    let mean = s.samples.iter().map(|(_, ms)| ms).sum::<u64>() / n;
    let dev = s
        .samples
        .iter()
        .map(|(_, ms)| ms.abs_diff(mean))
        .sum::<u64>()
        / n;
    let period = match (s.samples.front(), s.samples.back()) {
        (Some((a, _)), Some((b, _))) if s.samples.len() > 1 => (b - a) / (n - 1),
        _ => 1,
    };
    (mean, dev, period.max(1))
}

/// `LATENCY DOCTOR`: what the monitor saw, in Redis's words (its advice is left out).
fn latency_doctor(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    let all = ctx.engine.latency.all();
    let text = if ctx.engine.latency.threshold.load(Ordering::Relaxed) == 0 && all.is_empty() {
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string()
    } else if all.is_empty() {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n".to_string()
    } else {
        let mut t = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, (name, s)) in all.iter().enumerate() {
            let (mean, dev, period) = summary(s);
            t.push_str(&format!(
                "{}. {name}: {} latency spikes (average {mean}ms, mean deviation {dev}ms, period {period}.00 sec). Worst all time event {}ms.\n",
                i + 1,
                s.samples.len(),
                s.max
            ));
        }
        t
    };
    ctx.out.verbatim(text.as_bytes());
    Ok(())
}

/// `LATENCY GRAPH event`: a column per sample, scaled between the lowest and highest.
fn latency_graph(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let Some(s) = ctx.engine.latency.get(&args[2]) else {
        return Err(crate::engine::CmdError::owned(
            crate::engine::ErrKind::Err,
            format!(
                "ERR No samples available for event '{}'",
                String::from_utf8_lossy(&args[2])
            ),
        ));
    };
    let high = s.samples.iter().map(|(_, ms)| *ms).max().unwrap_or(0);
    let low = s.samples.iter().map(|(_, ms)| *ms).min().unwrap_or(0);
    let mut t = format!(
        "{} - high {high} ms, low {low} ms (all time high {} ms)\n",
        String::from_utf8_lossy(&args[2]),
        s.max
    );
    t.push_str(&"-".repeat(80));
    t.push('\n');
    const ROWS: u64 = 4;
    for row in (1..=ROWS).rev() {
        let line: String = s
            .samples
            .iter()
            .map(|(_, ms)| {
                let level = if high == low {
                    ROWS
                } else {
                    1 + (ms - low) * (ROWS - 1) / (high - low)
                };
                if level >= row {
                    '#'
                } else {
                    ' '
                }
            })
            .collect();
        t.push_str(&line);
        t.push('\n');
    }
    ctx.out.verbatim(t.as_bytes());
    Ok(())
}

/// `LATENCY HISTOGRAM [command …]`: per command with calls, its calls and the cumulative
/// count of calls at or under each power of two of microseconds.
fn latency_histogram(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    let reg = ctx.engine.registry;
    let wanted: Vec<usize> = if args.len() == 2 {
        (0..reg.cmds.len()).collect()
    } else {
        let mut v = Vec::new();
        for a in &args[2..] {
            let name = String::from_utf8_lossy(a).to_ascii_lowercase();
            if let Some(i) = reg.fullnames.iter().position(|n| *n == name) {
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        v
    };
    let rows: Vec<(usize, [u64; HIST_BUCKETS])> = wanted
        .into_iter()
        .filter_map(|i| {
            let st = &ctx.engine.stats.per_cmd[i];
            let mut h = [0u64; HIST_BUCKETS];
            for (b, n) in st.hist.iter().enumerate() {
                h[b] = n.load(Ordering::Relaxed);
            }
            (h.iter().sum::<u64>() > 0).then_some((i, h))
        })
        .collect();
    let out = &mut *ctx.out;
    out.map(rows.len());
    for (i, h) in rows {
        out.bulk(reg.fullnames[i].as_bytes());
        out.map(2);
        out.bulk(b"calls");
        out.int(h.iter().sum::<u64>() as i64);
        out.bulk(b"histogram_usec");
        let mut cumulative = 0;
        let mut points = Vec::new();
        for (b, n) in h.iter().enumerate() {
            if *n > 0 {
                cumulative += n;
                points.push((1u64 << b, cumulative));
            }
        }
        out.map(points.len());
        for (usec, count) in points {
            out.int(usec as i64);
            out.int(count as i64);
        }
    }
    Ok(())
}

fn latency_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    help(
        ctx,
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
}

/// `LOLWUT [VERSION v] [arg …]`: Redis 7.0's own version line. (Versions 5 and 6 also draw
/// computer art in Redis; ferrokv answers them with the line alone.)
fn lolwut(ctx: &mut Ctx, args: &[Bytes]) -> Outcome {
    if args.len() >= 3 && super::is(&args[1], "version") {
        crate::num::parse_i64(&args[2]).ok_or(error::NOT_INTEGER)?;
    }
    ctx.out
        .verbatim(format!("Redis ver. {}\n", crate::REDIS_VERSION).as_bytes());
    Ok(())
}

const NOT_ALLOWED_MODULE: &str = "ERR MODULE command not allowed. If the enable-module-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

/// `MODULE LIST`: no modules can be loaded here, so none are.
fn module_list(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    ctx.out.array(0);
    Ok(())
}

/// `MODULE LOAD|LOADEX|UNLOAD`: refused, as Redis 7.0 refuses them by default; ferrokv
/// cannot load Redis modules at all.
fn module_refused(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Err(error::text(NOT_ALLOWED_MODULE))
}

fn module_help(ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    help(
        ctx,
        "MODULE",
        &[
            "LIST",
            "    Return a list of loaded modules.",
            "LOAD <path> [<arg> ...]",
            "    Load a module library from <path>, passing to it any optional arguments.",
            "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
            "    Load a module library from <path>, while passing it module configurations and optional arguments.",
            "UNLOAD <name>",
            "    Unload a module.",
        ],
    )
}

/// `DEBUG …`: refused, as Redis 7.0 refuses it by default (`enable-debug-command no`, which
/// is fixed here).
fn debug(_ctx: &mut Ctx, _args: &[Bytes]) -> Outcome {
    Err(error::text("ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."))
}

const ADM: u32 = ADMIN | NOSCRIPT | LOADING | STALE;

static LATENCY_SUBS: &[Cmd] = &[
    Cmd::new("histogram", -2, ADM, "server", latency_histogram).doc(
        "Return the cumulative distribution of latencies of a subset of commands or all.",
        "7.0.0",
    ),
    Cmd::new("reset", -2, ADM, "server", latency_reset)
        .doc("Reset latency data for one or more events.", "2.8.13"),
    Cmd::new("help", 2, LOADING | STALE, "server", latency_help).doc(
        "Show helpful text about the different subcommands.",
        "2.8.13",
    ),
    Cmd::new("doctor", 2, ADM, "server", latency_doctor)
        .doc("Return a human readable latency analysis report.", "2.8.13"),
    Cmd::new("graph", 3, ADM, "server", latency_graph)
        .doc("Return a latency graph for the event.", "2.8.13"),
    Cmd::new("latest", 2, ADM, "server", latency_latest).doc(
        "Return the latest latency samples for all events.",
        "2.8.13",
    ),
    Cmd::new("history", 3, ADM, "server", latency_history)
        .doc("Return timestamp-latency samples for the event.", "2.8.13"),
];

const LOAD: u32 = ADMIN | NOSCRIPT | NO_ASYNC_LOADING;

static MODULE_SUBS: &[Cmd] = &[
    Cmd::new("help", 2, LOADING | STALE, "server", module_help)
        .doc("Show helpful text about the different subcommands", "5.0.0"),
    Cmd::new("load", -3, LOAD, "server", module_refused).doc("Load a module", "4.0.0"),
    Cmd::new("list", 2, ADMIN | NOSCRIPT, "server", module_list)
        .doc("List all modules loaded by the server", "4.0.0"),
    Cmd::new("loadex", -3, LOAD, "server", module_refused)
        .doc("Load a module with extended parameters", "7.0.0"),
    Cmd::new("unload", 3, LOAD, "server", module_refused).doc("Unload a module", "4.0.0"),
];

pub static COMMANDS: &[Cmd] = &[
    Cmd::new("latency", -2, 0, "server", container)
        .subs(LATENCY_SUBS)
        .doc("A container for latency diagnostics commands", "2.8.13"),
    Cmd::new("module", -2, 0, "server", container)
        .subs(MODULE_SUBS)
        .doc("A container for module commands", "4.0.0"),
    Cmd::new("debug", -2, ADM, "server", debug).doc("A container for debugging commands", "1.0.0"),
    Cmd::new("lolwut", -1, READONLY | FAST, "server", lolwut)
        .doc("Display some computer art and the Redis version", "5.0.0"),
];
