use super::*;

const A: FileId = FileId { dev: 1, ino: 10 };
const B: FileId = FileId { dev: 1, ino: 11 };
const C: FileId = FileId { dev: 1, ino: 12 };

fn tracked(id: FileId, content: &[u8], read: u64) -> TrackedView<'_> {
    let head = &content[..content.len().min(FINGERPRINT_BYTES)];
    TrackedView { id, fingerprint: Fingerprint::of(content), head, read_offset: read }
}

fn sized(id: FileId, content: &[u8], size: u64) -> ListedView<'_> {
    ListedView { id, size, prefix: &content[..content.len().min(FINGERPRINT_BYTES)] }
}

fn listed(id: FileId, content: &[u8]) -> ListedView<'_> {
    ListedView { id, size: content.len() as u64, prefix: &content[..content.len().min(FINGERPRINT_BYTES)] }
}

#[test]
fn an_appended_file_continues_with_a_longer_fingerprint() {
    let d = reconcile(&[tracked(A, b"one\n", 4)], &[listed(A, b"one\ntwo\n")]);
    assert_eq!(d, vec![Decision::Continue { tracked: 0, listed: 0, fingerprint: Fingerprint::of(b"one\ntwo\n") }]);
}

#[test]
fn rename_rotation_keeps_the_lineage_and_adds_the_new_file() {
    // app.log (A) renamed to app.log.1, a new app.log (B) created: A is found by identity.
    let d = reconcile(&[tracked(A, b"old\n", 2)], &[listed(A, b"old\nmore\n"), listed(B, b"new\n")]);
    assert!(matches!(d[0], Decision::Continue { tracked: 0, listed: 0, .. }));
    assert_eq!(d[1], Decision::New { listed: 1 });
    // While the new file is still empty it could as well be a copy about to be written.
    let d = reconcile(&[tracked(A, b"old\n", 2)], &[listed(A, b"old\nmore\n"), listed(B, b"")]);
    assert_eq!(d[0], Decision::Wait { listed: 1 });
    assert!(matches!(d[1], Decision::Continue { tracked: 0, listed: 0, .. }));
}

#[test]
fn copytruncate_continues_in_the_copy_and_restarts_the_original() {
    let old = b"line 1\nline 2\n";
    // The copy (B) has the old content; the original (A) was truncated and written again.
    let d = reconcile(&[tracked(A, old, 7)], &[listed(A, b"new\n"), listed(B, old)]);
    assert_eq!(d, vec![Decision::MovedToCopy { tracked: 0, copy: 1, original: Some(0), original_offset: 0 }]);
}

#[test]
fn a_copy_seen_before_the_truncation_leaves_the_original_past_the_copy() {
    let old = b"line 1\nline 2\n";
    let d = reconcile(&[tracked(A, old, 7)], &[listed(A, old), listed(B, old)]);
    assert_eq!(
        d,
        vec![Decision::MovedToCopy { tracked: 0, copy: 1, original: Some(0), original_offset: old.len() as u64 }]
    );
    // Then the truncation: the original's new lineage is shorter than where it stood.
    let later = reconcile(&[tracked(B, old, 14), tracked(A, old, 14)], &[listed(A, b"x\n"), listed(B, old)]);
    assert!(later.contains(&Decision::Restart { tracked: 1, listed: 0 }));
    assert!(matches!(later[0], Decision::Continue { tracked: 0, listed: 1, .. }));
}

#[test]
fn truncation_in_place_is_a_restart() {
    let d = reconcile(&[tracked(A, b"aaaa\nbbbb\n", 10)], &[listed(A, b"cc\n")]);
    assert_eq!(d, vec![Decision::Restart { tracked: 0, listed: 0 }]);
    // Same size or longer, but other first bytes: replaced in place (or inode reuse).
    let d = reconcile(&[tracked(A, b"aaaa\n", 5)], &[listed(A, b"zzzz\nyyyy\n")]);
    assert_eq!(d, vec![Decision::Restart { tracked: 0, listed: 0 }]);
}

#[test]
fn create_rotation_finishes_the_gone_file_and_follows_the_new_one() {
    let d = reconcile(&[tracked(A, b"old\n", 2)], &[listed(C, b"fresh\n")]);
    assert_eq!(d, vec![Decision::Gone { tracked: 0 }, Decision::New { listed: 0 }]);
}

#[test]
fn an_empty_tracked_file_matches_no_copy() {
    let d = reconcile(&[tracked(A, b"", 0)], &[listed(A, b""), listed(B, b"")]);
    assert!(matches!(d[0], Decision::Continue { tracked: 0, listed: 0, fingerprint: None }));
    assert_eq!(d[1], Decision::New { listed: 1 });
}

