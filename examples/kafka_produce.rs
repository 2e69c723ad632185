//! Produce each line of a file as one Kafka message (idempotent producer, keyed by line number),
//! for end-to-end tests against a real broker:
//! `cargo run --release --example kafka_produce -- BROKERS TOPIC FILE [--one-per-batch]`.

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::io::BufRead;
use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (brokers, topic, file, one_per_batch) = match args.as_slice() {
        [_, b, t, f] => (b, t, f, false),
        [_, b, t, f, flag] if flag == "--one-per-batch" => (b, t, f, true),
        _ => {
            eprintln!("usage: kafka_produce BROKERS TOPIC FILE [--one-per-batch]");
            std::process::exit(2);
        }
    };
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", brokers)
        .set("enable.idempotence", "true")
        .set("linger.ms", "10")
        .set("message.timeout.ms", "60000");
    if one_per_batch {
        // Every record batch holds one message, so any offset is a batch boundary (see
        // tests/e2e/kafka_e2e.sh for the broker behaviour this works around).
        config.set("batch.num.messages", "1").set("linger.ms", "0");
    }
    let producer: FutureProducer = config.create()?;
    let mut pending = Vec::new();
    let mut sent = 0usize;
    for (i, line) in std::io::BufReader::new(std::fs::File::open(file)?)
        .lines()
        .enumerate()
    {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let key = i.to_string();
        loop {
            match producer.send_result(FutureRecord::to(topic).key(&key).payload(&line)) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                // Queue full: wait for deliveries before enqueueing more.
                Err((_, _)) => {
                    for f in pending.drain(..) {
                        f.await?.map_err(|(e, _)| e)?;
                    }
                }
            }
        }
        sent += 1;
        if pending.len() >= 10_000 {
            for f in pending.drain(..) {
                f.await?.map_err(|(e, _)| e)?;
            }
        }
    }
    for f in pending.drain(..) {
        f.await?.map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(30))?;
    eprintln!("produced {sent} messages to {topic}");
    Ok(())
}
