//! Print every message of a topic, one payload per line, from the beginning of each partition
//! until no message arrived for IDLE seconds (end-to-end tests read the findings topic with it):
//! `cargo run --release --example kafka_dump -- BROKERS TOPIC [IDLE_SECONDS]`.

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use std::io::Write;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (brokers, topic, idle) = match args.as_slice() {
        [_, b, t] => (b, t, 5.0),
        [_, b, t, i] => (b, t, i.parse()?),
        _ => {
            eprintln!("usage: kafka_dump BROKERS TOPIC [IDLE_SECONDS]");
            std::process::exit(2);
        }
    };
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("dump-{}", std::process::id()))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[topic])?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut last = Instant::now();
    let mut n = 0u64;
    while last.elapsed() < Duration::from_secs_f64(idle) {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                out.write_all(m.payload().unwrap_or_default())?;
                out.write_all(b"\n")?;
                n += 1;
                last = Instant::now();
            }
            Some(Err(e)) => eprintln!("kafka_dump: {e}"),
            None => {}
        }
    }
    out.flush()?;
    eprintln!("kafka_dump: {n} messages from {topic}");
    Ok(())
}
