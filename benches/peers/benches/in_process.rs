//! Nanoseconds per request in-process, every stack in one run:
//! `cargo bench -p peers --bench in_process` (optionally a filter: `-- ours`).
//!
//! Each stack gets its own `tracing` dispatcher for the time it is measured, so the
//! stacks built on the `tracing` crate never see another stack's subscriber.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("request");
    for name in peers::STACKS {
        let stack = peers::build(name);
        let guard = stack
            .dispatch
            .as_ref()
            .map(tracing::dispatcher::set_default);
        group.bench_function(*name, |b| {
            b.iter(|| black_box(rt.block_on(stack.app.call(peers::request()))))
        });
        drop(guard);
        stack.shutdown();
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
