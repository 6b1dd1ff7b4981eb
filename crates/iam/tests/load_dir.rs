//! `IdentityPolicies::load_dir` over real folders.

#![allow(clippy::unwrap_used)]

use std::fs;

use rheo_iam::{IdentityPolicies, LoadError, PolicyError, MAX_POLICY_BYTES};

const READ_ONLY: &str =
    r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "kinesis:Get*", "Resource": "*"}}"#;

#[test]
fn users_roles_and_ignored_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("alice.json"), READ_ONLY).unwrap();
    fs::write(dir.path().join("notes.txt"), "not a policy").unwrap();
    fs::write(dir.path().join("alice.json~"), "{broken").unwrap();
    fs::create_dir(dir.path().join("roles")).unwrap();
    fs::write(dir.path().join("roles").join("firehose-delivery.json"), READ_ONLY).unwrap();
    fs::create_dir(dir.path().join("drafts")).unwrap();
    fs::write(dir.path().join("drafts").join("bob.json"), READ_ONLY).unwrap();

    let policies = IdentityPolicies::load_dir(dir.path()).unwrap();
    assert!(policies.user("alice").is_some());
    assert!(policies.user("bob").is_none(), "subfolders other than roles/ are not read");
    assert!(policies.user("notes").is_none());
    assert!(policies.role("firehose-delivery").is_some());
    assert!(policies.role("alice").is_none());
}

#[test]
fn one_bad_document_fails_the_whole_load() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("alice.json"), READ_ONLY).unwrap();
    fs::write(dir.path().join("bob.json"), r#"{"Statement": {"Effect": "Allow", "Action": "kinesis:*"}}"#).unwrap();
    match IdentityPolicies::load_dir(dir.path()) {
        Err(LoadError::Policy { path, source }) => {
            assert!(path.ends_with("bob.json"), "{path}");
            assert_eq!(source, PolicyError::MissingResources);
            assert_eq!(source.to_string(), "Policy statement must contain resources.");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn identity_policies_must_not_name_a_principal() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("alice.json"),
        r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "kinesis:*", "Resource": "*"}}"#,
    )
    .unwrap();
    let err = IdentityPolicies::load_dir(dir.path()).unwrap_err();
    assert!(err.to_string().ends_with("Policy document should not specify a principal."), "{err}");
}

#[test]
fn oversized_files_are_refused_without_reading_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("big.json"), " ".repeat(MAX_POLICY_BYTES * 4)).unwrap();
    match IdentityPolicies::load_dir(dir.path()) {
        Err(LoadError::Policy { source: PolicyError::TooLarge { limit }, .. }) => assert_eq!(limit, MAX_POLICY_BYTES),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_folder_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = IdentityPolicies::load_dir(&dir.path().join("absent")).unwrap_err();
    assert!(matches!(err, LoadError::Io { .. }), "{err:?}");
}
