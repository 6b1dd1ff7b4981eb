//! S3 object compression: the `CompressionFormat` values of an S3 destination.
//!
//! A delivered object is compressed as a whole, after buffering (the buffer size hint applies
//! before compression). Each format names the wire enum value AWS uses, the default file
//! extension Firehose gives the object, and the encoding that readers of the object expect.

use std::io::{self, Cursor, Write};

use flate2::write::GzEncoder;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Hadoop's `SnappyCodec` reads through a 256 KiB buffer (`io.compression.codec.snappy.buffersize`
/// default), so a block never holds more uncompressed bytes than that.
const HADOOP_SNAPPY_BLOCK_BYTES: usize = 256 * 1024;

/// Largest uncompressed piece compressed as one chunk of a Hadoop block. Hadoop's
/// `BlockCompressorStream` reserves `buffer / 6 + 32` bytes for snappy's worst-case expansion so
/// that a compressed chunk always fits the decompressor's 256 KiB input buffer; chunks larger than
/// that buffer make Hadoop's decompressor fail, so the same bound applies here.
const HADOOP_SNAPPY_CHUNK_INPUT_BYTES: usize = HADOOP_SNAPPY_BLOCK_BYTES - (HADOOP_SNAPPY_BLOCK_BYTES / 6 + 32);

/// The `CompressionFormat` of an S3 destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    #[default]
    Uncompressed,
    Gzip,
    /// One archive holding one deflated entry.
    Zip,
    /// The Snappy framing format (stream identifier, CRC-checked chunks).
    Snappy,
    /// Hadoop's block format, as read by Hadoop's `SnappyCodec`.
    HadoopSnappy,
    /// One Zstandard frame. Not a Firehose `CompressionFormat` (so [`Compression::parse`]
    /// does not take it): Kinesis channels' `CompressionType` `ZSTD`.
    Zstd,
}

impl Compression {
    /// Parses the exact AWS enum string; the casing matters (`Snappy` is mixed case on the wire).
    pub fn parse(wire: &str) -> Option<Self> {
        match wire {
            "UNCOMPRESSED" => Some(Self::Uncompressed),
            "GZIP" => Some(Self::Gzip),
            "ZIP" => Some(Self::Zip),
            "Snappy" => Some(Self::Snappy),
            "HADOOP_SNAPPY" => Some(Self::HadoopSnappy),
            _ => None,
        }
    }

    /// The AWS enum string, as DescribeDeliveryStream reports it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uncompressed => "UNCOMPRESSED",
            Self::Gzip => "GZIP",
            Self::Zip => "ZIP",
            Self::Snappy => "Snappy",
            Self::HadoopSnappy => "HADOOP_SNAPPY",
            Self::Zstd => "ZSTD",
        }
    }

    /// The default object-name extension, used when the destination sets no `FileExtension`.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Uncompressed => "",
            Self::Gzip => ".gz",
            Self::Zip => ".zip",
            Self::Snappy => ".snappy",
            Self::HadoopSnappy => ".hsnappy",
            Self::Zstd => ".zst",
        }
    }

    /// Compresses one whole object. `zip_entry_name` names the single archive entry and is
    /// ignored by the other formats.
    pub fn compress(self, data: &[u8], zip_entry_name: &str) -> io::Result<Vec<u8>> {
        self.compress_at(data, zip_entry_name, GZIP_LEVEL_DEFAULT)
    }

    /// [`Compression::compress`] with a GZIP level (0–9; AWS offers no choice, so the
    /// server takes it as a flag): deflate is nearly all of a delivery's CPU.
    pub fn compress_at(self, data: &[u8], zip_entry_name: &str, gzip_level: u32) -> io::Result<Vec<u8>> {
        match self {
            Self::Uncompressed => Ok(data.to_vec()),
            Self::Gzip => gzip(data, flate2::Compression::new(gzip_level.min(GZIP_LEVEL_MAX))),
            Self::Zip => zip_single_entry(data, zip_entry_name),
            Self::Snappy => snappy_framed(data),
            Self::HadoopSnappy => hadoop_snappy(data),
            // ruzstd implements only its fastest level (about zstd's level 1); the others
            // are not implemented in 0.9.
            Self::Zstd => Ok(ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)),
        }
    }
}

/// Below this size one thread compresses the whole object.
const GZIP_PARALLEL_MIN_BYTES: usize = 4 * 1024 * 1024;
/// Most threads one object's compression uses.
const GZIP_THREADS_MAX: usize = 8;

/// zlib's default level, the one gzip(1) and most log shippers use.
pub const GZIP_LEVEL_DEFAULT: u32 = 6;
/// The highest deflate level.
pub const GZIP_LEVEL_MAX: u32 = 9;

fn gzip_member(data: &[u8], level: flate2::Compression) -> io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 3), level);
    encoder.write_all(data)?;
    encoder.finish()
}

