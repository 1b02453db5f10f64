//! `cql4-fuzz-server`: a seeded mutation fuzzer for a Cassandra-protocol server you own. The
//! logic is in [`cql4_testkit::fuzz_server`]; `--help` lists every flag, docs/fuzzing.md has
//! the file formats and the figures.

use std::process::ExitCode;

use clap::Parser;
use cql4_testkit::fuzz_server::{run, Args, Outcome};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(Outcome::Campaign(report)) => {
            print!("{}", report.summary());
            ExitCode::SUCCESS
        }
        Ok(Outcome::Replay(r)) => {
            println!(
                "{}: {}",
                if r.reproduced {
                    "REPRODUCED"
                } else {
                    "NOT REPRODUCED"
                },
                r.observed
            );
            if let Some(path) = &r.isolated {
                println!("the single frame that stops the server: {}", path.display());
            }
            if r.reproduced {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
