//! The pooled connection type and the blocking-work bridge.

use super::group::{Groups, Writer};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database pool: {0}")]
    Pool(String),
    #[error("database: {0}")]
    Db(#[from] diesel::result::Error),
    #[error("migration: {0}")]
    Migration(String),
    #[error("background task failed: {0}")]
    Join(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    #[error("write not committed: {0}")]
    Commit(String),
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            // WAL lets the CLI and readers work while the node writes; the busy timeout covers
            // the short write locks. No mmap_size: each commit elsewhere (every audit group is
            // one) makes a reader drop its view of the file, and remapping it cost more than
            // reading the pages (W1 fell from 1,456 to 1,032 req/s).
            // No automatic checkpoints: they ran inside whichever commit crossed the threshold,
            // holding the write lock through a copy and an fsync. The checkpointer thread does
            // them beside the writers.
            c.batch_execute(
                "PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                 PRAGMA wal_autocheckpoint = 0;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// On SQLite, makes the transaction a writer before it reads anything (as `BEGIN IMMEDIATE`
/// would): a transaction that read first and then found that another process (a second node,
/// the CLI) had committed since would fail with SQLITE_BUSY instead of waiting for the lock.
/// The statement changes nothing (no row has id 0); starting it takes the write lock, under
/// the busy timeout.
fn claim_writes(conn: &mut DbConn) -> Result<(), diesel::result::Error> {
    if let DbConn::Sqlite(c) = conn {
        c.batch_execute("UPDATE audit_chain SET last_seq = last_seq WHERE id = 0;")?;
    }
    Ok(())
}

#[derive(Clone)]
pub struct Store {
    pool: Pool<ConnectionManager<DbConn>>,
    /// SQLite allows one writer; serialising writers in-process avoids lock-upgrade failures.
    write_lock: Option<Arc<Mutex<()>>>,
    /// SQLite: concurrent writes share transactions (group commit).
    groups: Option<Arc<Groups>>,
    /// SQLite: the checkpointer thread runs while a handle holds this.
    _checkpoints: Option<Arc<()>>,
    pub is_postgres: bool,
}

/// A group leader's connection: from the pool, under the write lock.
struct PoolWriter {
    pool: Pool<ConnectionManager<DbConn>>,
    lock: Option<Arc<Mutex<()>>>,
}

impl Writer for PoolWriter {
    fn with_conn(&self, f: &mut dyn FnMut(&mut DbConn)) -> Result<(), StoreError> {
        let _guard = self
            .lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let mut conn = self
            .pool
            .get()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        f(&mut conn);
        Ok(())
    }

    fn claim(&self, conn: &mut DbConn) -> Result<(), diesel::result::Error> {
        claim_writes(conn)
    }
}

/// How often the checkpointer folds the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// From this many frames (4 MiB of 4 KiB pages, SQLite's own autocheckpoint threshold) the
/// WAL is made to start over.
const RESTART_FRAMES: i32 = 1000;

#[derive(diesel::QueryableByName)]
struct Checkpointed {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    log: i32,
}

fn checkpoint(c: &mut SqliteConnection) -> Option<Checkpointed> {
    match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Checkpointed>(c) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(error = %e, "WAL checkpoint failed");
            None
        }
    }
}

/// Folds the WAL of `path` into the database file every CHECKPOINT_EVERY, on a connection of
/// its own, until the store is dropped. The bulk of each checkpoint runs beside the writers;
/// only the frames they added meanwhile are copied under the write lock. (A WAL that never
/// starts over grows without end, and every read searches it.)
fn spawn_checkpointer(path: String, alive: std::sync::Weak<()>, lock: Arc<Mutex<()>>) {
    let spawned = std::thread::Builder::new()
        .name("ncpeh-checkpoint".into())
        .spawn(move || {
            let mut c = match SqliteConnection::establish(&path) {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "the WAL checkpointer cannot open the database");
                    return;
                }
            };
            let _ = c.batch_execute("PRAGMA busy_timeout = 1000;");
            loop {
                std::thread::sleep(CHECKPOINT_EVERY);
                if alive.strong_count() == 0 {
                    return;
                }
                // A short WAL can wait. A long one is completed under the lock: a checkpoint
                // that completes while no write transaction is open is what lets the next
                // writer start the WAL over (one open across it keeps appending).
                if checkpoint(&mut c).is_some_and(|r| r.log < RESTART_FRAMES) {
                    continue;
                }
                let _writers = lock.lock().unwrap_or_else(|p| p.into_inner());
                checkpoint(&mut c);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the WAL checkpointer");
    }
}

impl Store {
    /// Opens `postgres://...` or a SQLite path (`sqlite://path` or a plain path), and applies
    /// pending migrations.
    pub fn open(url: &str, pool_size: u32) -> Result<Store, StoreError> {
        let is_postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let conn_url = if is_postgres {
            // Without this, libpq's OpenSSL registers an exit handler that frees its state while
            // pool threads may still be opening connections: a crash on exit (seen with
            // `ncpeh patient add`). openssl-sys initialises it without that handler.
            openssl_sys::init();
            // One connection first: the pool would retry for its whole timeout and then report
            // only a generic error, where libpq says what is wrong (TLS, password, host).
            PgConnection::establish(url)
                .map_err(|e| StoreError::Pool(format!("cannot connect to PostgreSQL: {e}")))?;
            url.to_string()
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            if let Some(dir) = std::path::Path::new(path).parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Pool(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
            }
            // WAL is a property of the file: set it once, before the pool opens connections.
            let mut c = SqliteConnection::establish(path)
                .map_err(|e| StoreError::Pool(format!("cannot open {path}: {e}")))?;
            c.batch_execute("PRAGMA busy_timeout = 15000; PRAGMA journal_mode = WAL;")?;
            path.to_string()
        };
        let conn_path = conn_url.clone();
        let manager = ConnectionManager::<DbConn>::new(conn_url);
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(2))
            .connection_timeout(Duration::from_secs(30))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let store = Store {
            pool,
            write_lock: (!is_postgres).then(|| Arc::new(Mutex::new(()))),
            groups: (!is_postgres).then(|| Arc::new(Groups::default())),
            _checkpoints: (!is_postgres).then(|| Arc::new(())),
            is_postgres,
        };
        if let (Some(alive), Some(lock)) = (&store._checkpoints, &store.write_lock) {
            spawn_checkpointer(conn_path, Arc::downgrade(alive), lock.clone());
        }
        store.migrate()?;
        Ok(store)
    }

    pub fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let applied = match &mut *conn {
            DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        }
        .map_err(|e| StoreError::Migration(e.to_string()))?;
        Ok(applied)
    }

    /// Runs read work on a blocking thread.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| StoreError::Pool(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// (transactions, writes) committed by group commit so far; (0, 0) on PostgreSQL.
    pub fn write_groups(&self) -> (u64, u64) {
        self.groups.as_ref().map_or((0, 0), |g| g.counts())
    }

    /// The same counts for /metrics, without holding the store open (SQLite only).
    pub fn write_counter(&self) -> Option<Box<dyn Fn() -> (u64, u64) + Send + Sync>> {
        let g = self.groups.clone()?;
        Some(Box::new(move || g.counts()))
    }

    /// Runs `f` on a blocking thread, all or nothing: in its own transaction, or on SQLite in
    /// a savepoint of a transaction shared with the writes that queued beside it, answered
    /// once that transaction has committed.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + From<diesel::result::Error> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let lock = self.write_lock.clone();
        if let Some(groups) = self.groups.clone() {
            return tokio::task::spawn_blocking(move || {
                groups.write(&PoolWriter { pool, lock }, f)
            })
            .await
            .map_err(|e| StoreError::Join(e.to_string()))?;
        }
        tokio::task::spawn_blocking(move || {
            let _guard = lock
                .as_ref()
                .map(|l| l.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
            let mut conn = pool.get().map_err(|e| StoreError::Pool(e.to_string()))?;
            let conn: &mut DbConn = &mut conn;
            conn.transaction(|c| {
                claim_writes(c)?;
                f(c)
            })
        })
        .await
        .map_err(|e| StoreError::Join(e.to_string()))?
    }

    /// A connection for synchronous callers (CLI, feed sinks).
    pub fn blocking_write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        E: From<StoreError> + From<diesel::result::Error>,
        F: FnOnce(&mut DbConn) -> Result<T, E>,
    {
        let _guard = self
            .write_lock
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        let mut conn = self
            .pool
            .get()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let conn: &mut DbConn = &mut conn;
        conn.transaction(|c| {
            claim_writes(c)?;
            f(c)
        })
    }

    /// Closes this handle at shutdown, once nothing else uses the database. On SQLite the WAL
    /// is first folded into the database file, so that a stopped node leaves one file behind;
    /// a failure there is harmless (the next open replays the WAL). The pool's connections
    /// close when its last handle, normally this one, is dropped.
    pub fn close(self) {
        let Ok(mut conn) = self.pool.get() else {
            return;
        };
        if let DbConn::Sqlite(c) = &mut *conn {
            if let Err(e) = c.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);") {
                tracing::debug!(error = %e, "WAL checkpoint at shutdown failed");
            }
        }
    }

    pub fn ping(&self) -> bool {
        self.pool
            .get()
            .ok()
            .map(|mut c| c.batch_execute("SELECT 1").is_ok())
            .unwrap_or(false)
    }
}
