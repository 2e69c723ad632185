//! The embedded first run: with no broker configured, `pixelwarden run` starts librdkafka's
//! in-process mock cluster (a real Kafka protocol endpoint), creates one topic per sample format
//! and produces the bundled sample traffic into it, one log line per message.

use crate::format::{sniff, Format};
use crate::source::SAMPLES;
use anyhow::{Context as _, Result};
use rdkafka::config::ClientConfig;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{FutureProducer, FutureRecord};
use std::time::Duration;

pub struct Demo {
    pub cluster: MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
    pub topics: Vec<(String, Format)>,
    pub messages: usize,
}

/// Start the mock cluster and fill it with the samples of every line format.
pub async fn start(partitions: i32) -> Result<Demo> {
    let cluster = MockCluster::new(3).context("cannot start the mock Kafka cluster")?;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .create()
        .context("cannot create the demo producer")?;
    // Drift baselines follow partitions through this topic (the mock has no CreateTopics).
    cluster
        .create_topic(&super::DriftConfig::default().state_topic, 1, 1)
        .context("create the drift state topic")?;
    let mut topics = Vec::new();
    let mut messages = 0;
    for (name, bytes) in SAMPLES {
        let Some(format) = sniff(bytes) else { continue };
        if format == Format::Har {
            continue;
        }
        let topic = format!("egress-{}", format.as_str());
        if !topics.iter().any(|(t, _)| t == &topic) {
            cluster
                .create_topic(&topic, partitions, 1)
                .with_context(|| format!("create topic {topic}"))?;
            topics.push((topic.clone(), format));
        }
        let text = String::from_utf8_lossy(bytes);
        // Zeek TSV needs its header in every partition's stream: send headers with each record.
        let header: String = text
            .lines()
            .filter(|l| l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        for (i, line) in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .enumerate()
        {
            let payload = if format == Format::Zeek {
                format!("{header}{line}")
            } else {
                line.to_string()
            };
            let key = format!("{name}:{i}");
            producer
                .send(
                    FutureRecord::to(&topic).key(&key).payload(&payload),
                    Duration::from_secs(10),
                )
                .await
                .map_err(|(e, _)| anyhow::anyhow!("demo produce to {topic}: {e}"))?;
            messages += 1;
        }
    }
    Ok(Demo {
        cluster,
        topics,
        messages,
    })
}
