use super::*;

fn convert(processor: &Processor, line: &str) -> Value {
    match processor.apply(line.as_bytes().to_vec(), 0) {
        Outcome::Converted(bytes) => {
            assert!(bytes.ends_with(b"}\n"), "JSON records end with a newline");
            serde_json::from_slice(&bytes).unwrap()
        }
        Outcome::Unparsed(_) => panic!("not parsed: {line}"),
    }
}

fn log(format: LogFormat) -> Processor {
    Processor::LogToJson {
        pattern: format.pattern(),
        field_names: format.field_names().iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn every_format_pattern_has_one_group_per_field() {
    for format in [
        LogFormat::CommonApacheLog,
        LogFormat::CombinedApacheLog,
        LogFormat::ApacheErrorLog,
        LogFormat::Syslog,
        LogFormat::Rfc3164Syslog,
        LogFormat::Rfc5424Syslog,
    ] {
        assert_eq!(format.pattern().captures_len() - 1, format.field_names().len(), "{format:?}");
    }
}

#[test]
fn common_and_combined_apache_logs() {
    let line = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#;
    let v = convert(&log(LogFormat::CommonApacheLog), &format!("{line}\n"));
    assert_eq!(v["host"], "127.0.0.1");
    assert_eq!(v["ident"], "-");
    assert_eq!(v["authuser"], "frank");
    assert_eq!(v["datetime"], "10/Oct/2000:13:55:36 -0700");
    assert_eq!(v["request"], "GET /apache_pb.gif HTTP/1.0");
    assert_eq!(v["response"], "200");
    assert_eq!(v["bytes"], "2326");
    let combined = format!(r#"{line} "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#);
    let v = convert(&log(LogFormat::CombinedApacheLog), &combined);
    assert_eq!(v["referrer"], "http://www.example.com/start.html");
    assert_eq!(v["agent"], "Mozilla/4.08 [en] (Win98; I ;Nav)");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 9);
}

#[test]
fn apache_error_log() {
    let line = "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico";
    let v = convert(&log(LogFormat::ApacheErrorLog), line);
    assert_eq!(v["timestamp"], "Fri Sep 09 10:42:29.902022 2011");
    assert_eq!(v["module"], "core");
    assert_eq!(v["severity"], "error");
    assert_eq!(v["processid"], "35708");
    assert_eq!(v["threadid"], "4328636416");
    assert_eq!(v["client"], "72.15.99.187");
    assert_eq!(v["message"], "File does not exist: /usr/local/apache2/htdocs/favicon.ico");
}

#[test]
fn syslog_formats() {
    let line = "Mar 12 12:00:08 server2 rcd[308]: Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 seconds)";
    for format in [LogFormat::Syslog, LogFormat::Rfc3164Syslog] {
        let v = convert(&log(format), line);
        assert_eq!(v["timestamp"], "Mar 12 12:00:08");
        assert_eq!(v["hostname"], "server2");
        assert_eq!(v["program"], "rcd");
        assert_eq!(v["processid"], "308");
        assert_eq!(v["message"], "Loaded 12 packages in 'ximian-red-carpet|351' (0.01878 seconds)");
    }
    let v = convert(&log(LogFormat::Syslog), "Jan  5 01:02:03 host kernel: boot");
    assert_eq!(v.get("processid"), None, "an absent optional group is left out");
    let rfc5424 = r#"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut="3"] 'su root' failed"#;
    let v = convert(&log(LogFormat::Rfc5424Syslog), rfc5424);
    assert_eq!(v["pri"], "34");
    assert_eq!(v["version"], "1");
    assert_eq!(v["timestamp"], "2003-10-11T22:14:15.003Z");
    assert_eq!(v["hostname"], "mymachine.example.com");
    assert_eq!(v["program"], "su");
    assert_eq!(v["processid"], "-");
    assert_eq!(v["msgid"], "ID47");
    assert_eq!(v["structureddata"], r#"[exampleSDID@32473 iut="3"]"#);
    assert_eq!(v["message"], "'su root' failed");
}

#[test]
fn a_line_of_another_shape_is_sent_unchanged() {
    let record = b"not a log line\n".to_vec();
    assert_eq!(log(LogFormat::CommonApacheLog).apply(record.clone(), 0), Outcome::Unparsed(record));
}

#[test]
fn custom_match_pattern_and_names() {
    let p = Processor::LogToJson {
        pattern: Regex::new(r"^(\w+)=(\d+)$").unwrap(),
        field_names: vec!["k".into(), "v".into()],
    };
    let v = convert(&p, "speed=42\n");
    assert_eq!(v, serde_json::json!({"k": "speed", "v": "42"}));
}

#[test]
fn csv_quoting_delimiters_and_missing_fields() {
    assert_eq!(split_csv(r#"a,"b,c","say ""hi""",,e"#, ","), vec!["a", "b,c", r#"say "hi""#, "", "e"]);
    assert_eq!(split_csv("a\tb", "\t"), vec!["a", "b"]);
    assert_eq!(split_csv("a||b", "||"), vec!["a", "b"]);
    let p = Processor::CsvToJson { field_names: vec!["x".into(), "y".into(), "z".into()], delimiter: ",".into() };
    let v = convert(&p, "1,\"two, too\"\n");
    assert_eq!(v, serde_json::json!({"x": "1", "y": "two, too", "z": null}));
    let Outcome::Converted(bytes) = p.apply(b"3,2,1,0\n".to_vec(), 0) else { panic!() };
    assert_eq!(bytes, b"{\"x\":\"3\",\"y\":\"2\",\"z\":\"1\"}\n", "field order is kept; extra values dropped");
}

#[test]
fn single_line_joins_and_trims() {
    let Outcome::Converted(bytes) = Processor::SingleLine.apply(b"  first\n   second  \n\tthird\n".to_vec(), 0) else {
        panic!()
    };
    assert_eq!(bytes, b"firstsecondthird\n");
}

#[test]
fn add_metadata_wraps_text_and_json() {
    let mut metadata = serde_json::Map::new();
    metadata.insert("env".into(), Value::String("prod".into()));
    let p = Processor::AddMetadata { timestamp: true, metadata };
    let Outcome::Converted(bytes) = p.apply(b"plain text\n".to_vec(), 1_700_000_000_123) else { panic!() };
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "{\"metadata\":{\"env\":\"prod\"},\"timestamp\":\"2023-11-14T22:13:20.123Z\",\"data\":\"plain text\"}\n"
    );
    let p = Processor::AddMetadata { timestamp: false, metadata: serde_json::Map::new() };
    let v = convert(&p, "{\"a\":1}\n");
    assert_eq!(v, serde_json::json!({"metadata": {}, "data": {"a": 1}}));
}

#[test]
fn rfc3339_dates() {
    assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
    assert_eq!(rfc3339_millis(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
}

proptest::proptest! {
    #[test]
    fn csv_round_trips_quoted_fields(fields in proptest::collection::vec("[a-z,\" ]{0,8}", 1..6)) {
        let line: Vec<String> = fields.iter().map(|f| format!("\"{}\"", f.replace('"', "\"\""))).collect();
        proptest::prop_assert_eq!(split_csv(&line.join(","), ","), fields);
    }
}
