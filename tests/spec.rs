//! Runs every scenario under `spec/` and snapshots its transcript with insta.
//!
//! - `cargo test --test spec`: against ferrokv (the binary built by cargo).
//! - `SPEC_TARGET=redis cargo test --test spec` (`just spec-oracle`): against a real
//!   `redis-server` on a free port; ferrokv-only scenarios are left out and counted. Both must
//!   produce the committed snapshots, so Redis is the reference for every oracle scenario.
//! - `SPEC_FILTER=strings/` runs a subset; `cargo insta review` reviews changes.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use support::scenario;
use support::server::{Server, Target};

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

#[test]
fn every_spec_scenario_matches_its_snapshot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec = root.join("spec");
    let mut files = Vec::new();
    scenario_files(&spec, &mut files);
    let filter = std::env::var("SPEC_FILTER").unwrap_or_default();
    files.retain(|f| f.to_string_lossy().contains(&filter));
    assert!(
        !files.is_empty(),
        "no scenarios found under {}",
        spec.display()
    );
    let target = Target::from_env();

    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    let skipped = AtomicUsize::new(0);
    let ran = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism()
        .map(|n| n.get() * 2)
        .unwrap_or(4)
        .min(8);
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(file) = files.get(i) else { return };
                let rel = file
                    .strip_prefix(&spec)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let text = std::fs::read_to_string(file).unwrap();
                let sc = match scenario::parse(&text) {
                    Ok(sc) => sc,
                    Err(e) => {
                        failures.lock().unwrap().push(format!("{rel}: {e}"));
                        continue;
                    }
                };
                if target == Target::Redis && sc.ferrokv_only {
                    skipped.fetch_add(1, Ordering::SeqCst);
                    continue;
                }
                let dir = tempfile::tempdir().unwrap();
                // Scenarios that restart need the data to survive: run them with the AOF on.
                let restarts = sc
                    .steps
                    .iter()
                    .any(|st| matches!(st.kind, scenario::StepKind::Restart));
                let extra: &[&str] = if restarts {
                    &["--appendonly", "yes", "--appendfsync", "always"]
                } else {
                    &[]
                };
                let mut server = Server::start_with(target, extra, Some(dir.path().to_path_buf()));
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    scenario::run(&sc, &mut server)
                }));
                let Ok(transcript) = run else {
                    failures
                        .lock()
                        .unwrap()
                        .push(format!("{rel}: the run failed (server gone?)"));
                    continue;
                };
                drop(server);
                ran.fetch_add(1, Ordering::SeqCst);
                let name = rel.trim_end_matches(".txt").replace('/', "__");
                let result = std::panic::catch_unwind(|| {
                    let mut settings = insta::Settings::clone_current();
                    settings.set_snapshot_path(root.join("spec/snapshots"));
                    settings.set_prepend_module_to_snapshot(false);
                    settings.set_description(sc.description.clone());
                    settings.set_omit_expression(true);
                    settings.set_input_file(file);
                    settings.bind(|| insta::assert_snapshot!(name.clone(), transcript));
                });
                if result.is_err() {
                    failures.lock().unwrap().push(rel);
                }
            });
        }
    });
    let skipped = skipped.load(Ordering::SeqCst);
    eprintln!(
        "spec against {target:?}: {} scenarios run, {skipped} ferrokv-only scenarios left out",
        ran.load(Ordering::SeqCst)
    );
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} scenarios differ from their snapshots:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
