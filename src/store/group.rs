//! Group commit for SQLite's one writer. Writes that arrive while another is being committed
//! queue up; the next leader runs them all in one database transaction, each in a savepoint of
//! its own, so each still succeeds or fails alone, and commits once. A commit costs the same
//! WAL frames for the pages the writes share (index leaves, the audit chain head) whether it
//! carries one write or twenty, so concurrent writers get through more per second.
//!
//! Leadership passes along the queue: a leader commits one group, then wakes the writer at the
//! front of the queue to lead the next, so no caller waits for more than the groups before it.

use super::{DbConn, StoreError};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Mutex;

/// At most this many writes share a transaction: enough to pay for the commit, few enough
/// that the first of them is not kept waiting long for the last.
const MAX_GROUP: usize = 16;

/// Told after the commit: None when it succeeded, or why it failed.
type Done = Box<dyn FnOnce(Option<&str>) + Send>;

struct Job {
    run: Box<dyn FnOnce(&mut DbConn) -> Done + Send>,
    fail: Box<dyn FnOnce(&str) + Send>,
    lead: Option<Box<dyn FnOnce() + Send>>,
}

enum Msg<T, E> {
    Done(Result<T, E>),
    Lead,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    leading: bool,
}

/// The write queue of one SQLite store.
#[derive(Default)]
pub struct Groups {
    queue: Mutex<Queue>,
    groups: AtomicU64,
    writes: AtomicU64,
}

/// Where a leader gets its connection from, under the store's write lock, and how a
/// transaction becomes the writer before it reads.
pub trait Writer {
    fn with_conn(&self, f: &mut dyn FnMut(&mut DbConn)) -> Result<(), StoreError>;
    fn claim(&self, conn: &mut DbConn) -> Result<(), diesel::result::Error>;
}

