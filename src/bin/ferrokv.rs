//! The ferrokv server binary: `ferrokv [config-file] [--option value ...]`.

use ferrokv::config::Config;
use ferrokv::server;
use std::sync::atomic::Ordering;
use tokio::net::TcpListener;

// jemalloc, as Redis uses, rather than glibc malloc. The server allocates and frees many small
// buffers, often on different threads (a script's arguments are made on the io thread and
// freed on the script thread), where glibc's arena locks showed in profiles: EVALSHA -P 16
// went from 8.3 to 5.2 µs of CPU per call. mimalloc was as fast but held 1.3x Redis's RSS
// for a 1M-entry stream, where jemalloc holds 0.87x.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

const USAGE: &str = "Usage: ferrokv [/path/to/ferrokv.conf] [options]
       ferrokv --help
       ferrokv --version

Options use Redis's configuration names, for example:
  --port 6379 --bind 127.0.0.1 --dir . --databases 16
  --appendonly yes|no --appendfsync always|everysec|no --appendfilename appendonly.aof
  --requirepass <password> --maxclients 10000 --maxmemory 100mb
  --maxmemory-policy noeviction --loglevel debug|verbose|notice|warning

Examples:
  ferrokv                           (serve on 127.0.0.1:6379)
  ferrokv --port 7777
  ferrokv /etc/ferrokv.conf --loglevel verbose";

fn main() {
    // The version tikv-jemalloc-sys 0.7 builds.
    let _ = ferrokv::command::info::MEM_ALLOCATOR.set("jemalloc-5.3.0");
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    if args.iter().any(|a| a == "--version" || a == "-v") {
        println!(
            "ferrokv v={} (Redis protocol {})",
            env!("CARGO_PKG_VERSION"),
            ferrokv::REDIS_VERSION
        );
        return;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("Run 'ferrokv --help' for usage.");
            std::process::exit(1);
        }
    };
    let level = match config.get("loglevel") {
        "debug" => "debug",
        "verbose" => "info",
        "notice" => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| level.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // `io-threads` (Redis's name) sets the worker threads. The default, 1 as in Redis, suits a
    // machine whose other cores run the clients and avoids cross-core traffic on shared state.
    // The multi-threaded runtime even for one: a script runs on its connection's thread, and
    // only this runtime can hand that thread's other connections to another thread should
    // the script turn busy (`engine::script::handoff`); measured, it costs one thread no more
    // than the single-threaded runtime does.
    let threads = config.get_u64("io-threads").max(1) as usize;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(threads).enable_all();
    // Tasks woken together run in the order they were woken (connections in the order their
    // requests arrived, blocked clients in the order they were served), as on the
    // single-threaded runtime; the LIFO slot would run the last one first.
    #[cfg(tokio_unstable)]
    builder.disable_lifo_slot();
    let runtime = builder.build().expect("tokio runtime");
    let code = runtime.block_on(serve(config));
    std::process::exit(code);
}

async fn serve(config: Config) -> i32 {
    let port = config.get_u64("port") as u16;
    let listeners = match server::listener::bind_all(config.get("bind"), port) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("Could not create server TCP listening socket {e}");
            return 1;
        }
    };
    let persistence = if config.get_bool("appendonly") {
        format!("aof (appendfsync {})", config.get("appendfsync"))
    } else {
        "none".to_string()
    };
    let aof_setting = config.get_bool("appendonly").then(|| {
        (
            std::path::Path::new(config.get("dir")).join(config.get("appendfilename")),
            config.get("appendfsync").to_string(),
        )
    });
    let shared = ferrokv::command::engine(config);
    let mut opened = None;
    if let Some((path, policy)) = aof_setting {
        let started = std::time::Instant::now();
        match ferrokv::aof::load(&shared, &path) {
            Ok(r) => tracing::info!(
                "DB loaded from append only file {}: {} commands, {} bytes in {:.3} seconds",
                path.display(),
                r.commands,
                r.bytes,
                started.elapsed().as_secs_f64()
            ),
            Err(e) => {
                tracing::error!("{e}");
                eprintln!("{e}");
                return 1;
            }
        }
        match ferrokv::aof::Aof::open(&path, ferrokv::aof::Fsync::parse(&policy)) {
            Ok(aof) => opened = Some(aof),
            Err(e) => {
                tracing::error!("Can't open the append-only file {}: {e}", path.display());
                return 1;
            }
        }
    }
    let control = ferrokv::aof::AofControl::install(&shared, opened);
    let bound = listeners.first().and_then(|l| l.local_addr().ok());
    shared
        .port
        .store(bound.map_or(0, |a| a.port()) as u64, Ordering::Relaxed);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        addr = %bound.map(|a| a.to_string()).unwrap_or_default(),
        pid = std::process::id(),
        persistence = %persistence,
        "ferrokv ready to accept connections"
    );
    let metrics_addr = shared.config.read().get("metrics-addr").to_string();
    if !metrics_addr.is_empty() {
        match TcpListener::bind(&metrics_addr).await {
            Ok(l) => {
                tracing::info!(
                    "metrics endpoint on http://{}/metrics",
                    l.local_addr().map(|a| a.to_string()).unwrap_or_default()
                );
                tokio::spawn(server::http::serve(shared.clone(), l));
            }
            Err(e) => {
                tracing::error!("Could not listen for metrics on {metrics_addr}: {e}");
                return 1;
            }
        }
    }
    let sig = shared.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::warn!("Received shutdown signal, scheduling shutdown...");
        sig.shut_down();
    });
    server::run(shared.clone(), listeners).await;
    if let Some(aof) = control.aof() {
        if let Err(e) = aof.flush_now() {
            tracing::error!("Error flushing the AOF at shutdown: {e}");
        }
        aof.stop();
    }
    tracing::warn!("ferrokv is now ready to exit, bye bye...");
    0
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
