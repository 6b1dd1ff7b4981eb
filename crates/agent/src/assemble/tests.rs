use super::*;

fn feed_all(a: &mut Assembler, chunks: &[&[u8]], start: Option<&Regex>) -> Vec<Assembled> {
    let mut out = Vec::new();
    let mut offset = 0;
    for chunk in chunks {
        a.feed(offset, chunk, start, &mut out);
        offset += chunk.len() as u64;
    }
    out
}

fn texts(records: &[Assembled]) -> Vec<(String, u64)> {
    records.iter().map(|r| (String::from_utf8_lossy(&r.data).into_owned(), r.end_offset)).collect()
}

#[test]
fn lines_across_chunks_with_end_offsets() {
    let mut a = Assembler::new(0, 100, 0);
    let out = feed_all(&mut a, &[b"ab", b"c\nde", b"f\n", b"gh"], None);
    assert_eq!(texts(&out), vec![("abc\n".into(), 4), ("def\n".into(), 8)]);
    assert!(a.has_pending(), "an unfinished line waits for its newline");
    let mut out = Vec::new();
    a.flush(false, None, &mut out);
    assert!(out.is_empty(), "a quiet file's partial line is not sent");
    a.flush(true, None, &mut out);
    assert_eq!(texts(&out), vec![("gh".into(), 10)], "a gone file's last line is");
}

#[test]
fn header_lines_are_skipped_only_from_the_start() {
    let mut a = Assembler::new(0, 100, 2);
    let out = feed_all(&mut a, &[b"h1\nh2\nx\n"], None);
    assert_eq!(texts(&out), vec![("x\n".into(), 8)]);
    assert_eq!(a.skipped_to, 6);
    let mut resumed = Assembler::new(6, 100, 2);
    let mut out = Vec::new();
    resumed.feed(6, b"y\n", None, &mut out);
    assert_eq!(texts(&out), vec![("y\n".into(), 8)]);
}

#[test]
fn multi_line_records_begin_at_the_start_pattern() {
    let start = Regex::new(r"^\d{4}-").unwrap();
    let mut a = Assembler::new(0, 1000, 0);
    let log = b"2024-01-01 boom\n  at a\n  at b\n2024-01-02 ok\n2024-01-03 late\n  more\n";
    let out = feed_all(&mut a, &[&log[..20], &log[20..]], Some(&start));
    assert_eq!(texts(&out), vec![("2024-01-01 boom\n  at a\n  at b\n".into(), 30), ("2024-01-02 ok\n".into(), 44)]);
    let mut out = Vec::new();
    a.flush(false, Some(&start), &mut out);
    assert_eq!(texts(&out), vec![("2024-01-03 late\n  more\n".into(), log.len() as u64)]);
}

#[test]
fn long_records_are_capped_and_marked() {
    let mut a = Assembler::new(0, 8, 0);
    let out = feed_all(&mut a, &[b"0123456789abcdef", b"ghij\nok\n"], None);
    assert_eq!(out.len(), 2);
    assert!(out[0].truncated && out[0].data.len() <= 9, "memory per line is bounded");
    assert_eq!(out[0].end_offset, 21, "the offset still counts every byte");
    assert_eq!(truncate(out[0].data.clone(), 8, b"~\n"), b"012345~\n");
    assert!(!out[1].truncated);
    assert_eq!(truncate(b"short\n".to_vec(), 8, b"~\n"), b"short\n");
}

proptest::proptest! {
    /// However a file is cut into reads, the same records come out with the same offsets.
    #[test]
    fn chunking_does_not_change_records(lines in proptest::collection::vec("[a-z ]{0,12}", 0..20), cuts in proptest::collection::vec(0usize..200, 0..8)) {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let bytes = text.as_bytes();
        let start = Regex::new("^[a-m]").unwrap();
        let mut whole = Assembler::new(0, 10, 1);
        let mut expected = Vec::new();
        whole.feed(0, bytes, Some(&start), &mut expected);
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(bytes.len())).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort();
        let mut pieces = Assembler::new(0, 10, 1);
        let mut got = Vec::new();
        for w in points.windows(2) {
            pieces.feed(w[0] as u64, &bytes[w[0]..w[1]], Some(&start), &mut got);
        }
        proptest::prop_assert_eq!(got, expected);
    }
}

#[test]
fn an_overflowed_last_line_ends_where_its_bytes_end() {
    // A gone file whose last line (no newline) is longer than the largest record: the
    // record is cut, but the offset past it is the line's real end.
    let mut a = Assembler::new(5, 8, 0);
    let mut out = Vec::new();
    a.feed(5, &[b'x'; 30], None, &mut out);
    a.feed(35, &[b'y'; 20], None, &mut out);
    assert!(out.is_empty());
    a.flush(true, None, &mut out);
    assert_eq!(out.len(), 1);
    assert!(out[0].truncated);
    assert_eq!(out[0].end_offset, 55);
}
