//! Print a consumer group's committed offsets for a topic, one `partition offset` per line:
//! `cargo run --release --example kafka_offsets -- BROKERS GROUP TOPIC`.
//! With `--first-at PARTITION OFFSET` after them: fetch from that offset and print the offset of
//! the first message the broker returns (it must be the one asked for when it exists).

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (brokers, group, topic) = match args.as_slice() {
        [_, b, g, t] | [_, b, g, t, _, _, _] => (b, g, t),
        _ => {
            eprintln!("usage: kafka_offsets BROKERS GROUP TOPIC [--first-at PARTITION OFFSET]");
            std::process::exit(2);
        }
    };
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    if let [.., flag, partition, offset] = args.as_slice() {
        if flag == "--first-at" {
            let mut tpl = TopicPartitionList::new();
            tpl.add_partition_offset(topic, partition.parse()?, Offset::Offset(offset.parse()?))?;
            consumer.assign(&tpl)?;
            return match consumer.poll(Duration::from_secs(10)) {
                Some(Ok(m)) => {
                    println!("{}", m.offset());
                    Ok(())
                }
                Some(Err(e)) => Err(e.into()),
                None => Err("no message within 10 s".into()),
            };
        }
    }
    let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10))?;
    let mut tpl = TopicPartitionList::new();
    for t in md.topics() {
        for p in t.partitions() {
            tpl.add_partition(topic, p.id());
        }
    }
    let committed = consumer.committed_offsets(tpl, Duration::from_secs(10))?;
    for e in committed.elements() {
        println!("{} {}", e.partition(), e.offset().to_raw().unwrap_or(-1));
    }
    Ok(())
}
