//! Sends N in-process requests through one stack, for instruction counting:
//!
//! ```text
//! cargo build --release -p peers --bin request_loop
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/request_loop ours_rate0 6000
//! ```
//!
//! Per-request instructions = (total(N2) - total(N1)) / (N2 - N1), which cancels
//! start-up and shutdown; `callgrind.py` does that for every stack.

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "bare".into());
    if name == "--list" {
        println!("{}", peers::STACKS.join("\n"));
        return;
    }
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let stack = peers::build(&name);
    let _dispatch = stack
        .dispatch
        .as_ref()
        .map(tracing::dispatcher::set_default);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..n {
            let (status, body) = stack.app.call(peers::request()).await;
            assert!(status.is_success());
            std::hint::black_box(body);
        }
    });
    drop(_dispatch);
    // Every span the stack claims to record reached its exporter (or reporter).
    stack.check(n as u64);
    stack.shutdown();
}
