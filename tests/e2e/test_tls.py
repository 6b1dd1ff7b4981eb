"""TLS: with --tls-cert/--tls-key Rheo serves HTTPS and offers both h2 and http/1.1
by ALPN. boto3 (HTTP/1.1) works over it, and curl negotiates each protocol."""

import subprocess

import boto3
from botocore.config import Config

from conftest import Rheo, create_active


def make_certificate(folder):
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def curl_http_version(endpoint, cert, flag):
    result = subprocess.run(
        ["curl", "-sS", "--cacert", str(cert), flag, "-o", "/dev/null", "-w", "%{http_version}", f"{endpoint}/health"],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def test_tls_serves_the_api_and_negotiates_h2_and_http11(tmp_path):
    cert, key = make_certificate(tmp_path)
    server = Rheo(tmp_path / "data", "--tls-cert", str(cert), "--tls-key", str(key)).start()
    try:
        assert server.endpoint.startswith("https://")
        client = boto3.client(
            "kinesis", endpoint_url=server.endpoint, region_name="us-east-1",
            verify=str(cert), config=Config(retries={"max_attempts": 1}),
        )
        create_active(client, "tls-stream")
        put = client.put_record(StreamName="tls-stream", PartitionKey="k", Data=b"over tls")
        iterator = client.get_shard_iterator(
            StreamName="tls-stream", ShardId=put["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        assert [r["Data"] for r in client.get_records(ShardIterator=iterator)["Records"]] == [b"over tls"]

        assert curl_http_version(server.endpoint, cert, "--http2") == "2"
        assert curl_http_version(server.endpoint, cert, "--http1.1") == "1.1"
    finally:
        server.stop()
