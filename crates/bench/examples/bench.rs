//! Standalone `rheo bench` until the main binary embeds it:
//!
//! ```sh
//! cargo run --release -p rheo-bench --example bench -- put --endpoint http://127.0.0.1:4567 -c 8 -b 500 -r 1000 -s 4
//! ```

use std::process::ExitCode;

use clap::Parser;

/// Load generator for Kinesis-compatible endpoints.
#[derive(Parser)]
#[command(name = "bench", version)]
struct Cli {
    #[command(flatten)]
    bench: rheo_bench::BenchArgs,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(rheo_bench::run(cli.bench)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
