//! Giving memory back after a large request. glibc keeps freed heap in its arenas, so one
//! 50 MB request would leave the node hundreds of megabytes larger for good; trimming after
//! such requests returns it to the system.

use std::sync::atomic::{AtomicBool, Ordering};

/// Requests with bodies at least this large trim the heap when they are done.
pub const TRIM_AFTER_BYTES: usize = 8 * 1024 * 1024;

static TRIMMING: AtomicBool = AtomicBool::new(false);

/// Trims the heap when dropped, if it was made for a large request: declared before the
/// request's data, it is dropped after them.
pub struct TrimAfter(pub bool);

impl TrimAfter {
    pub fn for_body(len: usize) -> TrimAfter {
        TrimAfter(len >= TRIM_AFTER_BYTES)
    }
}

impl Drop for TrimAfter {
    fn drop(&mut self) {
        if self.0 {
            release();
        }
    }
}

/// Returns freed heap memory to the system, on a blocking thread, one trim at a time.
pub fn release() {
    if TRIMMING.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::task::spawn_blocking(|| {
        trim();
        TRIMMING.store(false, Ordering::Release);
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim only walks glibc's own arenas; it takes no pointers from us.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
