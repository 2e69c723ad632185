//! Contiguous watermarks: what may be committed for each partition.
//!
//! A partition's offset may be committed only when every message before it has been processed
//! and every finding from those messages accepted by all sinks. Messages are handed out in offset
//! order but may finish in any order (several workers); the committable offset is the lowest
//! offset still in flight, or one past the highest finished when nothing is in flight — never
//! simply the newest acknowledged message.

use std::collections::{BTreeSet, HashMap};

pub type PartitionKey = (String, i32);

#[derive(Debug, Default)]
struct Partition {
    in_flight: BTreeSet<i64>,
    /// One past the highest offset ever started.
    next: Option<i64>,
    /// The last offset handed to a commit, to avoid committing the same offset twice.
    committed: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Watermarks {
    partitions: HashMap<PartitionKey, Partition>,
}

impl Watermarks {
    /// A message entered the pipeline.
    pub fn start(&mut self, topic: &str, partition: i32, offset: i64) {
        self.start_range(topic, partition, offset, offset);
    }

    /// Consecutive messages `first..=last` of a partition entered the pipeline as one unit,
    /// finished together by [`Self::finish`] with `first`.
    pub fn start_range(&mut self, topic: &str, partition: i32, first: i64, last: i64) {
        let key = (topic.to_string(), partition);
        let p = match self.partitions.get_mut(&key) {
            Some(p) => p,
            None => self.partitions.entry(key).or_default(),
        };
        p.in_flight.insert(first);
        p.next = Some(p.next.map_or(last + 1, |n| n.max(last + 1)));
    }

    /// Messages in flight for one partition.
    pub fn in_flight_of(&self, topic: &str, partition: i32) -> usize {
        self.partitions
            .get(&(topic.to_string(), partition))
            .map_or(0, |p| p.in_flight.len())
    }

    /// All findings of a message have been accepted by every sink.
    pub fn finish(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(p) = self.partitions.get_mut(&(topic.to_string(), partition)) {
            p.in_flight.remove(&offset);
        }
    }

    /// Messages still being processed.
    pub fn in_flight(&self) -> usize {
        self.partitions.values().map(|p| p.in_flight.len()).sum()
    }

    /// The offset to commit for a partition (Kafka's "next offset to read").
    pub fn committable(&self, topic: &str, partition: i32) -> Option<i64> {
        let p = self.partitions.get(&(topic.to_string(), partition))?;
        p.in_flight.first().copied().or(p.next)
    }

    /// Offsets that moved since the last call, marking them as handed to a commit.
    pub fn take_commits(&mut self) -> Vec<(PartitionKey, i64)> {
        let mut out = Vec::new();
        for (key, p) in &mut self.partitions {
            let c = p.in_flight.first().copied().or(p.next);
            if let Some(c) = c {
                if p.committed != Some(c) {
                    p.committed = Some(c);
                    out.push((key.clone(), c));
                }
            }
        }
        out.sort();
        out
    }

    /// Every partition's committable offset, whether handed out before or not (shutdown: an
    /// asynchronous commit that failed may not have reported back yet).
    pub fn take_all_commits(&mut self) -> Vec<(PartitionKey, i64)> {
        let mut out = Vec::new();
        for (key, p) in &mut self.partitions {
            if let Some(c) = p.in_flight.first().copied().or(p.next) {
                p.committed = Some(c);
                out.push((key.clone(), c));
            }
        }
        out.sort();
        out
    }

    /// A commit of these offsets failed: hand them out again at the next [`Self::take_commits`].
    pub fn retry(&mut self, failed: &[(PartitionKey, i64)]) {
        for (key, offset) in failed {
            if let Some(p) = self.partitions.get_mut(key) {
                if p.committed == Some(*offset) {
                    p.committed = None;
                }
            }
        }
    }

    /// Forget a partition (revoked); returns its last committable offset.
    pub fn revoke(&mut self, topic: &str, partition: i32) -> Option<i64> {
        let c = self.committable(topic, partition);
        self.partitions.remove(&(topic.to_string(), partition));
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_the_contiguous_prefix() {
        let mut w = Watermarks::default();
        for o in 10..15 {
            w.start("t", 0, o);
        }
        // 12 and 13 finish first: nothing before 10 may move.
        w.finish("t", 0, 12);
        w.finish("t", 0, 13);
        assert_eq!(w.committable("t", 0), Some(10));
        w.finish("t", 0, 10);
        assert_eq!(w.committable("t", 0), Some(11));
        w.finish("t", 0, 11);
        assert_eq!(w.committable("t", 0), Some(14));
        w.finish("t", 0, 14);
        assert_eq!(w.committable("t", 0), Some(15));
        assert_eq!(w.in_flight(), 0);
    }

    #[test]
    fn commits_are_handed_out_once_per_move() {
        let mut w = Watermarks::default();
        w.start("t", 0, 0);
        w.start("t", 1, 5);
        w.finish("t", 0, 0);
        assert_eq!(
            w.take_commits(),
            vec![(("t".into(), 0), 1), (("t".into(), 1), 5)]
        );
        assert!(w.take_commits().is_empty());
        w.finish("t", 1, 5);
        let failed = w.take_commits();
        assert_eq!(failed, vec![(("t".into(), 1), 6)]);
        // The commit failed: the same offset is handed out again.
        w.retry(&failed);
        assert_eq!(w.take_commits(), failed);
        // At shutdown everything is committed again, handed out before or not.
        assert!(w.take_commits().is_empty());
        assert_eq!(
            w.take_all_commits(),
            vec![(("t".into(), 0), 1), (("t".into(), 1), 6)]
        );
        assert_eq!(w.revoke("t", 1), Some(6));
        assert_eq!(w.committable("t", 1), None);
    }

    #[test]
    fn ranges_hold_back_the_commit_until_finished() {
        let mut w = Watermarks::default();
        w.start_range("t", 0, 0, 99);
        w.start_range("t", 0, 100, 149);
        assert_eq!(w.committable("t", 0), Some(0));
        w.finish("t", 0, 100);
        assert_eq!(
            w.committable("t", 0),
            Some(0),
            "the first range is still in flight"
        );
        assert_eq!(w.in_flight_of("t", 0), 1);
        w.finish("t", 0, 0);
        assert_eq!(w.committable("t", 0), Some(150));
        assert_eq!(w.in_flight(), 0);
    }
}
