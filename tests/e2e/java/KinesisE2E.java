// End-to-end test of the rheo binary with the AWS SDK for Java v2 (2.33, jars from the PyPI wheel kclpy-ext).
//
//   java -cp "$JARS/*:classes" KinesisE2E http://127.0.0.1:PORT
//
// * The sync client (Apache, HTTP/1.1) runs the whole suite. The Java SDK speaks CBOR
//   (application/x-amz-cbor-1.1) to Kinesis by default; with -Daws.cborEnabled=false it speaks JSON 1.1.
//   An interceptor checks that every request and response really carries the expected content type.
// * The async client (Netty) with Protocol.HTTP2 speaks h2c with prior knowledge for a few calls.
//
// Every expectation is AWS's documented or recorded behaviour (shared docs: kinesis-api.md §1.4, §2.4, §2.6, §3).
// Prints one line per check group and exits 1 if anything did not match.

import java.math.BigInteger;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.waiters.WaiterOverrideConfiguration;
import software.amazon.awssdk.core.waiters.WaiterResponse;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ChildShard;
import software.amazon.awssdk.services.kinesis.model.DescribeStreamResponse;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.HashKeyRange;
import software.amazon.awssdk.services.kinesis.model.PutRecordResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.PutRecordsResultEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamDescription;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;
import software.amazon.awssdk.services.kinesis.model.Tag;
import software.amazon.awssdk.services.kinesis.waiters.KinesisWaiter;

public final class KinesisE2E {
    static final String ACCOUNT = "000000000000";
    static final String REGION = "us-east-1";
    static final BigInteger MAX_HASH = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
    static final String SEQ_PATTERN = "0|[1-9]\\d{0,128}";
    static final boolean CBOR = !"false".equalsIgnoreCase(System.getProperty("aws.cborEnabled", System.getenv().getOrDefault("CBOR_ENABLED", "true")));
    static final String CONTENT_TYPE = CBOR ? "application/x-amz-cbor-1.1" : "application/x-amz-json-1.1";

    static final List<String> failures = new ArrayList<>();
    static final List<String> wire = new CopyOnWriteArrayList<>();

    // -----------------------------------------------------------------------------------------
    // Checks