impl Groups {
    /// (transactions committed, writes they carried) so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.groups.load(Ordering::Relaxed),
            self.writes.load(Ordering::Relaxed),
        )
    }

    fn queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` in a savepoint of a transaction it may share with other writes, and returns
    /// once that transaction has committed (or failed). Blocks: call it on a blocking thread.
    pub fn write<T, E, F>(&self, writer: &dyn Writer, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel::<Msg<T, E>>();
        let (fail_tx, lead_tx) = (tx.clone(), tx.clone());
        let job = Job {
            run: Box::new(move |c: &mut DbConn| -> Done {
                let r = c.transaction(f);
                Box::new(move |failed: Option<&str>| {
                    let r = match failed {
                        Some(why) => {
                            r.and_then(|_| Err(E::from(StoreError::Commit(why.to_string()))))
                        }
                        None => r,
                    };
                    let _ = tx.send(Msg::Done(r));
                })
            }),
            fail: Box::new(move |why: &str| {
                let _ = fail_tx.send(Msg::Done(Err(E::from(StoreError::Commit(why.to_string())))));
            }),
            lead: Some(Box::new(move || {
                let _ = lead_tx.send(Msg::Lead);
            })),
        };
        let lead_now = {
            let mut q = self.queue();
            q.jobs.push_back(job);
            !std::mem::replace(&mut q.leading, true)
        };
        if lead_now {
            self.lead(writer);
        }
        loop {
            match rx.recv() {
                Ok(Msg::Done(r)) => return r,
                Ok(Msg::Lead) => self.lead(writer),
                Err(_) => return Err(E::from(StoreError::Join("the write was dropped".into()))),
            }
        }
    }

    /// Commits the writes at the front of the queue, then hands the lead to the next one.
    fn lead(&self, writer: &dyn Writer) {
        let jobs: Vec<Job> = {
            let mut q = self.queue();
            let n = q.jobs.len().min(MAX_GROUP);
            q.jobs.drain(..n).collect()
        };
        let mut jobs = Some(jobs);
        let opened = writer.with_conn(&mut |conn| {
            if let Some(jobs) = jobs.take() {
                self.commit(writer, conn, jobs);
            }
        });
        if let (Err(e), Some(jobs)) = (opened, jobs) {
            let why = e.to_string();
            for j in jobs {
                (j.fail)(&why);
            }
        }
        let next = {
            let mut q = self.queue();
            match q.jobs.front_mut() {
                Some(front) => front.lead.take(),
                None => {
                    q.leading = false;
                    None
                }
            }
        };
        if let Some(wake) = next {
            wake();
        }
    }

    fn commit(&self, writer: &dyn Writer, conn: &mut DbConn, jobs: Vec<Job>) {
        let mut pending = jobs.into_iter();
        let mut dones: Vec<Done> = Vec::new();
        let mut panicked = false;
        let result = conn.transaction::<(), diesel::result::Error, _>(|c| {
            writer.claim(c)?;
            for Job { run, fail, .. } in pending.by_ref() {
                match catch_unwind(AssertUnwindSafe(|| run(c))) {
                    Ok(done) => dones.push(done),
                    Err(_) => {
                        panicked = true;
                        fail("the write failed unexpectedly; nothing of it was stored");
                        return Err(diesel::result::Error::RollbackTransaction);
                    }
                }
            }
            Ok(())
        });
        if panicked {
            // The panicking write left its savepoint open, so the rollback above undid only
            // that: roll back the whole group. The connection is left marked as in a
            // transaction, so the pool discards it.
            if let Err(e) = conn.batch_execute("ROLLBACK") {
                tracing::error!(error = %e, "rolling back a group after a panic failed");
            }
        }
        let failed = match (&result, panicked) {
            (_, true) => Some(
                "another write in its transaction failed unexpectedly; nothing was stored"
                    .to_string(),
            ),
            (Err(e), false) => Some(format!("commit failed: {e}")),
            (Ok(()), false) => None,
        };
        let carried = dones.len() as u64;
        for done in dones {
            done(failed.as_deref());
        }
        let why = failed.unwrap_or_else(|| "not run".into());
        for j in pending {
            (j.fail)(&why);
        }
        if result.is_ok() {
            self.groups.fetch_add(1, Ordering::Relaxed);
            self.writes.fetch_add(carried, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::store::patients::{self, PatientRow};
    use crate::store::{Store, StoreError};
    use std::time::Duration;

    fn patient(pid: &str) -> PatientRow {
        PatientRow {
            pid: pid.into(),
            family: None,
            given: None,
            birth_date: None,
            gender: None,
            updated_at: 0,
        }
    }

    /// A slow first write holds the lead while the others queue; `bad` fails (or panics) after
    /// writing its row.
    async fn burst(
        store: &Store,
        tag: &str,
        bad: usize,
        panic: bool,
    ) -> Vec<Result<(), StoreError>> {
        let slow = store.clone();
        let first = tokio::spawn(async move {
            slow.write(|c| {
                std::thread::sleep(Duration::from_millis(300));
                patients::upsert(c, &patient("first")).map_err(StoreError::from)
            })
            .await
        });
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut tasks = Vec::new();
        for i in 0..8 {
            let (s, pid) = (store.clone(), format!("{tag}{i}"));
            tasks.push(tokio::spawn(async move {
                s.write(move |c| {
                    patients::upsert(c, &patient(&pid))?;
                    match (i == bad, panic) {
                        (true, true) => panic!("a bug in one write"),
                        (true, false) => Err(StoreError::Corrupt("refused".into())),
                        _ => Ok(()),
                    }
                })
                .await
            }));
        }
        let mut out = vec![first.await.expect("joined")];
        for t in tasks {
            out.push(t.await.expect("joined"));
        }
        out
    }

    async fn exists(store: &Store, pid: &str) -> bool {
        let pid = pid.to_string();
        store
            .read(move |c| patients::exists(c, &pid).map_err(StoreError::from))
            .await
            .expect("read")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queued_writes_share_a_transaction_and_each_fails_alone() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("g.db").display().to_string(), 4).expect("open");
        let out = burst(&store, "a", 5, false).await;
        for (i, r) in out.iter().enumerate() {
            assert_eq!(r.is_ok(), i != 6, "write {i}: {r:?}");
        }
        for i in 0..8 {
            assert_eq!(exists(&store, &format!("a{i}")).await, i != 5, "a{i}");
        }
        let (groups, writes) = store.write_groups();
        assert_eq!(writes, 9, "every write was carried by a committed group");
        assert!(
            groups <= 3,
            "the eight queued writes shared transactions: {groups} groups"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_write_takes_nothing_of_its_group_with_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("g.db").display().to_string(), 4).expect("open");
        let out = burst(&store, "b", 2, true).await;
        assert!(
            out[0].is_ok(),
            "the first write committed alone before the others queued"
        );
        assert!(out[3].is_err(), "the panicking write fails");
        // Its group was rolled back whole: whatever of it says Ok is stored, and nothing else.
        for i in 0..8usize {
            let stored = exists(&store, &format!("b{i}")).await;
            assert_eq!(stored, out[i + 1].is_ok(), "b{i}: {:?}", out[i + 1]);
        }
        assert!(!exists(&store, "b2").await);
        // The node goes on writing.
        store
            .write(|c| patients::upsert(c, &patient("after")).map_err(StoreError::from))
            .await
            .expect("a write after the panic");
        assert!(exists(&store, "after").await);
    }
}