/// Large objects are cut into one piece per core, each compressed as a gzip member on
/// its own thread; a gzip file may hold several members (RFC 1952 §2.2) and every gunzip
/// reads them as one stream, so this costs a few bytes of ratio for a core's worth of speed.
fn gzip(data: &[u8], level: flate2::Compression) -> io::Result<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(GZIP_THREADS_MAX);
    if data.len() < GZIP_PARALLEL_MIN_BYTES || threads < 2 {
        return gzip_member(data, level);
    }
    let piece = data.len().div_ceil(threads);
    let members: Vec<io::Result<Vec<u8>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = data.chunks(piece).map(|chunk| scope.spawn(move || gzip_member(chunk, level))).collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|_| Err(io::Error::other("gzip thread panicked"))))
            .collect()
    });
    let mut out = Vec::new();
    for member in members {
        out.extend_from_slice(&member?);
    }
    Ok(out)
}

fn zip_single_entry(data: &[u8], entry_name: &str) -> io::Result<Vec<u8>> {
    // Entries of 4 GiB or more need the ZIP64 extension; smaller ones stay readable by
    // tools that only know the classic format.
    let needs_zip64 = u32::try_from(data.len()).is_err();
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).large_file(needs_zip64);
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    writer.start_file(entry_name, options).map_err(io::Error::other)?;
    writer.write_all(data)?;
    let archive = writer.finish().map_err(io::Error::other)?;
    Ok(archive.into_inner())
}

fn snappy_framed(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = snap::write::FrameEncoder::new(Vec::new());
    encoder.write_all(data)?;
    encoder.into_inner().map_err(|failed| failed.into_error())
}

/// Hadoop block format: per block, the big-endian uncompressed length, then chunks of
/// big-endian compressed length followed by raw snappy bytes, until the block is covered.
fn hadoop_snappy(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = snap::raw::Encoder::new();
    let mut out = Vec::with_capacity(snap::raw::max_compress_len(data.len()) + data.len() / 1024 + 16);
    for block in data.chunks(HADOOP_SNAPPY_BLOCK_BYTES) {
        out.extend_from_slice(&length_prefix(block.len())?);
        for chunk in block.chunks(HADOOP_SNAPPY_CHUNK_INPUT_BYTES) {
            let compressed = encoder.compress_vec(chunk).map_err(io::Error::other)?;
            out.extend_from_slice(&length_prefix(compressed.len())?);
            out.extend_from_slice(&compressed);
        }
    }
    Ok(out)
}

