//! Records of read-only transactions and refusals are written in groups: each request's record
//! waits briefly for the others that arrive meanwhile and they commit in one transaction. The
//! request is answered only once its record is committed, so nothing is lost, but busy nodes pay
//! one commit per group rather than one per request.

use super::{append_all, AuditEvent};
use crate::store::Store;
use tokio::sync::{mpsc, oneshot};

/// Most records in one transaction.
const GROUP: usize = 256;

/// A record to write, or a flush: answered once every record sent before it is written.
enum Job {
    Record(Box<AuditEvent>, oneshot::Sender<Result<(), String>>),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct GroupWriter {
    jobs: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// Starts the writer task (inside a tokio runtime).
    pub fn start(store: Store) -> GroupWriter {
        let (jobs, rx) = mpsc::channel(4 * GROUP);
        tokio::spawn(run(store, rx));
        GroupWriter { jobs }
    }

    /// Writes `ev`, returning once it is committed.
    pub async fn append(&self, ev: AuditEvent) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.jobs
            .send(Job::Record(Box::new(ev), done))
            .await
            .map_err(|_| "the audit writer has stopped".to_string())?;
        wait.await
            .map_err(|_| "the audit writer has stopped".to_string())?
    }

    /// Returns once every record appended before this call is written (or has failed).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.jobs.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut events = Vec::with_capacity(jobs.len());
        let mut waiters = Vec::with_capacity(jobs.len());
        let mut flushes = Vec::new();
        for job in jobs {
            match job {
                Job::Record(ev, w) => {
                    events.push(*ev);
                    waiters.push(w);
                }
                Job::Flush(w) => flushes.push(w),
            }
        }
        if !events.is_empty() {
            let n = events.len();
            let result = store
                .write(move |c| append_all(c, &events))
                .await
                .map_err(|e| e.to_string());
            if let Err(e) = &result {
                tracing::error!(records = n, error = %e, "audit records not written");
            }
            for w in waiters {
                let _ = w.send(result.clone());
            }
        }
        // Every record received before a flush is in this group or an earlier one.
        for f in flushes {
            let _ = f.send(());
        }
    }
}