    static final class Mismatch extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Mismatch(String message) {
            super(message);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) throw new Mismatch(what);
    }

    static void eq(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) throw new Mismatch(what + ": expected <" + expected + "> but was <" + actual + ">");
    }

    interface Body {
        void run() throws Exception;
    }

    static void section(String name, Body body) {
        long start = System.nanoTime();
        try {
            body.run();
            System.out.printf("ok   %s (%d ms)%n", name, (System.nanoTime() - start) / 1_000_000);
        } catch (Throwable e) {
            String message = e instanceof Mismatch ? e.getMessage() : e.toString();
            failures.add(name + ": " + message);
            System.out.printf("FAIL %s: %s%n", name, message);
            if (!(e instanceof Mismatch)) e.printStackTrace(System.out);
        }
    }

    interface Call {
        Object run() throws Exception;
    }

    /** Runs `call`, which must fail with this AWS error code, HTTP 400 and a message `expected` accepts. */
    static void expectError(String what, String code, Predicate<String> expected, String shown, Call call) {
        section("error: " + what, () -> {
            Throwable thrown = null;
            try {
                Object out = call.run();
                throw new Mismatch("expected " + code + ", got success: " + out);
            } catch (Mismatch m) {
                throw m;
            } catch (Throwable t) {
                thrown = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
            }
            check(thrown instanceof AwsServiceException, "expected an AwsServiceException, got " + thrown);
            AwsServiceException e = (AwsServiceException) thrown;
            eq(code, e.awsErrorDetails().errorCode(), "error code");
            eq(code, e.getClass().getSimpleName(), "exception class");
            eq(400, e.statusCode(), "HTTP status");
            String message = e.awsErrorDetails().errorMessage();
            check(message != null && expected.test(message), "message: expected <" + shown + "> but was <" + message + ">");
        });
    }

    static void expectError(String what, String code, String message, Call call) {
        expectError(what, code, message::equals, message, call);
    }

    // -----------------------------------------------------------------------------------------
    // Helpers

    static BigInteger hashOf(String partitionKey) throws Exception {
        return new BigInteger(1, MessageDigest.getInstance("MD5").digest(partitionKey.getBytes(StandardCharsets.UTF_8)));
    }

    static List<List<String>> initialRanges(int count) {
        BigInteger step = BigInteger.ONE.shiftLeft(128).divide(BigInteger.valueOf(count));
        List<List<String>> ranges = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            BigInteger start = step.multiply(BigInteger.valueOf(i));
            BigInteger end = i == count - 1 ? MAX_HASH : step.multiply(BigInteger.valueOf(i + 1)).subtract(BigInteger.ONE);
            ranges.add(List.of(start.toString(), end.toString()));
        }
        return ranges;
    }

    static List<String> range(HashKeyRange r) {
        return List.of(r.startingHashKey(), r.endingHashKey());
    }

    static boolean isOpen(Shard s) {
        return s.sequenceNumberRange().endingSequenceNumber() == null;
    }

    static String shardFor(List<Shard> shards, BigInteger hash) {
        for (Shard s : shards) {
            if (isOpen(s) && new BigInteger(s.hashKeyRange().startingHashKey()).compareTo(hash) <= 0
                    && hash.compareTo(new BigInteger(s.hashKeyRange().endingHashKey())) <= 0) return s.shardId();
        }
        throw new Mismatch("no open shard covers " + hash);
    }

    /** "sequence|partitionKey|data" */
    static String rec(String seq, String pk, String data) {
        return seq + "|" + pk + "|" + data;
    }

    static List<String> simplify(List<Record> records) {
        return records.stream().map(r -> rec(r.sequenceNumber(), r.partitionKey(), r.data().asUtf8String())).collect(Collectors.toList());
    }

    static final Comparator<String> BY_SEQ = Comparator.comparing(s -> new BigInteger(s.substring(0, s.indexOf('|'))));

    static List<String> sorted(List<String> records) {
        List<String> copy = new ArrayList<>(records);
        copy.sort(BY_SEQ);
        return copy;
    }

    static void arrivalRecent(Record r) {
        Instant ts = r.approximateArrivalTimestamp();
        check(ts != null, "ApproximateArrivalTimestamp present");
        check(Math.abs(Duration.between(ts, Instant.now()).toMillis()) < 60_000,
                "ApproximateArrivalTimestamp " + ts + " within a minute of now (" + Instant.now() + ")");
    }

    static final class ShardRead {
        final List<Record> records = new ArrayList<>();
        boolean closed;
        List<ChildShard> childShards = List.of();
        Long millisBehindLatest;
    }

    static ShardRead readShard(KinesisClient kin, String iterator) {
        ShardRead read = new ShardRead();
        String it = iterator;
        for (int call = 0; call < 200; call++) {
            String current = it;
            GetRecordsResponse out = kin.getRecords(b -> b.shardIterator(current));
            read.records.addAll(out.records());
            read.millisBehindLatest = out.millisBehindLatest();
            if (out.nextShardIterator() == null) {
                read.closed = true;
                read.childShards = out.childShards();
                return read;
            }
            check(!out.hasChildShards() || out.childShards().isEmpty(), "ChildShards only at the end of a closed shard");
            it = out.nextShardIterator();
            if (out.records().isEmpty() && Long.valueOf(0).equals(out.millisBehindLatest())) return read;
        }
        throw new Mismatch("GetRecords never reached the tip of the shard");
    }

    static String iterator(KinesisClient kin, String stream, String shard, ShardIteratorType type, String seq, Instant ts) {
        String it = kin.getShardIterator(GetShardIteratorRequest.builder().streamName(stream).shardId(shard)
                .shardIteratorType(type).startingSequenceNumber(seq).timestamp(ts).build()).shardIterator();
        check(it != null && !it.isEmpty() && it.length() <= 512, "iterator length 1..512");
        return it;
    }

    static void waitActive(KinesisClient kin, String stream) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (System.currentTimeMillis() < deadline) {
            if (kin.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().streamStatus() == StreamStatus.ACTIVE) return;
            Thread.sleep(50);
        }
        throw new Mismatch(stream + " did not become ACTIVE");
    }

    static List<Shard> listShards(KinesisClient kin, String stream) {
        var out = kin.listShards(b -> b.streamName(stream));
        eq(null, out.nextToken(), "ListShards NextToken");
        return out.shards();
    }

    static SdkBytes bytes(String s) {
        return SdkBytes.fromUtf8String(s);
    }

    /** Records the content types of every request and response. */
    static final class WireCheck implements ExecutionInterceptor {
        @Override
        public void afterTransmission(Context.AfterTransmission context, ExecutionAttributes attributes) {
            String target = context.httpRequest().firstMatchingHeader("X-Amz-Target").orElse("?");
            String sent = context.httpRequest().firstMatchingHeader("Content-Type").orElse("(none)");
            String received = context.httpResponse().firstMatchingHeader("Content-Type").orElse("(none)");
            wire.add(target + " sent " + sent + ", received " + received + " (HTTP " + context.httpResponse().statusCode() + ")");
        }
    }

    static void checkWire(String what) {
        List<String> bad = wire.stream().filter(w -> !w.contains("sent " + CONTENT_TYPE + ", received " + CONTENT_TYPE))
                .collect(Collectors.toList());
        int total = wire.size();
        wire.clear();
        section("wire format " + CONTENT_TYPE + " on every " + what + " call (" + total + " calls)", () -> {
            check(total > 0, "no calls recorded");
            check(bad.isEmpty(), bad.size() + " calls did not use " + CONTENT_TYPE + " both ways, e.g. " + bad.subList(0, Math.min(3, bad.size())));
        });
    }

    // -----------------------------------------------------------------------------------------

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: KinesisE2E http://127.0.0.1:PORT");
            System.exit(2);
        }
        URI endpoint = URI.create(args[0]);
        String mode = CBOR ? "cbor" : "json";
        System.out.println("# endpoint " + endpoint + ", protocol " + CONTENT_TYPE);
        var creds = StaticCredentialsProvider.create(AwsBasicCredentials.create("AKIDLOCAL", "local-secret"));

        try (KinesisClient kin = KinesisClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1).credentialsProvider(creds)
                .httpClientBuilder(ApacheHttpClient.builder())
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()).addExecutionInterceptor(new WireCheck()))
                .build()) {
            syncSuite(kin, mode);
        }
        checkWire("sync (Apache, HTTP/1.1)");

        try (KinesisAsyncClient kin = KinesisAsyncClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1).credentialsProvider(creds)
                .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP2).connectionTimeout(Duration.ofSeconds(5)))
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()).addExecutionInterceptor(new WireCheck()))
                .build()) {
            asyncSuite(kin, mode);
        }
        checkWire("async (Netty, HTTP/2 h2c)");

        if (failures.isEmpty()) {
            System.out.println("# all checks passed (" + CONTENT_TYPE + ")");
            System.exit(0);
        }
        System.out.println("# " + failures.size() + " failed (" + CONTENT_TYPE + "):");
        failures.forEach(f -> System.out.println("#   " + f));
        System.exit(1);
    }

    static void syncSuite(KinesisClient kin, String mode) {
        String tag = mode + "-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
        String main = "java-main-" + tag, reshard = "java-reshard-" + tag, missing = "java-missing-" + tag;
        Map<String, List<String>> written = new TreeMap<>();
        List<List<Shard>> mainShards = new ArrayList<>(List.of(List.of()));

        section("ListStreams on a fresh server", () -> {
            var out = kin.listStreams();
            eq(List.of(), out.streamNames(), "StreamNames");
            eq(false, out.hasMoreStreams(), "HasMoreStreams");
            String requestId = out.responseMetadata().requestId();
            check(requestId != null && !requestId.isEmpty() && !"UNKNOWN".equals(requestId), "x-amzn-RequestId header, got " + requestId);
        });

        section("CreateStream, then the StreamExists waiter sees ACTIVE", () -> {
            kin.createStream(b -> b.streamName(main).shardCount(3));
            try (KinesisWaiter waiter = KinesisWaiter.builder().client(kin).overrideConfiguration(WaiterOverrideConfiguration.builder()
                    .backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100))).maxAttempts(300).build()).build()) {
                WaiterResponse<DescribeStreamResponse> waited = waiter.waitUntilStreamExists(b -> b.streamName(main));
                check(waited.matched().response().isPresent(), "waiter matched a response: " + waited.matched());
                eq(StreamStatus.ACTIVE, waited.matched().response().get().streamDescription().streamStatus(), "status");
            }
            kin.createStream(b -> b.streamName(reshard).shardCount(1));
            waitActive(kin, reshard);
        });

        section("DescribeStream, DescribeStreamSummary and ListStreams", () -> {
            StreamDescription d = kin.describeStream(b -> b.streamName(main)).streamDescription();
            eq(main, d.streamName(), "StreamName");
            eq("arn:aws:kinesis:" + REGION + ":" + ACCOUNT + ":stream/" + main, d.streamARN(), "StreamARN");
            eq(StreamStatus.ACTIVE, d.streamStatus(), "StreamStatus");
            eq(false, d.hasMoreShards(), "HasMoreShards");
            eq(24, d.retentionPeriodHours(), "RetentionPeriodHours");
            eq(3, d.shards().size(), "shard count");
            Instant created = d.streamCreationTimestamp();
            check(created != null && Math.abs(Duration.between(created, Instant.now()).toMillis()) < 60_000,
                    "StreamCreationTimestamp " + created + " within a minute of now");
            check(d.streamModeDetails() != null, "StreamModeDetails present");
            eq("PROVISIONED", d.streamModeDetails().streamModeAsString(), "StreamMode");
            eq("NONE", d.encryptionTypeAsString(), "EncryptionType");
            eq(1, d.enhancedMonitoring().size(), "EnhancedMonitoring entries");
            eq(List.of(), d.enhancedMonitoring().get(0).shardLevelMetricsAsStrings(), "ShardLevelMetrics");

            var s = kin.describeStreamSummary(b -> b.streamName(main)).streamDescriptionSummary();
            eq(main, s.streamName(), "summary StreamName");
            eq(d.streamARN(), s.streamARN(), "summary StreamARN");
            eq(3, s.openShardCount(), "OpenShardCount");
            eq(24, s.retentionPeriodHours(), "summary RetentionPeriodHours");
            check(Math.abs(Duration.between(s.streamCreationTimestamp(), Instant.now()).toMillis()) < 60_000, "summary StreamCreationTimestamp recent");

            var list = kin.listStreams();
            eq(List.of(main, reshard).stream().sorted().collect(Collectors.toList()),
                    list.streamNames().stream().sorted().collect(Collectors.toList()), "StreamNames");
        });

        section("ListShards returns AWS's initial hash-key ranges", () -> {
            List<Shard> shards = listShards(kin, main);
            mainShards.set(0, shards);
            eq(List.of("shardId-000000000000", "shardId-000000000001", "shardId-000000000002"),
                    shards.stream().map(Shard::shardId).collect(Collectors.toList()), "shard ids");
            eq(initialRanges(3), shards.stream().map(s -> range(s.hashKeyRange())).collect(Collectors.toList()), "hash key ranges");
            for (Shard s : shards) {
                check(s.sequenceNumberRange().startingSequenceNumber().matches(SEQ_PATTERN), "StartingSequenceNumber");
                check(isOpen(s), s.shardId() + " is open");
                eq(null, s.parentShardId(), "ParentShardId");
            }
        });
        List<Shard> shards = mainShards.get(0);
        if (shards.isEmpty()) {
            failures.add("cannot continue the sync suite without the stream's shards");
            return;
        }

        section("PutRecord routes by the MD5 of the partition key, or by ExplicitHashKey", () -> {
            for (String pk : List.of("alpha", "beta", "gamma", "delta")) {
                String data = "single " + pk;
                PutRecordResponse out = kin.putRecord(b -> b.streamName(main).partitionKey(pk).data(bytes(data)));
                eq(shardFor(shards, hashOf(pk)), out.shardId(), "shard of " + pk);
                check(out.sequenceNumber().matches(SEQ_PATTERN), "SequenceNumber " + out.sequenceNumber());
                written.computeIfAbsent(out.shardId(), k -> new ArrayList<>()).add(rec(out.sequenceNumber(), pk, data));
            }
            String explicit = shards.get(2).hashKeyRange().startingHashKey();
            PutRecordResponse first = kin.putRecord(b -> b.streamName(main).partitionKey("alpha").explicitHashKey(explicit).data(bytes("explicit")));
            eq("shardId-000000000002", first.shardId(), "shard of the explicit hash key");
            written.computeIfAbsent(first.shardId(), k -> new ArrayList<>()).add(rec(first.sequenceNumber(), "alpha", "explicit"));
            PutRecordResponse next = kin.putRecord(b -> b.streamName(main).partitionKey("alpha").explicitHashKey(explicit)
                    .sequenceNumberForOrdering(first.sequenceNumber()).data(bytes("ordered")));
            eq("shardId-000000000002", next.shardId(), "shard of the ordered record");
            check(new BigInteger(next.sequenceNumber()).compareTo(new BigInteger(first.sequenceNumber())) > 0, "sequence numbers grow within a shard");
            written.get(next.shardId()).add(rec(next.sequenceNumber(), "alpha", "ordered"));
        });

        section("PutRecords spreads records over every shard", () -> {
            List<String[]> entries = new ArrayList<>();
            for (int i = 0; i < 90; i++) entries.add(new String[] {"key-" + i, "batch record " + i});
            entries.add(new String[] {"empty-data", ""});
            PutRecordsResponse out = kin.putRecords(b -> b.streamName(main).records(entries.stream()
                    .map(e -> PutRecordsRequestEntry.builder().partitionKey(e[0]).data(bytes(e[1])).build()).collect(Collectors.toList())));
            eq(0, out.failedRecordCount() == null ? 0 : out.failedRecordCount(), "FailedRecordCount");
            eq(entries.size(), out.records().size(), "result entries");
            var seen = new HashSet<String>();
            for (int i = 0; i < entries.size(); i++) {
                PutRecordsResultEntry r = out.records().get(i);
                eq(null, r.errorCode(), "entry " + i + " ErrorCode (" + r.errorMessage() + ")");
                eq(shardFor(shards, hashOf(entries.get(i)[0])), r.shardId(), "shard of entry " + i);
                check(r.sequenceNumber().matches(SEQ_PATTERN), "SequenceNumber");
                check(seen.add(r.sequenceNumber()), "sequence numbers are unique");
                written.computeIfAbsent(r.shardId(), k -> new ArrayList<>()).add(rec(r.sequenceNumber(), entries.get(i)[0], entries.get(i)[1]));
            }
            for (Shard s : shards) check(written.getOrDefault(s.shardId(), List.of()).size() >= 10, s.shardId() + " got records");
        });

        section("GetRecords from TRIM_HORIZON returns every record, in sequence order, per shard", () -> {
            for (Shard s : shards) {
                ShardRead got = readShard(kin, iterator(kin, main, s.shardId(), ShardIteratorType.TRIM_HORIZON, null, null));
                check(!got.closed, s.shardId() + " is open");
                eq(sorted(written.get(s.shardId())), simplify(got.records), "records of " + s.shardId());
                got.records.forEach(KinesisE2E::arrivalRecent);
                eq(0L, got.millisBehindLatest, "MillisBehindLatest at the tip");
            }
            String shard = shards.get(0).shardId();
            String it = iterator(kin, main, shard, ShardIteratorType.TRIM_HORIZON, null, null);
            GetRecordsResponse page = kin.getRecords(b -> b.shardIterator(it).limit(2));
            List<String> expected = sorted(written.get(shard));
            eq(expected.subList(0, 2), simplify(page.records()), "first page with Limit 2");
            check(page.nextShardIterator() != null, "NextShardIterator after a page");
            eq(expected.subList(2, expected.size()), simplify(readShard(kin, page.nextShardIterator()).records), "the rest");
        });

        section("AT_SEQUENCE_NUMBER and AFTER_SEQUENCE_NUMBER", () -> {
            String shard = shards.get(1).shardId();
            List<String> expected = sorted(written.get(shard));
            check(expected.size() >= 5, "enough records on " + shard);
            String pivot = expected.get(3).split("\\|")[0];
            eq(expected.subList(3, expected.size()),
                    simplify(readShard(kin, iterator(kin, main, shard, ShardIteratorType.AT_SEQUENCE_NUMBER, pivot, null)).records), "AT_SEQUENCE_NUMBER");
            eq(expected.subList(4, expected.size()),
                    simplify(readShard(kin, iterator(kin, main, shard, ShardIteratorType.AFTER_SEQUENCE_NUMBER, pivot, null)).records), "AFTER_SEQUENCE_NUMBER");
            String last = expected.get(expected.size() - 1).split("\\|")[0];
            eq(List.of(), simplify(readShard(kin, iterator(kin, main, shard, ShardIteratorType.AFTER_SEQUENCE_NUMBER, last, null)).records),
                    "AFTER_SEQUENCE_NUMBER of the last record");
        });

        section("LATEST sees only records written after the iterator was issued", () -> {
            Shard shard = shards.get(0);
            String it = iterator(kin, main, shard.shardId(), ShardIteratorType.LATEST, null, null);
            GetRecordsResponse empty = kin.getRecords(b -> b.shardIterator(it));
            eq(List.of(), empty.records(), "records at LATEST");
            check(empty.nextShardIterator() != null, "a new iterator even when empty");
            PutRecordResponse put = kin.putRecord(b -> b.streamName(main).partitionKey("latest")
                    .explicitHashKey(shard.hashKeyRange().startingHashKey()).data(bytes("after LATEST")));
            eq(shard.shardId(), put.shardId(), "shard");
            written.get(put.shardId()).add(rec(put.sequenceNumber(), "latest", "after LATEST"));
            for (String start : List.of(it, empty.nextShardIterator())) {
                eq(List.of(rec(put.sequenceNumber(), "latest", "after LATEST")), simplify(readShard(kin, start).records), "records after LATEST");
            }
        });

        section("AT_TIMESTAMP starts at the first record that arrived at or after the timestamp", () -> {
            Shard shard = shards.get(2);
            Thread.sleep(50);
            Instant ts = Instant.ofEpochMilli(System.currentTimeMillis());
            Thread.sleep(50);
            List<String> fresh = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                String pk = "ts-" + i, data = "after timestamp " + i;
                PutRecordResponse out = kin.putRecord(b -> b.streamName(main).partitionKey(pk)
                        .explicitHashKey(shard.hashKeyRange().endingHashKey()).data(bytes(data)));
                eq(shard.shardId(), out.shardId(), "shard");
                written.get(out.shardId()).add(rec(out.sequenceNumber(), pk, data));
                fresh.add(rec(out.sequenceNumber(), pk, data));
            }
            ShardRead got = readShard(kin, iterator(kin, main, shard.shardId(), ShardIteratorType.AT_TIMESTAMP, null, ts));
            eq(fresh, simplify(got.records), "records at or after " + ts);
            for (Record r : got.records) {
                arrivalRecent(r);
                check(!r.approximateArrivalTimestamp().isBefore(ts), "arrival " + r.approximateArrivalTimestamp() + " is not before " + ts);
            }
            Instant anHourAgo = Instant.now().minusSeconds(3600);
            eq(sorted(written.get(shard.shardId())),
                    simplify(readShard(kin, iterator(kin, main, shard.shardId(), ShardIteratorType.AT_TIMESTAMP, null, anHourAgo)).records),
                    "AT_TIMESTAMP before the stream existed = TRIM_HORIZON");
        });

        section("AddTagsToStream, ListTagsForStream, RemoveTagsFromStream", () -> {
            kin.addTagsToStream(b -> b.streamName(main).tags(Map.of("env", "test", "team", "rheo", "empty", "")));
            kin.addTagsToStream(b -> b.streamName(main).tags(Map.of("env", "e2e")));
            var out = kin.listTagsForStream(b -> b.streamName(main));
            eq(false, out.hasMoreTags(), "HasMoreTags");
            eq(Map.of("empty", "", "env", "e2e", "team", "rheo"), tagMap(out.tags()), "tags");
            var page = kin.listTagsForStream(b -> b.streamName(main).limit(1));
            eq(1, page.tags().size(), "tags with Limit 1");
            eq(true, page.hasMoreTags(), "HasMoreTags with Limit 1");
            kin.removeTagsFromStream(b -> b.streamName(main).tagKeys("empty", "no-such-key"));
            eq(Map.of("env", "e2e", "team", "rheo"), tagMap(kin.listTagsForStream(b -> b.streamName(main)).tags()), "tags after removal");
        });

        section("SplitShard then MergeShards; readers go from parents to children", () -> reshardFlow(kin, reshard));

        // Errors: exact AWS codes and messages.
        expectError("DescribeStream on a missing stream", "ResourceNotFoundException",
                "Stream " + missing + " under account " + ACCOUNT + " not found.", () -> kin.describeStream(b -> b.streamName(missing)));
        expectError("PutRecord to a missing stream", "ResourceNotFoundException",
                "Stream " + missing + " under account " + ACCOUNT + " not found.",
                () -> kin.putRecord(b -> b.streamName(missing).partitionKey("a").data(bytes("x"))));
        expectError("CreateStream with a name in use", "ResourceInUseException",
                "Stream " + main + " under account " + ACCOUNT + " already exists.", () -> kin.createStream(b -> b.streamName(main).shardCount(1)));
        expectError("GetShardIterator with a shard id the stream does not have", "ResourceNotFoundException",
                "Shard shardId-000000000099 in stream " + main + " under account " + ACCOUNT + " does not exist",
                () -> kin.getShardIterator(b -> b.streamName(main).shardId("shardId-000000000099").shardIteratorType(ShardIteratorType.TRIM_HORIZON)));
        expectError("GetShardIterator on a missing stream", "ResourceNotFoundException",
                "Shard shardId-000000000000 in stream " + missing + " under account " + ACCOUNT + " does not exist",
                () -> kin.getShardIterator(b -> b.streamName(missing).shardId("shardId-000000000000").shardIteratorType(ShardIteratorType.LATEST)));
        expectError("GetShardIterator AT_SEQUENCE_NUMBER without a sequence number", "InvalidArgumentException",
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
                        + "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber.",
                () -> kin.getShardIterator(b -> b.streamName(main).shardId("shardId-000000000000").shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER)));
        String firstSeq = written.containsKey("shardId-000000000000") ? sorted(written.get("shardId-000000000000")).get(0).split("\\|")[0] : "1";
        expectError("GetShardIterator TRIM_HORIZON with a sequence number", "InvalidArgumentException",
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or "
                        + "(2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber.",
                () -> kin.getShardIterator(b -> b.streamName(main).shardId("shardId-000000000000").shardIteratorType(ShardIteratorType.TRIM_HORIZON)
                        .startingSequenceNumber(firstSeq)));
        Instant future = Instant.ofEpochMilli(System.currentTimeMillis() + 3_600_000);
        String futurePrefix = "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: "
                + future.toEpochMilli() + ", currentTimestampInMillis: ";
        expectError("GetShardIterator AT_TIMESTAMP in the future (timestamp encoding)", "InvalidArgumentException",
                m -> m.startsWith(futurePrefix) && m.substring(futurePrefix.length()).matches("\\d{13}"), futurePrefix + "<13 digits>",
                () -> kin.getShardIterator(b -> b.streamName(main).shardId("shardId-000000000000").shardIteratorType(ShardIteratorType.AT_TIMESTAMP)
                        .timestamp(future)));
        byte[] lookalike = new byte[168];
        new Random(7).nextBytes(lookalike);
        System.arraycopy(new byte[] {0, 0, 0, 0, 0, 0, 0, 1}, 0, lookalike, 0, 8);
        for (String bad : List.of(Base64.getEncoder().encodeToString(lookalike), "not-a-shard-iterator")) {
            expectError("GetRecords with an invalid shard iterator (" + bad.substring(0, 12) + "...)", "InvalidArgumentException",
                    "Invalid ShardIterator.", () -> kin.getRecords(b -> b.shardIterator(bad)));
        }
        String entry = "com\\.amazonaws\\.kinesis\\.v20131202\\.PutRecordsRequestEntry@[0-9a-f]+";
        String tooMany = "1 validation error detected: Value '\\[" + entry + "(, " + entry + "){500}\\]' at 'records' failed to satisfy constraint: "
                + "Member must have length less than or equal to 500";
        expectError("PutRecords with 501 records", "ValidationException", m -> m.matches(tooMany), tooMany,
                () -> kin.putRecords(b -> b.streamName(main).records(IntStream.range(0, 501)
                        .mapToObj(i -> PutRecordsRequestEntry.builder().partitionKey("k" + i).data(bytes("x")).build()).collect(Collectors.toList()))));
        HashKeyRange r1 = shards.get(1).hashKeyRange();
        expectError("SplitShard with a hash key outside the shard", "InvalidArgumentException",
                "NewStartingHashKey 0 used in SplitShard() on shard shardId-000000000001 in stream " + main + " under account " + ACCOUNT
                        + " is not both greater than one plus the shard's StartingHashKey " + r1.startingHashKey()
                        + " and less than the shard's EndingHashKey " + r1.endingHashKey() + ".",
                () -> kin.splitShard(b -> b.streamName(main).shardToSplit("shardId-000000000001").newStartingHashKey("0")));
        expectError("SplitShard on a shard that was already split", "InvalidArgumentException",
                "Shard shardId-000000000000 in stream " + reshard + " under account " + ACCOUNT
                        + " has already been merged or split, and thus is not eligible for merging or splitting.",
                () -> kin.splitShard(b -> b.streamName(reshard).shardToSplit("shardId-000000000000").newStartingHashKey("12345")));
        expectError("MergeShards on shards that are not adjacent", "InvalidArgumentException",
                "Shards shardId-000000000000 and shardId-000000000002 in stream " + main + " under account " + ACCOUNT
                        + " are not an adjacent pair of shards eligible for merging",
                () -> kin.mergeShards(b -> b.streamName(main).shardToMerge("shardId-000000000000").adjacentShardToMerge("shardId-000000000002")));

        section("DeleteStream, then the stream is gone", () -> {
            for (String s : List.of(main, reshard)) kin.deleteStream(b -> b.streamName(s));
            try (KinesisWaiter waiter = KinesisWaiter.builder().client(kin).overrideConfiguration(WaiterOverrideConfiguration.builder()
                    .backoffStrategyV2(BackoffStrategy.fixedDelay(Duration.ofMillis(100))).maxAttempts(300).build()).build()) {
                for (String s : List.of(main, reshard)) {
                    var waited = waiter.waitUntilStreamNotExists(b -> b.streamName(s));
                    check(waited.matched().exception().isPresent(), "StreamNotExists waiter ends with ResourceNotFoundException");
                }
            }
            eq(List.of(), kin.listStreams().streamNames(), "StreamNames after delete");
        });
        expectError("DescribeStreamSummary after DeleteStream", "ResourceNotFoundException",
                "Stream " + main + " under account " + ACCOUNT + " not found.", () -> kin.describeStreamSummary(b -> b.streamName(main)));
    }

    static Map<String, String> tagMap(List<Tag> tags) {
        Map<String, String> map = new TreeMap<>();
        for (Tag t : tags) map.put(t.key(), t.value() == null ? "" : t.value());
        return map;
    }

    static void reshardFlow(KinesisClient kin, String stream) throws Exception {
        String s0 = "shardId-000000000000", s1 = "shardId-000000000001", s2 = "shardId-000000000002", s3 = "shardId-000000000003";
        BigInteger half = BigInteger.ONE.shiftLeft(127);
        Map<String, List<String>> rd = new LinkedHashMap<>();
        interface Put {
            void put(String pk, String data, String explicit, String shard) throws Exception;
        }
        Put put = (pk, data, explicit, shard) -> {
            PutRecordResponse out = kin.putRecord(b -> b.streamName(stream).partitionKey(pk).data(bytes(data)).explicitHashKey(explicit));
            eq(shard, out.shardId(), "shard of " + data);
            rd.computeIfAbsent(shard, k -> new ArrayList<>()).add(rec(out.sequenceNumber(), pk, data));
        };
        for (int i = 0; i < 5; i++) put.put("a-" + i, "before split " + i, null, s0);

        kin.splitShard(b -> b.streamName(stream).shardToSplit(s0).newStartingHashKey(half.toString()));
        waitActive(kin, stream);
        List<Shard> shards = listShards(kin, stream);
        eq(List.of(s0, s1, s2), shards.stream().map(Shard::shardId).collect(Collectors.toList()), "shards after split");
        check(!isOpen(shards.get(0)) && shards.get(0).sequenceNumberRange().endingSequenceNumber().matches(SEQ_PATTERN), "split parent is closed");
        eq(List.of("0", half.subtract(BigInteger.ONE).toString()), range(shards.get(1).hashKeyRange()), "low child range");
        eq(List.of(half.toString(), MAX_HASH.toString()), range(shards.get(2).hashKeyRange()), "high child range");
        for (Shard child : shards.subList(1, 3)) {
            eq(s0, child.parentShardId(), child.shardId() + " ParentShardId");
            eq(null, child.adjacentParentShardId(), child.shardId() + " AdjacentParentShardId");
            check(isOpen(child), child.shardId() + " is open");
        }

        for (int i = 0; i < 3; i++) {
            put.put("lo-" + i, "low child " + i, "1", s1);
            put.put("hi-" + i, "high child " + i, half.add(BigInteger.ONE).toString(), s2);
        }
        put.put("route-me", "routed after split", null, hashOf("route-me").compareTo(half) < 0 ? s1 : s2);

        kin.mergeShards(b -> b.streamName(stream).shardToMerge(s1).adjacentShardToMerge(s2));
        waitActive(kin, stream);
        shards = listShards(kin, stream);
        eq(List.of(s0, s1, s2, s3), shards.stream().map(Shard::shardId).collect(Collectors.toList()), "shards after merge");
        for (Shard closed : shards.subList(0, 3)) check(!isOpen(closed), closed.shardId() + " is closed");
        Shard merged = shards.get(3);
        eq(s1, merged.parentShardId(), "merged ParentShardId");
        eq(s2, merged.adjacentParentShardId(), "merged AdjacentParentShardId");
        eq(List.of("0", MAX_HASH.toString()), range(merged.hashKeyRange()), "merged range");
        check(isOpen(merged), "merged child is open");
        for (int i = 0; i < 3; i++) put.put("m-" + i, "merged " + i, null, s3);
        eq(1, kin.describeStreamSummary(b -> b.streamName(stream)).streamDescriptionSummary().openShardCount(), "OpenShardCount");

        ShardRead parent = readShard(kin, iterator(kin, stream, s0, ShardIteratorType.TRIM_HORIZON, null, null));
        eq(rd.get(s0), simplify(parent.records), "records of the split parent");
        check(parent.closed, "NextShardIterator absent at the end of the closed parent");
        List<String> children = parent.childShards.stream()
                .map(c -> c.shardId() + " " + c.parentShards() + " " + range(c.hashKeyRange())).sorted().collect(Collectors.toList());
        eq(List.of(s1 + " [" + s0 + "] " + range(shards.get(1).hashKeyRange()), s2 + " [" + s0 + "] " + range(shards.get(2).hashKeyRange())),
                children, "ChildShards of the split parent");
        for (String child : List.of(s1, s2)) {
            ShardRead c = readShard(kin, iterator(kin, stream, child, ShardIteratorType.TRIM_HORIZON, null, null));
            eq(sorted(rd.get(child)), simplify(c.records), "records of " + child);
            check(c.closed, child + " is closed");
            eq(1, c.childShards.size(), "ChildShards of " + child);
            eq(s3, c.childShards.get(0).shardId(), "child of " + child);
            eq(List.of(s1, s2), c.childShards.get(0).parentShards().stream().sorted().collect(Collectors.toList()), "ParentShards of the merged child");
            eq(range(merged.hashKeyRange()), range(c.childShards.get(0).hashKeyRange()), "HashKeyRange of the merged child");
        }
        ShardRead m = readShard(kin, iterator(kin, stream, s3, ShardIteratorType.TRIM_HORIZON, null, null));
        check(!m.closed, "merged child is open");
        eq(rd.get(s3), simplify(m.records), "records of the merged child");
        ShardRead mid = readShard(kin, iterator(kin, stream, s0, ShardIteratorType.AT_SEQUENCE_NUMBER, rd.get(s0).get(2).split("\\|")[0], null));
        eq(rd.get(s0).subList(2, 5), simplify(mid.records), "AT_SEQUENCE_NUMBER inside the closed parent");
        check(mid.closed, "closed at the end");
        eq(2, mid.childShards.size(), "ChildShards after AT_SEQUENCE_NUMBER read");
    }

    // -----------------------------------------------------------------------------------------
    // Async Netty client, HTTP/2 with prior knowledge (h2c)

    static void asyncSuite(KinesisAsyncClient kin, String mode) {
        String stream = "java-h2-" + mode + "-" + ProcessHandle.current().pid() + "-" + System.currentTimeMillis();
        String missing = stream + "-missing";
        Map<String, List<String>> written = new TreeMap<>();
        List<List<Shard>> shardsHolder = new ArrayList<>(List.of(List.of()));

        section("h2c: CreateStream and wait ACTIVE", () -> {
            kin.createStream(b -> b.streamName(stream).shardCount(2)).join();
            long deadline = System.currentTimeMillis() + 30_000;
            while (kin.describeStreamSummary(b -> b.streamName(stream)).join().streamDescriptionSummary().streamStatus() != StreamStatus.ACTIVE) {
                check(System.currentTimeMillis() < deadline, "stream did not become ACTIVE");
                Thread.sleep(50);
            }
            List<Shard> shards = kin.listShards(b -> b.streamName(stream)).join().shards();
            eq(initialRanges(2), shards.stream().map(s -> range(s.hashKeyRange())).collect(Collectors.toList()), "hash key ranges");
            shardsHolder.set(0, shards);
        });
        List<Shard> shards = shardsHolder.get(0);
        if (shards.isEmpty()) {
            failures.add("cannot continue the h2c suite without the stream's shards");
            return;
        }

        Instant before = Instant.ofEpochMilli(System.currentTimeMillis() - 1);
        section("h2c: PutRecord and PutRecords", () -> {
            PutRecordResponse one = kin.putRecord(b -> b.streamName(stream).partitionKey("h2-single").data(bytes("h2 single"))).join();
            eq(shardFor(shards, hashOf("h2-single")), one.shardId(), "shard of h2-single");
            written.computeIfAbsent(one.shardId(), k -> new ArrayList<>()).add(rec(one.sequenceNumber(), "h2-single", "h2 single"));
            List<PutRecordsRequestEntry> entries = IntStream.range(0, 40)
                    .mapToObj(i -> PutRecordsRequestEntry.builder().partitionKey("h2-" + i).data(bytes("h2 batch " + i)).build()).collect(Collectors.toList());
            PutRecordsResponse out = kin.putRecords(b -> b.streamName(stream).records(entries)).join();
            eq(0, out.failedRecordCount() == null ? 0 : out.failedRecordCount(), "FailedRecordCount");
            for (int i = 0; i < entries.size(); i++) {
                PutRecordsResultEntry r = out.records().get(i);
                eq(shardFor(shards, hashOf("h2-" + i)), r.shardId(), "shard of entry " + i);
                written.computeIfAbsent(r.shardId(), k -> new ArrayList<>()).add(rec(r.sequenceNumber(), "h2-" + i, "h2 batch " + i));
            }
        });

        section("h2c: GetShardIterator (TRIM_HORIZON, AT_TIMESTAMP) and GetRecords", () -> {
            for (Shard s : shards) {
                for (ShardIteratorType type : List.of(ShardIteratorType.TRIM_HORIZON, ShardIteratorType.AT_TIMESTAMP)) {
                    String it = kin.getShardIterator(b -> b.streamName(stream).shardId(s.shardId()).shardIteratorType(type)
                            .timestamp(type == ShardIteratorType.AT_TIMESTAMP ? before : null)).join().shardIterator();
                    List<Record> got = new ArrayList<>();
                    for (int call = 0; call < 100 && it != null; call++) {
                        String current = it;
                        GetRecordsResponse out = kin.getRecords(b -> b.shardIterator(current)).join();
                        got.addAll(out.records());
                        it = out.records().isEmpty() && Long.valueOf(0).equals(out.millisBehindLatest()) ? null : out.nextShardIterator();
                    }
                    eq(sorted(written.getOrDefault(s.shardId(), List.of())), simplify(got), type + " records of " + s.shardId());
                    got.forEach(KinesisE2E::arrivalRecent);
                }
            }
        });

        expectError("h2c: DescribeStream on a missing stream", "ResourceNotFoundException",
                "Stream " + missing + " under account " + ACCOUNT + " not found.", () -> kin.describeStream(b -> b.streamName(missing)).join());
        expectError("h2c: GetRecords with an invalid shard iterator", "InvalidArgumentException", "Invalid ShardIterator.",
                () -> kin.getRecords(b -> b.shardIterator("not-a-shard-iterator")).join());

        section("h2c: DeleteStream", () -> {
            kin.deleteStream(b -> b.streamName(stream)).join();
            long deadline = System.currentTimeMillis() + 30_000;
            while (true) {
                try {
                    kin.describeStreamSummary(b -> b.streamName(stream)).join();
                } catch (CompletionException e) {
                    check(e.getCause() instanceof software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException, "gone: " + e.getCause());
                    break;
                }
                check(System.currentTimeMillis() < deadline, "stream was not deleted");
                Thread.sleep(50);
            }
        });
    }
}
