use super::*;

#[test]
fn a_file_replaced_after_the_look_is_still_read_through_the_handle_that_was_looked_at() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    std::fs::write(&path, b"old line 1\nold line 2\n").unwrap();
    let listed = inspect(&path).unwrap().unwrap();
    // A create rotation between the look and any later use of the path.
    std::fs::rename(&path, dir.path().join("app.log.1")).unwrap();
    std::fs::write(&path, b"new\n").unwrap();

    let file = listed.file.unwrap();
    let metadata = file.metadata().unwrap();
    assert_eq!(FileId { dev: metadata.dev(), ino: metadata.ino() }, listed.id);
    assert_eq!(listed.prefix, b"old line 1\nold line 2\n");
    let mut tail = vec![0; 64];
    let n = read_full_at(&file, &mut tail, 11).unwrap();
    assert_eq!(&tail[..n], b"old line 2\n");
}

#[test]
fn only_regular_files_are_inspected() {
    let dir = tempfile::tempdir().unwrap();
    assert!(inspect(dir.path()).unwrap().is_none());
}
