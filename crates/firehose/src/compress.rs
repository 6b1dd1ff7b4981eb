//! Object compression, with the formats and file extensions Firehose uses.

use std::io::Write as _;

/// Bytes of uncompressed input per Hadoop-Snappy block (Hadoop's default buffer).
const HADOOP_SNAPPY_BLOCK_BYTES: usize = 256 * 1024;

/// A `CompressionFormat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    Uncompressed,
    Gzip,
    Zip,
    /// The Snappy framing format.
    Snappy,
    /// Hadoop's block format, as Hadoop's `SnappyCodec` reads it.
    HadoopSnappy,
}

impl Compression {
    /// The format an AWS enum string names (case matters: `Snappy` is mixed case).
    pub fn parse(wire: &str) -> Option<Self> {
        match wire {
            "UNCOMPRESSED" => Some(Compression::Uncompressed),
            "GZIP" => Some(Compression::Gzip),
            "ZIP" => Some(Compression::Zip),
            "Snappy" => Some(Compression::Snappy),
            "HADOOP_SNAPPY" => Some(Compression::HadoopSnappy),
            _ => None,
        }
    }

    /// The AWS enum string.
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::Uncompressed => "UNCOMPRESSED",
            Compression::Gzip => "GZIP",
            Compression::Zip => "ZIP",
            Compression::Snappy => "Snappy",
            Compression::HadoopSnappy => "HADOOP_SNAPPY",
        }
    }

    /// The extension of delivered objects, unless `FileExtension` overrides it.
    pub fn extension(self) -> &'static str {
        match self {
            Compression::Uncompressed => "",
            Compression::Gzip => ".gz",
            Compression::Zip => ".zip",
            Compression::Snappy => ".snappy",
            Compression::HadoopSnappy => ".hsnappy",
        }
    }

    /// Compresses a whole object; a ZIP archive holds one entry named `zip_entry_name`.
    pub fn compress(self, data: &[u8], zip_entry_name: &str) -> std::io::Result<Vec<u8>> {
        match self {
            Compression::Uncompressed => Ok(data.to_vec()),
            Compression::Gzip => {
                let mut encoder =
                    flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 4), flate2::Compression::default());
                encoder.write_all(data)?;
                encoder.finish()
            }
            Compression::Zip => {
                let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::with_capacity(data.len() / 4)));
                let options = zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Deflated)
                    .large_file(data.len() as u64 >= u32::MAX as u64);
                writer.start_file(zip_entry_name, options).map_err(std::io::Error::other)?;
                writer.write_all(data)?;
                Ok(writer.finish().map_err(std::io::Error::other)?.into_inner())
            }
            Compression::Snappy => {
                let mut encoder = snap::write::FrameEncoder::new(Vec::with_capacity(data.len() / 2));
                encoder.write_all(data)?;
                encoder.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
            }
            Compression::HadoopSnappy => {
                let mut out = Vec::with_capacity(data.len() / 2);
                let mut encoder = snap::raw::Encoder::new();
                for block in data.chunks(HADOOP_SNAPPY_BLOCK_BYTES) {
                    let compressed = encoder.compress_vec(block).map_err(std::io::Error::other)?;
                    out.extend_from_slice(&(block.len() as u32).to_be_bytes());
                    out.extend_from_slice(&(compressed.len() as u32).to_be_bytes());
                    out.extend_from_slice(&compressed);
                }
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::io::Read as _;

    use super::*;

    fn hadoop_snappy_decode(mut data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while !data.is_empty() {
            let raw_len = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
            let mut produced = 0;
            data = &data[4..];
            while produced < raw_len {
                let len = u32::from_be_bytes(data[0..4].try_into().unwrap()) as usize;
                let block = snap::raw::Decoder::new().decompress_vec(&data[4..4 + len]).unwrap();
                produced += block.len();
                out.extend(block);
                data = &data[4 + len..];
            }
        }
        out
    }

    fn decode(format: Compression, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        match format {
            Compression::Uncompressed => out = data.to_vec(),
            Compression::Gzip => {
                flate2::read::GzDecoder::new(data).read_to_end(&mut out).unwrap();
            }
            Compression::Zip => {
                let mut archive = zip::ZipArchive::new(std::io::Cursor::new(data)).unwrap();
                assert_eq!(archive.len(), 1);
                let mut file = archive.by_index(0).unwrap();
                assert_eq!(file.name(), "entry");
                file.read_to_end(&mut out).unwrap();
            }
            Compression::Snappy => {
                snap::read::FrameDecoder::new(data).read_to_end(&mut out).unwrap();
            }
            Compression::HadoopSnappy => out = hadoop_snappy_decode(data),
        }
        out
    }

    const ALL: [Compression; 5] = [
        Compression::Uncompressed,
        Compression::Gzip,
        Compression::Zip,
        Compression::Snappy,
        Compression::HadoopSnappy,
    ];

    #[test]
    fn every_format_round_trips_and_names_itself() {
        let text: Vec<u8> = (0..700_000u32).flat_map(|i| format!("record {i}\n").into_bytes()).collect();
        for format in ALL {
            assert_eq!(Compression::parse(format.as_str()), Some(format));
            for input in [&b""[..], b"abc", &text] {
                let compressed = format.compress(input, "entry").unwrap();
                assert_eq!(decode(format, &compressed), input, "{format:?}");
            }
        }
        assert_eq!(Compression::parse("SNAPPY"), None);
        assert_eq!(Compression::Gzip.extension(), ".gz");
        assert_eq!(Compression::HadoopSnappy.extension(), ".hsnappy");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_round_trip(data in proptest::collection::vec(proptest::num::u8::ANY, 0..4096)) {
            for format in ALL {
                let compressed = format.compress(&data, "entry").unwrap();
                proptest::prop_assert_eq!(decode(format, &compressed), data.clone());
            }
        }
    }
}
