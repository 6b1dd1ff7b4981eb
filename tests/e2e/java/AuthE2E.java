// SigV4 verification seen through the AWS SDK for Java v2: a `rheo serve --auth sigv4
// --credentials FILE` accepts requests signed with a principal's key and refuses, with AWS's error
// types, a wrong secret, an unknown access key, a signature 16 minutes old or ahead, a body or a
// signed header changed after signing, and temporary credentials sent without their session token.
//
//   java -cp "$jars/*:classes" AuthE2E http://127.0.0.1:PORT CREDENTIALS_FILE
//
// The client signs with the SDK's own AwsV4HttpSigner, wrapped (through the client's
// putAuthScheme) so that a test can pin the signing clock or change the signed request before the
// SDK's HTTP client sends it. The SDK corrects clock skew by itself (it measures the skew from a
// refusal and retries signed with the server's time): the clients here never retry and the
// wrapper's clock overrides the SDK's skew-adjusted one, so each test sees the server's first answer.
// The sections and checks are KinesisE2E's (compiled beside this file).

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.http.ContentStreamProvider;
import software.amazon.awssdk.http.Protocol;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.http.auth.aws.scheme.AwsV4AuthScheme;
import software.amazon.awssdk.http.auth.aws.signer.AwsV4HttpSigner;
import software.amazon.awssdk.http.auth.spi.scheme.AuthScheme;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignRequest;
import software.amazon.awssdk.http.auth.spi.signer.AsyncSignedRequest;
import software.amazon.awssdk.http.auth.spi.signer.HttpSigner;
import software.amazon.awssdk.http.auth.spi.signer.SignRequest;
import software.amazon.awssdk.http.auth.spi.signer.SignedRequest;
import software.amazon.awssdk.identity.spi.AwsCredentialsIdentity;
import software.amazon.awssdk.identity.spi.IdentityProvider;
import software.amazon.awssdk.identity.spi.IdentityProviders;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.kinesis.KinesisAsyncClient;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;

public final class AuthE2E {
    static final String UNKNOWN_KEY = "AKIARHEOE2EUNKNOWN01";
    // AWS's texts (the mismatch text goes on with the canonical request).
    static final String SIGNATURE_MISMATCH = "The request signature we calculated does not match the signature you provided.";
    static final String INVALID_TOKEN = "The security token included in the request is invalid.";
    static final String CONTENT_SHA256_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed.";
    // AWS tolerates 15 minutes of clock skew; one more is outside it either way.
    static final Duration SKEW = Duration.ofMinutes(16);

    static URI endpoint;

