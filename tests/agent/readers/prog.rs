// The Rust cell of tests/integration/agent_pprof_readers.sh: one site, keep_rust (8 MiB).
// argv[1]: file that receives "ready".
use std::{env, fs, thread, time};

#[inline(never)]
fn keep_rust(kept: &mut Vec<Vec<u8>>) {
    for _ in 0..32 {
        kept.push(vec![1u8; 256 << 10]);
    }
}

fn main() {
    let mut kept = Vec::new();
    keep_rust(&mut kept);
    let ready = env::args().nth(1).expect("ready file");
    fs::write(ready, "ready\n").expect("write ready");
    loop {
        thread::sleep(time::Duration::from_secs(3600));
    }
}
