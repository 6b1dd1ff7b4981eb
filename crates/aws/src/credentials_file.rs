//! The AWS shared-credentials file (`~/.aws/credentials`): INI sections, one per profile,
//! each with `aws_access_key_id`, `aws_secret_access_key` and optionally
//! `aws_session_token`.
//!
//! ```text
//! [producer]
//! aws_access_key_id = AKIAPRODUCER
//! aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
//! ```
//!
//! The server reads it to know its principals (the section name is the principal); clients
//! read it to find their keys. Parsing is strict where a mistake would silently lock
//! someone out or let someone in (a key outside any section, a section or key given twice,
//! one access key in two sections, a section without a key pair) and lenient where the
//! AWS CLI's own files carry more (other keys such as `region` are ignored). No I/O here:
//! the caller reads the file.

use std::fmt;

use crate::sigv4::Credentials;

/// Largest credentials file accepted, so a wrong path (a log, a device) fails cleanly.
pub const CREDENTIALS_FILE_BYTES_MAX: usize = 1 << 20;

/// Most profiles in one file.
pub const CREDENTIALS_PROFILES_MAX: usize = 10_000;

const ACCESS_KEY_ID: &str = "aws_access_key_id";
const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
const SESSION_TOKEN: &str = "aws_session_token";

/// One `[name]` section with its key pair.
#[derive(Clone, PartialEq, Eq)]
pub struct Profile {
    /// The section name.
    pub name: String,
    /// Its access key, secret key and session token.
    pub credentials: Credentials,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile").field("name", &self.name).field("credentials", &self.credentials).finish()
    }
}

/// The profiles of a credentials file, in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CredentialsFile {
    /// Every profile; names and access keys are unique.
    pub profiles: Vec<Profile>,
}

/// Why a credentials file was refused. Lines are numbered from 1; no message carries a
/// secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsFileError {
    /// Over [`CREDENTIALS_FILE_BYTES_MAX`].
    #[error("the credentials file is over {CREDENTIALS_FILE_BYTES_MAX} bytes")]
    TooLarge,
    /// Over [`CREDENTIALS_PROFILES_MAX`] sections.
    #[error("the credentials file has more than {CREDENTIALS_PROFILES_MAX} profiles")]
    TooManyProfiles,
    /// A line that is not a `[section]`, a `key = value`, a comment or blank.
    #[error("line {line}: expected `[profile-name]` or `key = value`")]
    Syntax {
        /// The line.
        line: usize,
    },
    /// A `key = value` before the first section.
    #[error("line {line}: `{key}` is outside any [profile] section")]
    OutsideSection {
        /// The line.
        line: usize,
        /// The key.
        key: String,
    },
    /// `[]` or a name with characters other than letters, digits and `+=,.@_-`.
    #[error("line {line}: invalid profile name {name:?} (letters, digits and +=,.@_- only)")]
    InvalidName {
        /// The line.
        line: usize,
        /// The name as written.
        name: String,
    },
    /// The same section twice.
    #[error("line {line}: profile [{name}] is defined twice")]
    DuplicateProfile {
        /// The line of the second definition.
        line: usize,
        /// The profile.
        name: String,
    },
    /// The same key twice in one section.
    #[error("line {line}: `{key}` is given twice in profile [{profile}]")]
    DuplicateKey {
        /// The line of the second one.
        line: usize,
        /// The profile.
        profile: String,
        /// The key.
        key: String,
    },
    /// `aws_access_key_id`, `aws_secret_access_key` or `aws_session_token` with no value.
    #[error("line {line}: `{key}` of profile [{profile}] is empty")]
    EmptyValue {
        /// The line.
        line: usize,
        /// The profile.
        profile: String,
        /// The key.
        key: String,
    },
    /// A section without `aws_access_key_id` or `aws_secret_access_key`.
    #[error("profile [{profile}] has no `{key}`")]
    Missing {
        /// The profile.
        profile: String,
        /// The key it lacks.
        key: &'static str,
    },
    /// Two sections with one access key: a signature could not name its principal.
    #[error("profiles [{first}] and [{second}] have the same aws_access_key_id")]
    DuplicateAccessKey {
        /// The first profile.
        first: String,
        /// The second.
        second: String,
    },
}

/// A section being read: its name, line and the three keys that matter.
struct Section {
    name: String,
    access_key: Option<String>,
    secret_key: Option<String>,
    session_token: Option<String>,
}

