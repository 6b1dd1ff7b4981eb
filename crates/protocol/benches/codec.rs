//! Hot-path codec throughput, in records per second.
//!
//! `decode/put_records`: a PutRecords request of 500 records of 1 KiB (the largest batch
//! a client may send). `encode/get_records`: a GetRecords response of 1000 records of
//! 1 KiB. Both formats, since KCL/KPL speak CBOR and everything else JSON.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rheo_protocol::model::{GetRecordsOutput, PutRecordsInput, PutRecordsRequestEntry, Record};
use rheo_protocol::{
    decode_request, decode_request_shared, encode_request, encode_response, Operation, Request, Response,
    SequenceNumber, Timestamp, WireFormat,
};

const RECORD_BYTES: usize = 1024;
const PUT_RECORDS: usize = 500;
const GET_RECORDS: usize = 1000;

fn payload(seed: usize) -> Bytes {
    Bytes::from((0..RECORD_BYTES).map(|index| (index * 31 + seed * 7) as u8).collect::<Vec<u8>>())
}

fn put_records_request() -> Request {
    Request::PutRecords(PutRecordsInput {
        records: (0..PUT_RECORDS)
            .map(|index| PutRecordsRequestEntry {
                partition_key: Some(format!("partition-key-{index}")),
                explicit_hash_key: None,
                data: payload(index),
            })
            .collect(),
        stream_name: Some("benchmark-stream".into()),
        stream_arn: None,
        stream_id: None,
        dry_run: None,
    })
}

fn get_records_response() -> Response {
    Response::GetRecords(GetRecordsOutput {
        records: (0..GET_RECORDS)
            .map(|index| Record {
                sequence_number: SequenceNumber::from_u128(
                    49_590_338_271_490_256_608_559_692_538_361_571_095 + index as u128,
                ),
                approximate_arrival_timestamp: Some(Timestamp::from_epoch_millis(1_700_000_000_000 + index as i64)),
                data: payload(index),
                partition_key: Some(format!("partition-key-{index}")),
                encryption_type: None,
            })
            .collect(),
        next_shard_iterator: Some("AAAAAAAAAAGrT0mHGKeL7Qh2KOUzgzMDo5VtHWkJUxIUn1q8E3CwmSRw==".into()),
        millis_behind_latest: Some(0),
        child_shards: None,
    })
}

fn decode(criterion: &mut Criterion) {
    let request = put_records_request();
    let mut group = criterion.benchmark_group("decode/put_records_500x1KiB");
    group.throughput(Throughput::Elements(PUT_RECORDS as u64));
    for format in [WireFormat::Json, WireFormat::Cbor] {
        let body = encode_request(&request, format);
        group.bench_function(format!("{format:?}"), |bench| {
            bench.iter(|| decode_request(Operation::PutRecords, format, black_box(&body)))
        });
    }
    let shared = Bytes::from(encode_request(&request, WireFormat::Cbor));
    group.bench_function("Cbor/shared", |bench| {
        bench.iter(|| decode_request_shared(Operation::PutRecords, WireFormat::Cbor, black_box(&shared)))
    });
    group.finish();
}

fn encode(criterion: &mut Criterion) {
    let response = get_records_response();
    let mut group = criterion.benchmark_group("encode/get_records_1000x1KiB");
    group.throughput(Throughput::Elements(GET_RECORDS as u64));
    for format in [WireFormat::Json, WireFormat::Cbor] {
        group.bench_function(format!("{format:?}"), |bench| {
            bench.iter(|| encode_response(black_box(&response), format))
        });
    }
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