    /** The sections of an AWS shared-credentials file: name → key → value. */
    static Map<String, Map<String, String>> readCredentials(Path path) throws IOException {
        Map<String, Map<String, String>> sections = new HashMap<>();
        Map<String, String> current = null;
        for (String raw : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#") || line.startsWith(";")) continue;
            if (line.startsWith("[") && line.endsWith("]")) {
                current = sections.computeIfAbsent(line.substring(1, line.length() - 1).strip(), k -> new HashMap<>());
            } else if (current != null && line.contains("=")) {
                int eq = line.indexOf('=');
                current.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        return sections;
    }

    static AwsCredentials credentials(Map<String, String> section) {
        String key = Objects.requireNonNull(section.get("aws_access_key_id"), "aws_access_key_id");
        String secret = Objects.requireNonNull(section.get("aws_secret_access_key"), "aws_secret_access_key");
        String token = section.get("aws_session_token");
        return token == null ? AwsBasicCredentials.create(key, secret) : AwsSessionCredentials.create(key, secret, token);
    }

    /**
     * The SDK's SigV4 signer, optionally with a pinned signing clock and a change made to the
     * request after it was signed (what a man in the middle would do).
     */
    static final class WrappedSigner implements HttpSigner<AwsCredentialsIdentity> {
        final AwsV4HttpSigner signer = AwsV4HttpSigner.create();
        final Clock clock;
        final UnaryOperator<SignedRequest> tamper;

        WrappedSigner(Clock clock, UnaryOperator<SignedRequest> tamper) {
            this.clock = clock;
            this.tamper = tamper;
        }

        @Override
        public SignedRequest sign(SignRequest<? extends AwsCredentialsIdentity> request) {
            return tamper.apply(signWithClock(request));
        }

        private <T extends AwsCredentialsIdentity> SignedRequest signWithClock(SignRequest<T> request) {
            return signer.sign(clock == null ? request : request.copy(b -> b.putProperty(HttpSigner.SIGNING_CLOCK, clock)));
        }

        @Override
        public CompletableFuture<AsyncSignedRequest> signAsync(AsyncSignRequest<? extends AwsCredentialsIdentity> request) {
            throw new UnsupportedOperationException("the auth tests use the synchronous client");
        }
    }

    static final class WrappedScheme implements AuthScheme<AwsCredentialsIdentity> {
        final WrappedSigner signer;

        WrappedScheme(WrappedSigner signer) {
            this.signer = signer;
        }

        @Override
        public String schemeId() {
            return AwsV4AuthScheme.SCHEME_ID;
        }

        @Override
        public IdentityProvider<AwsCredentialsIdentity> identityProvider(IdentityProviders providers) {
            return providers.identityProvider(AwsCredentialsIdentity.class);
        }

        @Override
        public HttpSigner<AwsCredentialsIdentity> signer() {
            return signer;
        }
    }

    static KinesisClient client(AwsCredentials credentials) {
        return client(credentials, null, UnaryOperator.identity());
    }

    static KinesisClient client(AwsCredentials credentials, Clock clock, UnaryOperator<SignedRequest> tamper) {
        return KinesisClient.builder()
                .endpointOverride(endpoint)
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(credentials))
                .httpClientBuilder(ApacheHttpClient.builder())
                .putAuthScheme(new WrappedScheme(new WrappedSigner(clock, tamper)))
                .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()))
                .build();
    }

    /** The refusal of a call: error code, message and HTTP status. */
    static AwsServiceException refusal(Runnable call) {
        try {
            call.run();
        } catch (AwsServiceException e) {
            return e;
        }
        throw new KinesisE2E.Mismatch("the server accepted the request");
    }

    static void refused(AwsServiceException e, String code, String messagePrefix) {
        KinesisE2E.eq(code, e.awsErrorDetails().errorCode(), "error code (" + e.awsErrorDetails().errorMessage() + ")");
        KinesisE2E.eq(400, e.statusCode(), "HTTP status");
        String message = e.awsErrorDetails().errorMessage();
        KinesisE2E.check(message != null && message.startsWith(messagePrefix), "message <" + message + "> does not start with <" + messagePrefix + ">");
    }

    static void createStream(KinesisClient kin, String name) throws InterruptedException {
        kin.createStream(b -> b.streamName(name).shardCount(1));
        for (int i = 0; i < 600; i++) {
            if (kin.describeStreamSummary(b -> b.streamName(name)).streamDescriptionSummary().streamStatus() == StreamStatus.ACTIVE) return;
            Thread.sleep(50);
        }
        throw new KinesisE2E.Mismatch(name + " did not become ACTIVE");
    }

    static List<String> records(KinesisClient kin, String stream) {
        String shard = kin.listShards(b -> b.streamName(stream)).shards().get(0).shardId();
        String iterator = kin.getShardIterator(b -> b.streamName(stream).shardId(shard).shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        return kin.getRecords(b -> b.shardIterator(iterator)).records().stream().map(r -> r.data().asUtf8String()).toList();
    }

    static byte[] readAll(ContentStreamProvider provider) {
        try (InputStream in = provider.newStream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Replaces the first `from` with `to` (the same length: Content-Length still holds). */
    static byte[] replace(byte[] body, byte[] from, byte[] to) {
        KinesisE2E.check(from.length == to.length, "a same-length change");
        for (int i = 0; i + from.length <= body.length; i++) {
            if (Arrays.equals(body, i, i + from.length, from, 0, from.length)) {
                byte[] out = body.clone();
                System.arraycopy(to, 0, out, i, to.length);
                return out;
            }
        }
        return null;
    }

    static String sha256Hex(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** "pay 10" made "pay 99": CBOR carries the record's bytes, JSON its base64. */
    static byte[] payMore(byte[] body) {
        byte[] changed = replace(body, "pay 10".getBytes(StandardCharsets.UTF_8), "pay 99".getBytes(StandardCharsets.UTF_8));
        if (changed == null) changed = replace(body, "cGF5IDEw".getBytes(StandardCharsets.UTF_8), "cGF5IDk5".getBytes(StandardCharsets.UTF_8));
        KinesisE2E.check(changed != null, "the record is not in the body");
        return changed;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: AuthE2E ENDPOINT CREDENTIALS_FILE");
            System.exit(2);
        }
        endpoint = URI.create(args[0]);
        Map<String, Map<String, String>> sections = readCredentials(Path.of(args[1]));
        AwsCredentials alice = credentials(Objects.requireNonNull(sections.get("alice"), "[alice] in " + args[1]));
        AwsSessionCredentials session = (AwsSessionCredentials) credentials(Objects.requireNonNull(sections.get("session"), "[session] in " + args[1]));
        KinesisClient aliceClient = client(alice);

        KinesisE2E.section("the right key puts and reads back", () -> {
            createStream(aliceClient, "signed");
            String shard = aliceClient.putRecord(b -> b.streamName("signed").partitionKey("pk").data(SdkBytes.fromUtf8String("signed by alice"))).shardId();
            KinesisE2E.eq("shardId-000000000000", shard, "ShardId");
            KinesisE2E.eq(List.of("signed by alice"), records(aliceClient, "signed"), "records");
        });

        // Netty's HTTP/2 layer sends the signed Host header as :authority.
        KinesisE2E.section("the right key reads over HTTP/2 (async Netty client, h2c)", () -> {
            try (KinesisAsyncClient kin = KinesisAsyncClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(alice))
                    .httpClientBuilder(NettyNioAsyncHttpClient.builder().protocol(Protocol.HTTP2).connectionTimeout(Duration.ofSeconds(5)))
                    .overrideConfiguration(c -> c.retryStrategy(AwsRetryStrategy.doNotRetry()))
                    .build()) {
                KinesisE2E.check(kin.listStreams().join().streamNames().contains("signed"), "ListStreams over HTTP/2 lists the stream");
            }
        });

        KinesisE2E.section("a wrong secret is an invalid signature", () -> {
            KinesisClient wrong = client(AwsBasicCredentials.create(alice.accessKeyId(), "not-alices-secret"));
            refused(refusal(() -> wrong.listStreams()), "InvalidSignatureException", SIGNATURE_MISMATCH);
        });

        KinesisE2E.section("an unknown access key is an unrecognized client", () -> {
            KinesisClient stranger = client(AwsBasicCredentials.create(UNKNOWN_KEY, alice.secretAccessKey()));
            AwsServiceException e = refusal(() -> stranger.listStreams());
            refused(e, "UnrecognizedClientException", INVALID_TOKEN);
            KinesisE2E.eq(INVALID_TOKEN, e.awsErrorDetails().errorMessage(), "message");
        });

        KinesisE2E.section("a signature 16 minutes old is expired", () -> {
            KinesisClient late = client(alice, Clock.offset(Clock.systemUTC(), SKEW.negated()), UnaryOperator.identity());
            refused(refusal(() -> late.listStreams()), "InvalidSignatureException", "Signature expired: ");
        });

        KinesisE2E.section("a signature 16 minutes ahead is not yet current", () -> {
            KinesisClient early = client(alice, Clock.offset(Clock.systemUTC(), SKEW), UnaryOperator.identity());
            refused(refusal(() -> early.listStreams()), "InvalidSignatureException", "Signature not yet current: ");
        });

        // The SDK sends the body's hash, signed, as x-amz-content-sha256: a changed body no longer
        // matches it (which AWS reports first); with the hash changed too, the signature fails.
        KinesisE2E.section("a body changed after signing is refused", () -> {
            createStream(aliceClient, "tampered-body");
            KinesisClient tampered = client(alice, null, signed -> {
                KinesisE2E.check(signed.request().firstMatchingHeader("x-amz-content-sha256").isPresent(), "the SDK no longer sends x-amz-content-sha256");
                byte[] changed = payMore(readAll(signed.payload().orElseThrow()));
                return signed.copy(b -> b.payload(ContentStreamProvider.fromByteArray(changed)));
            });
            AwsServiceException e = refusal(() -> tampered.putRecord(b -> b.streamName("tampered-body").partitionKey("pk").data(SdkBytes.fromUtf8String("pay 10"))));
            refused(e, "InvalidSignatureException", CONTENT_SHA256_MISMATCH);
            KinesisClient rehashed = client(alice, null, signed -> {
                byte[] changed = payMore(readAll(signed.payload().orElseThrow()));
                SdkHttpRequest request = signed.request().toBuilder().putHeader("x-amz-content-sha256", sha256Hex(changed)).build();
                return signed.copy(b -> b.request(request).payload(ContentStreamProvider.fromByteArray(changed)));
            });
            e = refusal(() -> rehashed.putRecord(b -> b.streamName("tampered-body").partitionKey("pk").data(SdkBytes.fromUtf8String("pay 10"))));
            refused(e, "InvalidSignatureException", SIGNATURE_MISMATCH);
            KinesisE2E.eq(List.of(), records(aliceClient, "tampered-body"), "records after the refusals");
        });

        KinesisE2E.section("a signed header changed after signing is an invalid signature", () -> {
            createStream(aliceClient, "tampered-header");
            // A signed PutRecord turned into a DeleteStream of the same stream.
            KinesisClient tampered = client(alice, null, signed -> {
                String authorization = signed.request().firstMatchingHeader("Authorization").orElseThrow();
                String signedHeaders = authorization.replaceAll(".*SignedHeaders=([^,]+).*", "$1");
                KinesisE2E.check(Arrays.asList(signedHeaders.split(";")).contains("x-amz-target"), "x-amz-target is not signed: " + signedHeaders);
                return signed.copy(b -> b.request(signed.request().toBuilder().putHeader("X-Amz-Target", "Kinesis_20131202.DeleteStream").build()));
            });
            AwsServiceException e = refusal(() -> tampered.putRecord(b -> b.streamName("tampered-header").partitionKey("pk").data(SdkBytes.fromUtf8String("kept"))));
            refused(e, "InvalidSignatureException", SIGNATURE_MISMATCH);
            KinesisE2E.eq(StreamStatus.ACTIVE, aliceClient.describeStreamSummary(b -> b.streamName("tampered-header")).streamDescriptionSummary().streamStatus(), "status");
            KinesisE2E.eq(List.of(), records(aliceClient, "tampered-header"), "records after the refusal");
        });

        KinesisE2E.section("temporary credentials need their session token", () -> {
            client(session).listStreams();
            KinesisClient without = client(AwsBasicCredentials.create(session.accessKeyId(), session.secretAccessKey()));
            AwsServiceException e = refusal(() -> without.listStreams());
            refused(e, "UnrecognizedClientException", INVALID_TOKEN);
            KinesisClient other = client(AwsSessionCredentials.create(session.accessKeyId(), session.secretAccessKey(), "FwoGZXIvYXdzEJrSomebodyElsesToken=="));
            refused(refusal(() -> other.listStreams()), "UnrecognizedClientException", INVALID_TOKEN);
        });

        if (!KinesisE2E.failures.isEmpty()) {
            System.out.println(KinesisE2E.failures.size() + " failed:");
            KinesisE2E.failures.forEach(f -> System.out.println("  " + f));
            System.exit(1);
        }
        System.out.println("all auth sections passed");
    }
}
