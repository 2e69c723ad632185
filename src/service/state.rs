//! Drift state that follows partitions: snapshots in a compacted Kafka topic.
//!
//! Drift baselines are kept per input partition (a site's records stay in one partition when the
//! input is keyed by site). A snapshot of one partition's baseline is zstd-compressed JSON, cut
//! into chunks of at most `chunk_bytes`, each chunk one message keyed
//! `GROUP/TOPIC/PARTITION/CHUNK` (so compaction keeps the newest of each). Every chunk starts with
//! a small header: snapshot generation (milliseconds since the epoch), chunk count, chunk index.
//! Restoring reads the state topic to its end and takes, per partition, the newest generation
//! whose chunks are all present. Snapshots are written on revoke, on shutdown and every
//! `snapshot_interval`; they are made durable by the same sync that precedes an offset commit.

use super::sinks::DurableProducer;
use crate::drift::DriftState;
use anyhow::{Context as _, Result};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const HEADER: usize = 16;

pub struct StateStore {
    pub topic: String,
    group: String,
    brokers: String,
    props: BTreeMap<String, String>,
    producer: Arc<Mutex<DurableProducer>>,
    chunk_bytes: usize,
}

/// Encode a baseline for the state topic.
pub fn encode(state: &DriftState) -> Result<Vec<u8>> {
    let json = serde_json::to_vec(state)?;
    Ok(zstd::bulk::compress(&json, 3)?)
}

/// Decode a snapshot; `max` bounds the decompressed size.
pub fn decode(bytes: &[u8], max: usize) -> Result<DriftState> {
    let json = zstd::bulk::decompress(bytes, max).context("snapshot does not decompress")?;
    serde_json::from_slice(&json).context("snapshot is not a drift state")
}

impl StateStore {
    /// Connect, creating the compacted topic when it does not exist.
    pub async fn open(
        topic: &str,
        group: &str,
        brokers: &str,
        props: &BTreeMap<String, String>,
        chunk_bytes: usize,
    ) -> Result<StateStore> {
        let store = StateStore {
            topic: topic.to_string(),
            group: group.to_string(),
            brokers: brokers.to_string(),
            props: props.clone(),
            producer: Arc::new(Mutex::new(DurableProducer::new(brokers, props)?)),
            chunk_bytes: chunk_bytes.max(1024),
        };
        store.ensure_topic().await?;
        Ok(store)
    }