#[test]
fn a_copy_still_being_written_waits_until_it_is_complete() {
    // logrotate's copy of a 3000-byte file whose first 2000 bytes were read, seen at
    // every stage of its writing while the original is still whole.
    let content: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let original = listed(A, &content);
    let source = [tracked(A, &content, 2000)];
    for copied in [0usize, 10, 1500, 2500] {
        let d = reconcile(&source, &[original.clone(), listed(B, &content[..copied])]);
        assert!(d.contains(&Decision::Wait { listed: 1 }), "{copied} bytes copied: {d:?}");
        assert!(matches!(d[1], Decision::Continue { tracked: 0, listed: 0, .. }), "{d:?}");
    }
    let d = reconcile(&source, &[original.clone(), listed(B, &content)]);
    assert_eq!(d, vec![Decision::MovedToCopy { tracked: 0, copy: 1, original: Some(0), original_offset: 3000 }]);
}

#[test]
fn a_copy_seen_only_after_the_truncation_continues_the_lineage_even_if_more_was_read() {
    // Lines written between the copy and the truncation were read but are not in the copy.
    let content = b"line 1\nline 2\n";
    let d = reconcile(&[tracked(A, content, 20)], &[listed(A, b"n\n"), sized(B, content, 14)]);
    assert_eq!(d, vec![Decision::MovedToCopy { tracked: 0, copy: 1, original: Some(0), original_offset: 0 }]);
}

#[test]
fn a_file_that_differs_from_every_tracked_one_is_new_at_once() {
    let d = reconcile(&[tracked(A, b"abc\n", 4)], &[listed(A, b"abc\n"), listed(B, b"abd\n")]);
    assert_eq!(d[1], Decision::New { listed: 1 });
    // Only a checksum known (restored): a shorter file cannot be compared, so it waits
    // while the original is whole, and is new once the original is gone.
    let restored = TrackedView { id: A, fingerprint: Fingerprint::of(b"abc\n"), head: &[], read_offset: 4 };
    let d = reconcile(&[restored], &[listed(A, b"abc\n"), listed(B, b"ab")]);
    assert!(d.contains(&Decision::Wait { listed: 1 }), "{d:?}");
    let d = reconcile(&[restored], &[listed(B, b"ab")]);
    assert_eq!(d, vec![Decision::Gone { tracked: 0 }, Decision::New { listed: 0 }]);
    let d = reconcile(&[restored], &[listed(B, b"abd\n")]);
    assert_eq!(d, vec![Decision::Gone { tracked: 0 }, Decision::New { listed: 0 }]);
}

#[test]
fn globs() {
    assert!(glob_matches("*.log", "app.log"));
    assert!(glob_matches("*.log*", "app.log.1"));
    assert!(glob_matches("app-?.log", "app-1.log"));
    assert!(!glob_matches("app-?.log", "app-10.log"));
    assert!(!glob_matches("*.log", "app.log.1"));
    assert!(glob_matches("*", ""));
    assert!(glob_matches("a*b*c", "a-b-b-c"));
    assert!(!glob_matches("a*b*c", "a-b-b-d"));
}

proptest::proptest! {
    /// Every tracked file gets exactly one decision, and every listed file is used at most once.
    #[test]
    fn decisions_cover_everything_once(
        tracked_files in proptest::collection::vec((0u64..6, "[ab]{0,6}", 0u64..8), 0..5),
        listed_files in proptest::collection::vec((0u64..6, "[ab]{0,6}"), 0..5),
    ) {
        let mut seen = std::collections::HashSet::new();
        let listed_files: Vec<_> = listed_files.into_iter().filter(|(ino, _)| seen.insert(*ino)).collect();
        let mut seen = std::collections::HashSet::new();
        let tracked_files: Vec<_> = tracked_files.into_iter().filter(|(ino, _, _)| seen.insert(*ino)).collect();
        let t: Vec<TrackedView> = tracked_files.iter().map(|(ino, c, r)| tracked(FileId { dev: 1, ino: *ino }, c.as_bytes(), *r)).collect();
        let l: Vec<ListedView<'_>> = listed_files.iter().map(|(ino, c)| listed(FileId { dev: 1, ino: *ino }, c.as_bytes())).collect();
        let decisions = reconcile(&t, &l);
        let mut tracked_count = vec![0; t.len()];
        let mut listed_count = vec![0; l.len()];
        for d in &decisions {
            match d {
                Decision::Continue { tracked, listed, .. } | Decision::Restart { tracked, listed } => { tracked_count[*tracked] += 1; listed_count[*listed] += 1; }
                Decision::MovedToCopy { tracked, copy, original, .. } => {
                    tracked_count[*tracked] += 1;
                    listed_count[*copy] += 1;
                    if let Some(o) = original { listed_count[*o] += 1; }
                }
                Decision::New { listed } | Decision::Wait { listed } => listed_count[*listed] += 1,
                Decision::Gone { tracked } => tracked_count[*tracked] += 1,
            }
        }
        proptest::prop_assert!(tracked_count.iter().all(|c| *c == 1), "{decisions:?}");
        proptest::prop_assert!(listed_count.iter().all(|c| *c == 1), "{decisions:?}");
    }
}
