//! `mqbench producer|consumer|null-broker [options]`: benchmark an actormq (or any RocketMQ 4.x)
//! broker. Prints a progress line per second (with the reasons of any failures and connection
//! events) and a summary (HDR percentiles in readable units; microseconds in the JSON); `--json`
//! prints the summary as one JSON object on stdout and the progress lines on stderr.
//! `null-broker` serves instead: it prints `null-broker listening on HOST:PORT` and answers sends
//! and pulls without storing anything, until killed.

use actormq::bench::args::{Cli, Mode};
use actormq::bench::{consumer, null_server, producer};
use clap::Parser;

/// The broker's allocator (see `src/bin/broker.rs`), so the load generator and the null broker
/// spend no more on malloc than the broker they are compared with.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn runtime(threads: usize, idle_poll_us: u64) -> tokio::runtime::Runtime {
    let spin = std::time::Duration::from_micros(idle_poll_us);
    if threads <= 1 {
        actormq::idle_poll::current_thread(spin).build()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(threads).enable_all();
        actormq::idle_poll::install(&mut b, spin);
        b.build()
    }
    .expect("tokio runtime")
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let (threads, json, spin) = match &cli.mode {
        Mode::Producer(p) => (p.common.threads, p.common.json, p.common.idle_poll_us),
        Mode::Consumer(c) => (c.common.threads, c.common.json, c.common.idle_poll_us),
        Mode::NullBroker(n) => (n.threads, false, n.idle_poll_us),
    };
    let rt = runtime(threads, spin);
    let progress = move |line: String| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let result = rt.block_on(async move {
        match cli.mode {
            Mode::Producer(p) => producer::run(p, |s| progress(s.line())).await.map(|s| {
                if json {
                    serde_json::to_string(&s).expect("summary serializes")
                } else {
                    s.text()
                }
            }),
            Mode::Consumer(c) => consumer::run(c, |s| progress(s.line())).await.map(|s| {
                if json {
                    serde_json::to_string(&s).expect("summary serializes")
                } else {
                    s.text()
                }
            }),
            Mode::NullBroker(n) => null_server::run(n, |line| actormq::cli::announce(&line))
                .await
                .map(|()| String::new()),
        }
    });
    match result {
        Ok(out) => {
            println!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mqbench: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
