//! The listener over real TCP on 127.0.0.1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::tests_hl7::{a01, MemSink, NIST_PID};
use super::*;
use crate::transport::shutdown::{self, Trigger};

async fn start(limits: MllpLimits) -> (SocketAddr, Arc<MemSink>) {
    let (addr, sink, _never) = start_stoppable(limits).await;
    (addr, sink)
}

/// A listener and the trigger that stops it (dropped unfired, it never stops).
async fn start_stoppable(limits: MllpLimits) -> (SocketAddr, Arc<MemSink>, Trigger) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sink = Arc::new(MemSink::default());
    let dyn_sink: Arc<dyn PatientSink> = sink.clone();
    let (trigger, stop) = shutdown::channel();
    tokio::spawn(serve(listener, dyn_sink, limits, stop));
    (addr, sink, trigger)
}

fn frame(msg: &str) -> Vec<u8> {
    let mut out = vec![0x0b];
    out.extend_from_slice(msg.as_bytes());
    out.extend_from_slice(&[0x1c, 0x0d]);
    out
}

/// Reads one framed ACK and returns its text.
async fn read_ack(stream: &mut TcpStream) -> String {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    while !got.ends_with(&[0x1c, 0x0d]) {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(n, 1, "connection closed before a full ACK: {got:?}");
        got.push(byte[0]);
    }
    assert_eq!(got[0], 0x0b);
    String::from_utf8(got[1..got.len() - 2].to_vec()).unwrap()
}

/// Waits until the server closes the connection (EOF or reset).
async fn assert_closed(stream: &mut TcpStream) {
    let mut buf = [0u8; 64];
    let outcome = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
        .await
        .expect("server kept the connection open");
    match outcome {
        Ok(0) | Err(_) => {}
        Ok(n) => panic!("unexpected {n} bytes: {:?}", &buf[..n]),
    }
}

#[tokio::test]
async fn two_messages_on_one_connection() {
    let (addr, sink) = start(MllpLimits::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let second_pid = "4711^^^&2.16.578.1.12.4.1.4.1&ISO";
    let second = a01(second_pid)
        .replace("HL7MSG00001", "HL7MSG00002")
        .replace("ADT^A01", "ADT^A08^ADT_A01")
        .replace('\n', "\r");
    // Both frames in one write: the server must split them itself.
    let mut bytes = frame(&a01(NIST_PID));
    bytes.extend(frame(&second));
    stream.write_all(&bytes).await.unwrap();

    let first_ack = read_ack(&mut stream).await;
    let second_ack = read_ack(&mut stream).await;
    assert!(first_ack.contains("\rMSA|AA|HL7MSG00001"), "{first_ack:?}");
    assert!(
        second_ack.contains("\rMSA|AA|HL7MSG00002"),
        "{second_ack:?}"
    );
    assert!(second_ack.contains("|ACK^A08^ACK|"), "{second_ack:?}");

    let got = sink.patients.lock().unwrap().clone();
    let ids: Vec<&str> = got.iter().map(|p| p.ids[0].as_str()).collect();
    assert_eq!(ids, vec![NIST_PID, second_pid]);
}

#[tokio::test]
async fn garbage_gets_ar_and_the_connection_stays_usable() {
    let (addr, sink) = start(MllpLimits::default()).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(&frame("hello\rworld")).await.unwrap();
    let ack = read_ack(&mut stream).await;
    assert!(ack.contains("\rMSA|AR|"), "{ack:?}");
    stream.write_all(&frame(&a01(NIST_PID))).await.unwrap();
    assert!(read_ack(&mut stream).await.contains("\rMSA|AA|"));
    assert_eq!(sink.patients.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn oversize_message_closes_the_connection() {
    let limits = MllpLimits {
        max_message: 1024,
        ..MllpLimits::default()
    };
    let (addr, sink) = start(limits).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let big = a01(NIST_PID) + &"ZZZ|padding\r".repeat(200);
    // The server may close while we still write: a failed write is fine too.
    let _ = stream.write_all(&frame(&big)).await;
    assert_closed(&mut stream).await;
    assert!(sink.patients.lock().unwrap().is_empty());
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let limits = MllpLimits {
        idle_timeout: Duration::from_millis(200),
        ..MllpLimits::default()
    };
    let (addr, _sink) = start(limits).await;
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"\x0bMSH|^~\\&|half a mess")
        .await
        .unwrap();
    assert_closed(&mut stream).await;
}

#[tokio::test]
async fn connections_over_the_limit_are_refused() {
    let limits = MllpLimits {
        max_connections: 1,
        ..MllpLimits::default()
    };
    let (addr, _sink) = start(limits).await;
    let mut first = TcpStream::connect(addr).await.unwrap();
    first.write_all(&frame(&a01(NIST_PID))).await.unwrap();
    // Once the first ACK is back, the first connection surely holds the only slot.
    read_ack(&mut first).await;
    let mut second = TcpStream::connect(addr).await.unwrap();
    assert_closed(&mut second).await;
    // The slot is freed when the first one leaves.
    drop(first);
    let mut third = None;
    for _ in 0..50 {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(&frame(&a01(NIST_PID))).await.unwrap();
        let mut b = [0u8; 1];
        if let Ok(Ok(1)) = tokio::time::timeout(Duration::from_secs(2), s.read(&mut b)).await {
            third = Some(b[0]);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(third, Some(0x0b));
}

#[tokio::test]
async fn shutdown_answers_a_message_begun_closes_idle_connections_and_refuses_new_ones() {
    let (addr, sink, trigger) = start_stoppable(MllpLimits::default()).await;
    let mut idle = TcpStream::connect(addr).await.unwrap();
    let mut busy = TcpStream::connect(addr).await.unwrap();
    let whole = frame(&a01(NIST_PID));
    let (head, tail) = whole.split_at(whole.len() / 2);
    busy.write_all(head).await.unwrap();
    // Both connections are being served before the shutdown.
    while trigger.busy() < 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    trigger.fire();
    assert_closed(&mut idle).await;
    let refused = async {
        for _ in 0..200 {
            if TcpStream::connect(addr).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    };
    assert!(refused.await, "the listener is closed after the shutdown");
    assert_eq!(
        trigger.busy(),
        1,
        "the half-sent message keeps its connection"
    );
    busy.write_all(tail).await.unwrap();
    let ack = read_ack(&mut busy).await;
    assert!(ack.contains("\rMSA|AA|"), "{ack:?}");
    assert_closed(&mut busy).await;
    assert_eq!(trigger.drained(Duration::from_secs(5)).await, 0);
    assert_eq!(sink.patients.lock().unwrap().len(), 1);
}
