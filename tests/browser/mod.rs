//! Headless Chromium for the page tests: is it there (a missing browser fails under
//! NCPEH_TEST_REQUIRE_CHROMIUM=1, else the test says SKIP and why), the DOM it builds from a page,
//! and a screenshot of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `chromium`, or None with the reason on stderr. Under NCPEH_TEST_REQUIRE_CHROMIUM=1 (set by
/// tests/run.sh, which installs it) a missing browser fails the test instead.
pub fn chromium() -> Option<&'static str> {
    let ok = Command::new("chromium")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        return Some("chromium");
    }
    let why = "headless Chromium (`chromium`, Debian package chromium) is not installed; tests/run.sh installs it";
    if std::env::var("NCPEH_TEST_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
        panic!("{why}");
    }
    eprintln!("SKIP browser checks: {why}");
    None
}

/// Runs headless Chromium on a page with a profile of its own (parallel tests would fight over
/// one), ending it if it hangs; returns stdout.
pub fn run_chromium(bin: &str, page: &Path, extra: &[&str]) -> String {
    run_chromium_at(bin, &format!("file://{}", page.display()), extra)
}

/// The same for a URL (a page served by the node).
pub fn run_chromium_at(bin: &str, url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut out = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish {url} in 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    reader.join().unwrap()
}

pub fn dump_dom(bin: &str, page: &Path) -> String {
    dump_dom_at(bin, &format!("file://{}", page.display()))
}

pub fn dump_dom_at(bin: &str, url: &str) -> String {
    let dom = run_chromium_at(bin, url, &["--dump-dom"]);
    assert!(dom.contains("</html>"), "Chromium gave no DOM for {url}");
    dom
}

/// A screenshot 1280 px wide; checks it is a real PNG of that width with something on it.
pub fn screenshot(bin: &str, page: &Path, png: &Path, height: u32) {
    screenshot_at(bin, &format!("file://{}", page.display()), png, height)
}

pub fn screenshot_at(bin: &str, url: &str, png: &Path, height: u32) {
    let _ = std::fs::remove_file(png);
    run_chromium_at(
        bin,
        url,
        &[
            &format!("--screenshot={}", png.display()),
            &format!("--window-size=1280,{height}"),
            "--hide-scrollbars",
        ],
    );
    let bytes = std::fs::read(png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    assert_eq!(width, 1280);
    assert!(
        bytes.len() > 30_000,
        "a page with content, not a blank: {} bytes",
        bytes.len()
    );
    eprintln!("screenshot: {}", png.display());
}
