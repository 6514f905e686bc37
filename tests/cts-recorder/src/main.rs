//! A function target for tests: appends each event it is invoked with, exactly as received, as
//! one line to `$RECORDER_FILE`. `scripts/lambda-smoke.sh` runs it under `cargo lambda watch`
//! and has the trace handler invoke it through Lambda's Invoke API.

use std::io::Write;

use lambda_runtime::{run, service_fn, Error, LambdaEvent};
use serde_json::value::RawValue;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let path = std::env::var("RECORDER_FILE").map_err(|_| "RECORDER_FILE is not set")?;
    run(service_fn(move |event: LambdaEvent<Box<RawValue>>| {
        let path = path.clone();
        async move {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            writeln!(file, "{}", event.payload.get())?;
            Ok::<_, Error>(serde_json::json!({}))
        }
    }))
    .await
}
