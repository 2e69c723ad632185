//! Produce each line of a file as one Kafka message (idempotent producer, keyed by line number),
//! for end-to-end tests and benchmarks against a real broker:
//! `cargo run --release --example kafka_produce -- BROKERS TOPIC FILE [--one-per-batch]
//!  [--rate MSGS_PER_S] [--seconds S]`.
//! `--rate` paces the messages (the soak test's steady load); with `--seconds` the file is
//! sent again and again until that much time has passed.

use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::io::BufRead;
use std::time::{Duration, Instant};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let usage = || -> ! {
        eprintln!("usage: kafka_produce BROKERS TOPIC FILE [--one-per-batch] [--rate MSGS_PER_S] [--seconds S]");
        std::process::exit(2);
    };
    if args.len() < 4 {
        usage();
    }
    let (brokers, topic, file) = (&args[1], &args[2], &args[3]);
    let mut one_per_batch = false;
    let mut rate: Option<f64> = None;
    let mut seconds: Option<f64> = None;
    let mut rest = args[4..].iter();
    while let Some(a) = rest.next() {
        match a.as_str() {
            "--one-per-batch" => one_per_batch = true,
            "--rate" => rate = rest.next().and_then(|v| v.parse().ok()).or_else(|| usage()),
            "--seconds" => seconds = rest.next().and_then(|v| v.parse().ok()).or_else(|| usage()),
            _ => usage(),
        }
    }
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
    let started = Instant::now();
    'outer: loop {
        for (i, line) in std::io::BufReader::new(std::fs::File::open(file)?)
            .lines()
            .enumerate()
        {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            if seconds.is_some_and(|s| started.elapsed().as_secs_f64() >= s) {
                break 'outer;
            }
            if let Some(rate) = rate {
                // Steady pace: message n leaves at n / rate seconds.
                let due = Duration::from_secs_f64(sent as f64 / rate);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
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
        if seconds.is_none() {
            break;
        }
    }
    for f in pending.drain(..) {
        f.await?.map_err(|(e, _)| e)?;
    }
    producer.flush(Duration::from_secs(30))?;
    eprintln!("produced {sent} messages to {topic}");
    Ok(())
}