    /// Create the compacted topic unless it exists (operators may have created it already,
    /// with their own replication and ACLs).
    async fn ensure_topic(&self) -> Result<()> {
        let topic = self.topic.as_str();
        let mut admin_cfg = ClientConfig::new();
        for (k, v) in &self.props {
            admin_cfg.set(k, v);
        }
        admin_cfg.set("bootstrap.servers", &self.brokers);
        let admin: AdminClient<DefaultClientContext> = admin_cfg
            .create()
            .context("cannot create a Kafka admin client")?;
        let exists = admin
            .inner()
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .map(|md| {
                md.topics()
                    .iter()
                    .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
            })
            .unwrap_or(false);
        if exists {
            return Ok(());
        }
        let new =
            NewTopic::new(topic, 1, TopicReplication::Fixed(-1)).set("cleanup.policy", "compact");
        let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin
            .create_topics([&new], &opts)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create state topic `{topic}`: {e}"))?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((t, e)) => anyhow::bail!("cannot create state topic `{t}`: {e}"),
            }
        }
        Ok(())
    }

    /// The producer, to be synced with the findings sinks before commits.
    pub fn producer(&self) -> Arc<Mutex<DurableProducer>> {
        self.producer.clone()
    }

    fn key(&self, topic: &str, partition: i32, chunk: usize) -> String {
        format!("{}/{}/{}/{}", self.group, topic, partition, chunk)
    }

    /// Enqueue one partition's snapshot (durable after the next sync).
    pub fn save(&self, topic: &str, partition: i32, snapshot: &[u8]) -> Result<()> {
        let generation = chrono::Utc::now().timestamp_millis() as u64;
        let chunks: Vec<&[u8]> = if snapshot.is_empty() {
            vec![&[][..]]
        } else {
            snapshot.chunks(self.chunk_bytes).collect()
        };
        let producer = self.producer.lock().unwrap_or_else(|p| p.into_inner());
        let mut value = Vec::with_capacity(self.chunk_bytes + HEADER);
        for (i, chunk) in chunks.iter().enumerate() {
            value.clear();
            value.extend_from_slice(&generation.to_be_bytes());
            value.extend_from_slice(&(chunks.len() as u32).to_be_bytes());
            value.extend_from_slice(&(i as u32).to_be_bytes());
            value.extend_from_slice(chunk);
            producer.send(
                &self.topic,
                self.key(topic, partition, i).as_bytes(),
                &value,
            )?;
        }
        Ok(())
    }

    /// Read the state topic to its end; the newest complete snapshot of each wanted partition.
    pub fn load(&self, wanted: &[(String, i32)]) -> Result<HashMap<(String, i32), Vec<u8>>> {
        let started = Instant::now();
        let mut c = ClientConfig::new();
        for (k, v) in &self.props {
            c.set(k, v);
        }
        c.set("bootstrap.servers", &self.brokers)
            .set("group.id", format!("{}.state-reader", self.group))
            .set("enable.auto.commit", "false");
        let consumer: BaseConsumer = c.create().context("cannot create the state reader")?;
        let md = consumer
            .fetch_metadata(Some(&self.topic), Duration::from_secs(10))
            .context("state topic metadata")?;
        // Read each partition up to the high watermark it has now.
        let mut tpl = TopicPartitionList::new();
        let mut ends: HashMap<i32, i64> = HashMap::new();
        for t in md.topics() {
            for p in t.partitions() {
                let (low, high) = consumer
                    .fetch_watermarks(&self.topic, p.id(), Duration::from_secs(10))
                    .context("state topic watermarks")?;
                if high > low {
                    tpl.add_partition_offset(&self.topic, p.id(), Offset::Beginning)?;
                    ends.insert(p.id(), high);
                }
            }
        }
        // Newest value per key, by chunk: key → (generation, count, data).
        let mut latest: HashMap<String, (u64, u32, Vec<u8>)> = HashMap::new();
        let prefix = format!("{}/", self.group);
        if !ends.is_empty() {
            consumer.assign(&tpl)?;
            while !ends.is_empty() {
                if started.elapsed() > Duration::from_secs(60) {
                    anyhow::bail!("reading the state topic took more than 60 s");
                }
                match consumer.poll(Duration::from_millis(200)) {
                    None => {
                        // Compaction or control records can leave the end without a message.
                        if let Ok(pos) = consumer.position() {
                            for e in pos.elements() {
                                if let (Offset::Offset(at), Some(&end)) =
                                    (e.offset(), ends.get(&e.partition()))
                                {
                                    if at >= end {
                                        ends.remove(&e.partition());
                                    }
                                }
                            }
                        }
                    }
                    Some(Err(e)) => return Err(e).context("reading the state topic"),
                    Some(Ok(m)) => {
                        if ends
                            .get(&m.partition())
                            .is_some_and(|&end| m.offset() + 1 >= end)
                        {
                            ends.remove(&m.partition());
                        }
                        let (Some(key), Some(value)) = (m.key(), m.payload()) else {
                            continue;
                        };
                        let Ok(key) = std::str::from_utf8(key) else {
                            continue;
                        };
                        if !key.starts_with(&prefix) || value.len() < HEADER {
                            continue;
                        }
                        let generation = u64::from_be_bytes(value[0..8].try_into()?);
                        let count = u32::from_be_bytes(value[8..12].try_into()?);
                        latest.insert(
                            key.to_string(),
                            (generation, count, value[HEADER..].to_vec()),
                        );
                    }
                }
            }
        }
        let mut out = HashMap::new();
        for (topic, partition) in wanted {
            let head = self.key(topic, *partition, 0);
            let Some((generation, count, _)) = latest.get(&head) else {
                continue;
            };
            let mut snapshot = Vec::new();
            let complete =
                (0..*count as usize).all(|i| match latest.get(&self.key(topic, *partition, i)) {
                    Some((g, _, data)) if g == generation => {
                        snapshot.extend_from_slice(data);
                        true
                    }
                    _ => false,
                });
            if complete {
                out.insert((topic.clone(), *partition), snapshot);
            } else {
                tracing::warn!(target: "pixelwarden::service", topic, partition, "drift snapshot incomplete, learning again");
            }
        }
        Ok(out)
    }
}