impl Section {
    fn finish(self) -> Result<Profile, CredentialsFileError> {
        let missing = |key| CredentialsFileError::Missing { profile: self.name.clone(), key };
        let access_key = self.access_key.clone().ok_or_else(|| missing(ACCESS_KEY_ID))?;
        let secret_key = self.secret_key.clone().ok_or_else(|| missing(SECRET_ACCESS_KEY))?;
        Ok(Profile {
            name: self.name,
            credentials: Credentials { access_key, secret_key, session_token: self.session_token },
        })
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

impl CredentialsFile {
    /// Parses the text of a credentials file.
    pub fn parse(text: &str) -> Result<CredentialsFile, CredentialsFileError> {
        if text.len() > CREDENTIALS_FILE_BYTES_MAX {
            return Err(CredentialsFileError::TooLarge);
        }
        let mut profiles: Vec<Profile> = Vec::new();
        let mut current: Option<Section> = None;
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or(CredentialsFileError::Syntax { line })?.trim();
                if !valid_name(name) {
                    return Err(CredentialsFileError::InvalidName { line, name: name.to_owned() });
                }
                if let Some(section) = current.take() {
                    profiles.push(section.finish()?);
                }
                if profiles.iter().any(|p| p.name == name) {
                    return Err(CredentialsFileError::DuplicateProfile { line, name: name.to_owned() });
                }
                if profiles.len() >= CREDENTIALS_PROFILES_MAX {
                    return Err(CredentialsFileError::TooManyProfiles);
                }
                current =
                    Some(Section { name: name.to_owned(), access_key: None, secret_key: None, session_token: None });
                continue;
            }
            let (key, value) = trimmed.split_once('=').ok_or(CredentialsFileError::Syntax { line })?;
            let (key, value) = (key.trim(), value.trim());
            let Some(section) = current.as_mut() else {
                return Err(CredentialsFileError::OutsideSection { line, key: key.to_owned() });
            };
            let slot = match key {
                ACCESS_KEY_ID => &mut section.access_key,
                SECRET_ACCESS_KEY => &mut section.secret_key,
                SESSION_TOKEN => &mut section.session_token,
                // The AWS CLI keeps `region`, `output` and the like in the same file.
                _ => continue,
            };
            if value.is_empty() {
                return Err(CredentialsFileError::EmptyValue {
                    line,
                    profile: section.name.clone(),
                    key: key.to_owned(),
                });
            }
            if slot.replace(value.to_owned()).is_some() {
                return Err(CredentialsFileError::DuplicateKey {
                    line,
                    profile: section.name.clone(),
                    key: key.to_owned(),
                });
            }
        }
        if let Some(section) = current.take() {
            profiles.push(section.finish()?);
        }
        for (i, profile) in profiles.iter().enumerate() {
            if let Some(first) =
                profiles[..i].iter().find(|p| p.credentials.access_key == profile.credentials.access_key)
            {
                return Err(CredentialsFileError::DuplicateAccessKey {
                    first: first.name.clone(),
                    second: profile.name.clone(),
                });
            }
        }
        Ok(CredentialsFile { profiles })
    }

