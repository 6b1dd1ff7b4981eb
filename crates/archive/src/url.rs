//! The `--archive` URL: `s3://BUCKET[/PREFIX]` or `file:///ABS/PATH`.

use std::fmt;
use std::path::PathBuf;

/// Where the archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveUrl {
    /// Objects in an S3 bucket, under an optional key prefix.
    S3 {
        /// The bucket.
        bucket: String,
        /// Key prefix without leading or trailing `/` (empty: the bucket's root).
        prefix: String,
    },
    /// Objects as files under a local (or mounted) folder.
    File {
        /// The folder, absolute.
        path: PathBuf,
    },
}

/// Why an archive URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("archive URL {url:?}: {reason}; expected s3://BUCKET[/PREFIX] or file:///ABSOLUTE/PATH")]
pub struct ArchiveUrlError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

/// S3's bounds on a bucket name's length.
const BUCKET_NAME_BYTES: std::ops::RangeInclusive<usize> = 3..=63;

impl ArchiveUrl {
    /// Parses an archive URL. Only the two forms above are accepted; query strings,
    /// fragments, percent-escapes, `file://` with a host and relative or `..` paths are
    /// refused rather than guessed at.
    pub fn parse(text: &str) -> Result<Self, ArchiveUrlError> {
        let refuse = |reason: &str| Err(ArchiveUrlError { url: text.to_owned(), reason: reason.to_owned() });
        if text.contains(['?', '#', '%', '\0', '\\']) {
            return refuse("query strings, fragments, percent-escapes, backslashes and NUL are not supported");
        }
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if !bucket_name_is_valid(bucket) {
                return refuse(
                    "the bucket name must be 3 to 63 lowercase letters, digits, dots and hyphens, \
                     starting and ending with a letter or digit",
                );
            }
            let prefix = prefix.strip_suffix('/').unwrap_or(prefix);
            if !prefix.is_empty() && prefix.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
                return refuse("the key prefix has an empty, . or .. segment");
            }
            return Ok(ArchiveUrl::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() });
        }
        if let Some(rest) = text.strip_prefix("file://") {
            if !rest.starts_with('/') {
                return refuse("a file URL needs an absolute path and no host (file:///PATH)");
            }
            let trimmed = rest.trim_end_matches('/');
            if trimmed.is_empty() {
                return refuse("the archive cannot be the filesystem's root");
            }
            if trimmed.split('/').skip(1).any(|part| part.is_empty() || part == "." || part == "..") {
                return refuse("the path has an empty, . or .. component");
            }
            return Ok(ArchiveUrl::File { path: PathBuf::from(trimmed) });
        }
        refuse("unsupported scheme")
    }
}

impl fmt::Display for ArchiveUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArchiveUrl::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            ArchiveUrl::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            ArchiveUrl::File { path } => write!(f, "file://{}", path.display()),
        }
    }
}

impl std::str::FromStr for ArchiveUrl {
    type Err = ArchiveUrlError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ArchiveUrl::parse(text)
    }
}

fn bucket_name_is_valid(bucket: &str) -> bool {
    let edges_alnum = [bucket.bytes().next(), bucket.bytes().last()]
        .iter()
        .all(|b| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    BUCKET_NAME_BYTES.contains(&bucket.len())
        && edges_alnum
        && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_two_forms_parse() {
        assert_eq!(
            ArchiveUrl::parse("s3://my-bucket").unwrap(),
            ArchiveUrl::S3 { bucket: "my-bucket".into(), prefix: String::new() }
        );
        assert_eq!(
            ArchiveUrl::parse("s3://my.bucket/a/b/").unwrap(),
            ArchiveUrl::S3 { bucket: "my.bucket".into(), prefix: "a/b".into() }
        );
        assert_eq!(
            ArchiveUrl::parse("file:///var/lib/rheo/").unwrap(),
            ArchiveUrl::File { path: "/var/lib/rheo".into() }
        );
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for bad in [
            "",
            "/var/archive",
            "S3://bucket",
            "gs://bucket",
            "s3://",
            "s3://ab",
            "s3://Bucket",
            "s3://-bucket",
            "s3://bucket/a//b",
            "s3://bucket/../x",
            "s3://bucket/p?versionId=1",
            "file://host/path",
            "file://relative",
            "file:///",
            "file:///a/../b",
            "file:///a%20b",
        ] {
            let error = ArchiveUrl::parse(bad).unwrap_err();
            assert!(error.to_string().contains("expected s3://BUCKET"), "{bad:?}: {error}");
        }
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = ArchiveUrl::parse(&text);
        }

        #[test]
        fn what_parses_prints_back_to_itself(
            bucket in "[a-z0-9][a-z0-9.-]{1,20}[a-z0-9]",
            prefix in proptest::collection::vec("[A-Za-z0-9_=-]{1,6}", 0..4),
            folder in proptest::collection::vec("[A-Za-z0-9_. -]{1,6}", 1..4),
        ) {
            let s3 = ArchiveUrl::S3 { bucket, prefix: prefix.join("/") };
            prop_assert_eq!(ArchiveUrl::parse(&s3.to_string()).unwrap(), s3.clone());
            let folder: Vec<_> = folder.into_iter().filter(|p| p != "." && p != "..").collect();
            prop_assume!(!folder.is_empty());
            let file = ArchiveUrl::File { path: PathBuf::from(format!("/{}", folder.join("/"))) };
            prop_assert_eq!(ArchiveUrl::parse(&file.to_string()).unwrap(), file.clone());
        }
    }
}
