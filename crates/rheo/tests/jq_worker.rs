#![allow(clippy::unwrap_used)]
//! `rheo jq-worker`, the hidden subcommand the server starts to evaluate Firehose jq
//! queries: it greets, answers a request, and sets its resource limits.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use rheo_firehose::jq::codec::{self, Request, Response, FRAME_HEADER_BYTES, RESPONSE_FRAME_BYTES_MAX};

fn receive(out: &mut impl Read) -> Response {
    let mut header = [0u8; FRAME_HEADER_BYTES];
    out.read_exact(&mut header).unwrap();
    let mut body = vec![0u8; codec::body_len(header, RESPONSE_FRAME_BYTES_MAX).unwrap()];
    out.read_exact(&mut body).unwrap();
    codec::decode_response(&body).unwrap()
}

#[test]
fn jq_worker_subcommand_answers_and_limits_itself() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rheo"))
        .arg("jq-worker")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    assert_eq!(receive(&mut stdout), Response::Ready);

    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let address_space = limits.lines().find(|l| l.starts_with("Max address space")).unwrap();
    let expected = rheo_firehose::limits::JQ_WORKER_MEMORY_BYTES.to_string();
    assert_eq!(address_space.split_whitespace().nth(3), Some(expected.as_str()), "{address_space}");

    let request = Request { query: "{k: .id}".to_owned(), records: vec![br#"{"id":"x"}"#.to_vec()] };
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(&codec::encode_request(&request).unwrap()).unwrap();
    assert_eq!(receive(&mut stdout), Response::Compiled(Ok(())));
    let Response::Record(Ok(keys)) = receive(&mut stdout) else { panic!("no keys") };
    assert_eq!(keys["k"], "x");
    drop(stdin);
    assert!(child.wait().unwrap().success(), "the worker exits cleanly at the end of its input");
}
