//! Runs every scenario under `spec/` and snapshots its transcript with insta: one test per
//! scenario file, named by its path under `spec/` (libtest-mimic harness).
//!
//! - `cargo test --test spec`: against ferrokv (the binary built by cargo).
//! - `cargo test --test spec strings/` runs one family; `-- --exact strings/incr_basic.txt` one
//!   scenario; `-- --list` lists them. `SPEC_FILTER=strings/` is an alias for the filter.
//! - Against ferrokv every scenario runs a second time, as `io-threads-4/<path>`, on a server
//!   started with `--io-threads 4` (the multi-thread runtime), against the same snapshot.
//! - `SPEC_TARGET=redis cargo test --test spec` (`just spec-oracle`): against a real
//!   `redis-server` on a free port; ferrokv-only scenarios are reported as ignored and counted,
//!   and the `io-threads-4/` variants are not registered. Both must produce the committed
//!   snapshots, so Redis is the reference for every oracle scenario.
//! - Tests run on `--test-threads` (or `RUST_TEST_THREADS`) threads, by default twice the
//!   cores but at most 8: each one runs its own server process.
//! - `cargo insta review` reviews changes (`INSTA_UPDATE` works as usual).

mod support;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::path::{Path, PathBuf};
use support::scenario::{self, Scenario};
use support::server::{Server, Target};

/// The server configurations every scenario runs under against ferrokv: a prefix for the test
/// name and the options added to the server's command line. The oracle runs only the first.
const CONFIGS: &[(&str, &[&str])] = &[("", &[]), ("io-threads-4/", &["--io-threads", "4"])];

/// The most threads used when neither `--test-threads` nor `RUST_TEST_THREADS` is given.
const MAX_THREADS: usize = 8;

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            if p.file_name().unwrap() != "snapshots" {
                scenario_files(&p, out);
            }
        } else if p.extension().is_some_and(|e| e == "txt") {
            out.push(p);
        }
    }
}

fn main() {
    let mut args = Arguments::from_args();
    if args.filter.is_none() {
        args.filter = std::env::var("SPEC_FILTER").ok().filter(|f| !f.is_empty());
    }
    if args.test_threads.is_none() {
        let default = std::thread::available_parallelism()
            .map(|n| n.get() * 2)
            .unwrap_or(4)
            .min(MAX_THREADS);
        let from_env = std::env::var("RUST_TEST_THREADS").ok();
        args.test_threads = Some(from_env.and_then(|v| v.parse().ok()).unwrap_or(default));
    }
    let target = Target::from_env();

    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("spec");
    let mut files = Vec::new();
    scenario_files(&spec, &mut files);
    assert!(
        !files.is_empty(),
        "no scenarios found under {}",
        spec.display()
    );
    let configs = match target {
        Target::Ferrokv => CONFIGS,
        Target::Redis => &CONFIGS[..1],
    };
    let mut trials = Vec::new();
    for (prefix, opts) in configs {
        for file in &files {
            let rel = file
                .strip_prefix(&spec)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            trials.push(trial(target, prefix, opts, rel, file.clone()));
        }
    }

    let left_out = trials
        .iter()
        .filter(|t| t.has_ignored_flag() && !args.is_filtered_out(t))
        .count();
    let conclusion = libtest_mimic::run(&args, trials);
    if !args.list {
        eprintln!(
            "spec against {target:?}: {} scenarios run, {left_out} ferrokv-only scenarios left out",
            conclusion.num_passed + conclusion.num_failed
        );
    }
    conclusion.exit();
}

/// The test for one scenario file under one server configuration, named `<prefix><rel>`
/// (`rel` is its path under `spec/`).
fn trial(
    target: Target,
    prefix: &str,
    opts: &'static [&'static str],
    rel: String,
    file: PathBuf,
) -> Trial {
    let name = format!("{prefix}{rel}");
    let parsed = std::fs::read_to_string(&file)
        .map_err(|e| e.to_string())
        .and_then(|text| scenario::parse(&text));
    let sc = match parsed {
        Ok(sc) => sc,
        Err(e) => return Trial::test(name, move || Err(format!("{rel}: {e}").into())),
    };
    // The oracle cannot run ferrokv's own features: reported as ignored, and counted.
    let left_out = target == Target::Redis && sc.ferrokv_only;
    Trial::ignorable_test(name, move || {
        if left_out {
            return Ok(Completion::ignored_with("ferrokv-only"));
        }
        check(target, &sc, &rel, &file, opts).map(|()| Completion::Completed)
    })
    .with_ignored_flag(left_out)
}

/// Run the scenario against a fresh server started with `opts` and compare its transcript
/// with the snapshot `spec/snapshots/<dir>__<name>.snap`.
fn check(
    target: Target,
    sc: &Scenario,
    rel: &str,
    file: &Path,
    opts: &[&str],
) -> Result<(), Failed> {
    let dir = tempfile::tempdir().unwrap();
    // Scenarios that restart need the data to survive: run them with the AOF on.
    let restarts = sc
        .steps
        .iter()
        .any(|st| matches!(st.kind, scenario::StepKind::Restart));
    let mut extra = opts.to_vec();
    if restarts {
        extra.extend(["--appendonly", "yes", "--appendfsync", "always"]);
    }
    let mut server = Server::start_with(target, &extra, Some(dir.path().to_path_buf()));
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        scenario::run(sc, &mut server)
    }));
    let transcript = run.map_err(|panic| {
        let msg = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("");
        format!("{rel}: the run failed (server gone?): {msg}")
    })?;
    drop(server);

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = rel.trim_end_matches(".txt").replace('/', "__");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join("spec/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(sc.description.clone());
    settings.set_omit_expression(true);
    settings.set_input_file(file);
    // A difference panics with insta's report; the harness names this scenario as failed.
    settings.bind(|| insta::assert_snapshot!(name, transcript));
    Ok(())
}