/// Hadoop reads lengths as Java `int`s; block sizes keep them far below that bound.
fn length_prefix(len: usize) -> io::Result<[u8; 4]> {
    i32::try_from(len)
        .map(|len| len.to_be_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "hadoop-snappy length exceeds a Java int"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::io::Read;

    use proptest::prelude::*;

    use super::*;

    const ALL: [Compression; 5] = [
        Compression::Uncompressed,
        Compression::Gzip,
        Compression::Zip,
        Compression::Snappy,
        Compression::HadoopSnappy,
    ];

    /// Decodes the Hadoop block format independently of the encoder: reads each block's
    /// length, then chunks until that many bytes came out.
    fn hadoop_snappy_decode(mut input: &[u8]) -> Vec<u8> {
        fn take_len(input: &mut &[u8]) -> usize {
            let (head, rest) = input.split_at(4);
            *input = rest;
            usize::try_from(i32::from_be_bytes(head.try_into().unwrap())).unwrap()
        }
        let mut decoder = snap::raw::Decoder::new();
        let mut out = Vec::new();
        while !input.is_empty() {
            let block_len = take_len(&mut input);
            let mut block = Vec::new();
            while block.len() < block_len {
                let chunk_len = take_len(&mut input);
                assert!(chunk_len <= HADOOP_SNAPPY_BLOCK_BYTES, "a chunk must fit Hadoop's decompressor buffer");
                let (chunk, rest) = input.split_at(chunk_len);
                input = rest;
                block.extend(decoder.decompress_vec(chunk).unwrap());
            }
            assert_eq!(block.len(), block_len);
            assert!(block_len <= HADOOP_SNAPPY_BLOCK_BYTES);
            out.extend(block);
        }
        out
    }

    fn decode(format: Compression, encoded: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match format {
            Compression::Uncompressed => out.extend_from_slice(encoded),
            Compression::Gzip => {
                flate2::read::MultiGzDecoder::new(encoded).read_to_end(&mut out).unwrap();
            }
            Compression::Zip => {
                let mut archive = zip::ZipArchive::new(Cursor::new(encoded)).unwrap();
                assert_eq!(archive.len(), 1);
                let mut entry = archive.by_index(0).unwrap();
                assert_eq!(entry.name(), "records");
                assert_eq!(entry.compression(), CompressionMethod::Deflated);
                entry.read_to_end(&mut out).unwrap();
            }
            Compression::Snappy => {
                snap::read::FrameDecoder::new(encoded).read_to_end(&mut out).unwrap();
            }
            Compression::HadoopSnappy => out = hadoop_snappy_decode(encoded),
            Compression::Zstd => {
                ruzstd::decoding::StreamingDecoder::new(encoded).unwrap().read_to_end(&mut out).unwrap();
            }
        }
        out
    }

    /// Repetitive text plus a pseudo-random tail, so both compressible and incompressible
    /// stretches cross block boundaries.
    fn sample(len: usize) -> Vec<u8> {
        let mut state: u32 = 0x9e37_79b9;
        (0..len)
            .map(|i| {
                if i < len / 2 {
                    b"{\"customer_id\":\"1234567890\"}\n"[i % 29]
                } else {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state.to_le_bytes()[0]
                }
            })
            .collect()
    }

    #[test]
    fn wire_names_round_trip_and_are_case_sensitive() {
        for format in ALL {
            assert_eq!(Compression::parse(format.as_str()), Some(format));
        }
        assert_eq!(Compression::parse("SNAPPY"), None);
        assert_eq!(Compression::parse("gzip"), None);
        assert_eq!(Compression::parse(""), None);
        assert_eq!(Compression::default(), Compression::Uncompressed);
    }

    #[test]
    fn extensions() {
        let extensions: Vec<_> = ALL.iter().map(|f| f.extension()).collect();
        assert_eq!(extensions, ["", ".gz", ".zip", ".snappy", ".hsnappy"]);
    }

    #[test]
    fn every_format_round_trips_small_and_multi_block_objects() {
        for len in [1, 1000, HADOOP_SNAPPY_CHUNK_INPUT_BYTES + 1, HADOOP_SNAPPY_BLOCK_BYTES * 2 + 7] {
            let data = sample(len);
            for format in ALL {
                let encoded = format.compress(&data, "records").unwrap();
                assert_eq!(decode(format, &encoded), data, "{format:?} with {len} bytes");
            }
        }
    }

    #[test]
    fn large_gzip_objects_are_compressed_in_parallel_members() {
        let data = sample(GZIP_PARALLEL_MIN_BYTES * 2 + 3);
        let encoded = Compression::Gzip.compress(&data, "records").unwrap();
        assert_eq!(decode(Compression::Gzip, &encoded), data);
        if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 {
            // A second member header follows the first member.
            let mut first = Vec::new();
            let mut single = flate2::read::GzDecoder::new(&encoded[..]);
            single.read_to_end(&mut first).unwrap();
            assert!(first.len() < data.len());
        }
    }

    #[test]
    fn every_format_round_trips_empty_input() {
        for format in ALL {
            let encoded = format.compress(&[], "records").unwrap();
            assert!(decode(format, &encoded).is_empty(), "{format:?}");
        }
        assert!(Compression::HadoopSnappy.compress(&[], "records").unwrap().is_empty());
    }

    #[test]
    fn snappy_is_the_framing_format() {
        let encoded = Compression::Snappy.compress(b"hello", "records").unwrap();
        // The framing format opens with its stream identifier chunk.
        assert_eq!(&encoded[..10], b"\xff\x06\x00\x00sNaPpY");
    }

    #[test]
    fn hadoop_snappy_splits_a_full_block_into_buffer_sized_chunks() {
        let data = sample(HADOOP_SNAPPY_BLOCK_BYTES);
        let encoded = Compression::HadoopSnappy.compress(&data, "records").unwrap();
        assert_eq!(&encoded[..4], &i32::try_from(HADOOP_SNAPPY_BLOCK_BYTES).unwrap().to_be_bytes());
        assert_eq!(hadoop_snappy_decode(&encoded), data);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..4096), which in 0..ALL.len()) {
            let format = ALL[which];
            let encoded = format.compress(&data, "records").unwrap();
            prop_assert_eq!(decode(format, &encoded), data);
        }

        #[test]
        fn zstd_round_trips(data in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let encoded = Compression::Zstd.compress(&data, "records").unwrap();
            prop_assert_eq!(decode(Compression::Zstd, &encoded), data);
        }
    }

    #[test]
    fn zstd_is_one_frame_named_zst_and_no_firehose_format() {
        let data = sample(HADOOP_SNAPPY_BLOCK_BYTES * 2 + 7);
        let encoded = Compression::Zstd.compress(&data, "records").unwrap();
        // Zstandard's frame magic number, little-endian (RFC 8878 §3.1.1).
        assert_eq!(&encoded[..4], &[0x28, 0xb5, 0x2f, 0xfd]);
        assert!(encoded.len() < data.len());
        assert_eq!(decode(Compression::Zstd, &encoded), data);
        assert_eq!((Compression::Zstd.as_str(), Compression::Zstd.extension()), ("ZSTD", ".zst"));
        assert_eq!(Compression::parse("ZSTD"), None, "Firehose's CompressionFormat has no ZSTD");
    }
}