    /// The profile called `name`.
    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.iter().find(|p| p.name == name)
    }

    /// The file's text, which [`CredentialsFile::parse`] reads back to the same profiles.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, profile) in self.profiles.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            let Credentials { access_key, secret_key, session_token } = &profile.credentials;
            out.push_str(&format!(
                "[{}]\n{ACCESS_KEY_ID} = {access_key}\n{SECRET_ACCESS_KEY} = {secret_key}\n",
                profile.name
            ));
            if let Some(token) = session_token {
                out.push_str(&format!("{SESSION_TOKEN} = {token}\n"));
            }
        }
        out
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn creds(access_key: &str, secret_key: &str, session_token: Option<&str>) -> Credentials {
        Credentials {
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            session_token: session_token.map(Into::into),
        }
    }

    #[test]
    fn reads_what_the_aws_cli_writes() {
        let text = "# team keys\n[default]\naws_access_key_id = AKIADEFAULT\naws_secret_access_key=s3cr/et+key\n\
                    region = eu-west-1\n\n; temporary\n[ temp ]\n  aws_access_key_id =ASIATEMP  \n\
                    aws_secret_access_key = other\naws_session_token = FwoGZXIvYXdzE==\ns3 =\n    max_concurrent_requests = 20\n";
        let file = CredentialsFile::parse(text).unwrap();
        assert_eq!(file.profiles.len(), 2);
        assert_eq!(file.profile("default").unwrap().credentials, creds("AKIADEFAULT", "s3cr/et+key", None));
        assert_eq!(file.profile("temp").unwrap().credentials, creds("ASIATEMP", "other", Some("FwoGZXIvYXdzE==")));
        assert_eq!(CredentialsFile::parse("").unwrap(), CredentialsFile::default());
    }

    #[test]
    fn refuses_what_would_be_ambiguous() {
        let pair = "aws_access_key_id = A\naws_secret_access_key = S\n";
        let cases: [(String, CredentialsFileError); 9] = [
            (
                "aws_access_key_id = A\n".into(),
                CredentialsFileError::OutsideSection { line: 1, key: ACCESS_KEY_ID.into() },
            ),
            (format!("[a]\n{pair}[a]\n{pair}"), CredentialsFileError::DuplicateProfile { line: 4, name: "a".into() }),
            (
                format!("[a]\n{pair}aws_access_key_id = B\n"),
                CredentialsFileError::DuplicateKey { line: 4, profile: "a".into(), key: ACCESS_KEY_ID.into() },
            ),
            (
                "[a]\naws_access_key_id = A\n".into(),
                CredentialsFileError::Missing { profile: "a".into(), key: SECRET_ACCESS_KEY },
            ),
            (
                "[a]\naws_secret_access_key = S\n".into(),
                CredentialsFileError::Missing { profile: "a".into(), key: ACCESS_KEY_ID },
            ),
            (
                format!("[a]\n{pair}[b]\n{pair}"),
                CredentialsFileError::DuplicateAccessKey { first: "a".into(), second: "b".into() },
            ),
            ("[a\n".into(), CredentialsFileError::Syntax { line: 1 }),
            ("[a b]\n".into(), CredentialsFileError::InvalidName { line: 1, name: "a b".into() }),
            (
                "[a]\naws_secret_access_key =\n".into(),
                CredentialsFileError::EmptyValue { line: 2, profile: "a".into(), key: SECRET_ACCESS_KEY.into() },
            ),
        ];
        for (text, error) in cases {
            assert_eq!(CredentialsFile::parse(&text), Err(error), "{text}");
        }
        assert_eq!(CredentialsFile::parse("[a]\njust words\n"), Err(CredentialsFileError::Syntax { line: 2 }));
        assert_eq!(
            CredentialsFile::parse(&" ".repeat(CREDENTIALS_FILE_BYTES_MAX + 1)),
            Err(CredentialsFileError::TooLarge)
        );
    }

    #[test]
    fn errors_and_debug_never_show_secrets() {
        let file = CredentialsFile::parse(
            "[a]\naws_access_key_id = A\naws_secret_access_key = TOPSECRET\naws_session_token = TOKENVALUE\n",
        )
        .unwrap();
        let shown = format!("{file:?}");
        assert!(!shown.contains("TOPSECRET") && !shown.contains("TOKENVALUE"), "{shown}");
        let error =
            CredentialsFile::parse("[a]\naws_secret_access_key = TOPSECRET\naws_secret_access_key = TOPSECRET\n")
                .unwrap_err();
        assert!(!error.to_string().contains("TOPSECRET"));
    }

    fn profile_strategy() -> impl Strategy<Value = Profile> {
        (
            "[A-Za-z0-9+=,.@_-]{1,16}",
            "[A-Z0-9]{4,20}",
            "[A-Za-z0-9/+=]{1,40}",
            proptest::option::of("[A-Za-z0-9/+=]{1,60}"),
        )
            .prop_map(|(name, access_key, secret_key, session_token)| Profile {
                name,
                credentials: Credentials { access_key, secret_key, session_token },
            })
    }

    proptest! {
        #[test]
        fn render_then_parse_is_identity(profiles in proptest::collection::vec(profile_strategy(), 0..8)) {
            let mut unique: Vec<Profile> = Vec::new();
            for profile in profiles {
                if !unique.iter().any(|p| p.name == profile.name || p.credentials.access_key == profile.credentials.access_key) {
                    unique.push(profile);
                }
            }
            let file = CredentialsFile { profiles: unique };
            prop_assert_eq!(CredentialsFile::parse(&file.render()), Ok(file));
        }

        #[test]
        fn parse_never_panics(text in "(\\PC{0,30}\n){0,12}") {
            if let Ok(file) = CredentialsFile::parse(&text) {
                prop_assert!(file.profiles.len() <= CREDENTIALS_PROFILES_MAX);
            }
        }
    }
}
