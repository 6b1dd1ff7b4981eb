#![allow(clippy::unwrap_used)]
//! Redshift delivery against a real PostgreSQL server, started for each test in a
//! temporary folder (scripts/test-all.sh installs PostgreSQL).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use rheo_firehose::dest::{copy_object, CopyTarget, DestError};

const USER: &str = "rheo";
const PASSWORD: &str = "rheo-secret";
/// How long `pg_ctl start` may take before the test gives up.
const START_TIMEOUT_SECS: &str = "60";

/// A private PostgreSQL cluster on a free port, stopped and deleted on drop.
struct Postgres {
    pg_ctl: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    port: u16,
    _dir: tempfile::TempDir,
}

fn pg_bin_dir() -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
        .collect();
    dirs.sort();
    dirs.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install postgresql \
             (apt-get install postgresql; scripts/test-all.sh does this)"
        )
    })
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().map(|o| o.stdout.trim_ascii() == b"0").unwrap_or(false)
}

impl Postgres {
    fn start() -> Postgres {
        let bin = pg_bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let sockets = dir.path().join("sockets");
        std::fs::create_dir(&sockets).unwrap();
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, PASSWORD).unwrap();
        // PostgreSQL refuses to run as root: hand the folder to the postgres user.
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown").arg("-R").arg("postgres").arg(dir.path()), "chown");
        }
        let command = |program: &Path| {
            if as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(program);
                c
            } else {
                Command::new(program)
            }
        };
        run(
            command(&bin.join("initdb"))
                .arg("-D")
                .arg(&data)
                .args(["-U", USER, "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"])
                .arg(format!("--pwfile={}", pwfile.display())),
            "initdb",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        run(
            command(&bin.join("pg_ctl"))
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("log"))
                .args(["-w", "-t", START_TIMEOUT_SECS, "-o"])
                .arg(format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", sockets.display()))
                .arg("start"),
            "pg_ctl start",
        );
        Postgres { pg_ctl: bin.join("pg_ctl"), data, as_postgres, port, _dir: dir }
    }

    fn target(&self, table: &str, columns: Option<&str>, copy_options: Option<&str>) -> CopyTarget {
        CopyTarget {
            jdbc_url: format!("jdbc:postgresql://127.0.0.1:{}/postgres", self.port),
            username: USER.into(),
            password: PASSWORD.into(),
            table: table.into(),
            columns: columns.map(str::to_owned),
            copy_options: copy_options.map(str::to_owned),
        }
    }

    async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={} user={USER} password={PASSWORD} dbname=postgres", self.port),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        client
    }

    /// Every row of `table` as text, NULL as `None`, ordered by the first column.
    async fn rows(&self, table: &str) -> Vec<Vec<Option<String>>> {
        let client = self.client().await;
        let query = format!("SELECT * FROM {table} ORDER BY 1");
        let messages = client.simple_query(&query).await.unwrap();
        messages
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(row) => {
                    Some((0..row.len()).map(|i| row.get(i).map(str::to_owned)).collect())
                }
                _ => None,
            })
            .collect()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&self.pg_ctl);
            c
        } else {
            Command::new(&self.pg_ctl)
        };
        let _ = command.arg("-D").arg(&self.data).args(["-m", "immediate", "-w", "stop"]).output();
    }
}

fn run(command: &mut Command, what: &str) {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}

async fn setup(pg: &Postgres, sql: &str) {
    pg.client().await.batch_execute(sql).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_auto_loads_with_null_for_missing_keys() {
    let pg = Postgres::start();
    setup(&pg, "CREATE TABLE events (id integer, name text, amount numeric(10,2), payload jsonb, note text)").await;
    let object = b"{\"ID\":1,\"Name\":\"first\",\"amount\":1.5,\"payload\":{\"k\":[1,2]},\"ignored\":true}\n\
                   {\"id\":2,\"name\":null}{\"id\":3,\"note\":\"x|y\"}\n";
    let loaded = copy_object(&pg.target("events", None, Some("JSON 'auto'")), object).await.unwrap();
    assert_eq!(loaded, 3);
    assert_eq!(
        pg.rows("events").await,
        vec![
            vec![s("1"), s("first"), s("1.50"), s(r#"{"k": [1, 2]}"#), None],
            vec![s("2"), None, None, None, None],
            vec![s("3"), None, None, None, s("x|y")],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_json_with_data_table_columns() {
    let pg = Postgres::start();
    setup(
        &pg,
        "CREATE SCHEMA app; CREATE TABLE app.\"Clicks\" (id serial, page text, at timestamptz, extra text DEFAULT 'd')",
    )
    .await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"{\"page\":\"/a\",\"at\":\"2024-01-02T03:04:05Z\",\"extra\":\"not loaded\"}\n{\"page\":\"/b\"}\n")
        .unwrap();
    let object = gz.finish().unwrap();
    let target = pg.target("app.\"Clicks\"", Some("PAGE, at"), Some("FORMAT AS JSON 'auto' GZIP;"));
    assert_eq!(copy_object(&target, &object).await.unwrap(), 2);
    let client = pg.client().await;
    let rows = client
        .simple_query("SET TIME ZONE 'UTC'; SELECT id, page, at, extra FROM app.\"Clicks\" ORDER BY id")
        .await
        .unwrap();
    let rows: Vec<Vec<Option<String>>> = rows
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => {
                Some((0..4).map(|i| row.get(i).map(str::to_owned)).collect())
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        rows,
        vec![vec![s("1"), s("/a"), s("2024-01-02 03:04:05+00"), s("d")], vec![s("2"), s("/b"), None, s("d")],]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_with_header_and_quotes() {
    let pg = Postgres::start();
    setup(&pg, "CREATE TABLE t (id bigint, label text, flag boolean)").await;
    let object = b"id,label,flag\n1,\"a, b\",true\n2,\"say \"\"hi\"\"\nnext line\",\n3,,f\n";
    let target = pg.target("T", None, Some("CSV IGNOREHEADER 1"));
    assert_eq!(copy_object(&target, object).await.unwrap(), 3);
    assert_eq!(
        pg.rows("t").await,
        vec![
            vec![s("1"), s("a, b"), s("t")],
            vec![s("2"), s("say \"hi\"\nnext line"), None],
            vec![s("3"), None, s("f")],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipe_delimited_text_default_and_explicit() {
    let pg = Postgres::start();
    setup(&pg, "CREATE TABLE t (id int, a text, b text)").await;
    let object = b"1|x\\|y|\\N\n2||z\n";
    assert_eq!(copy_object(&pg.target("t", None, Some("DELIMITER AS '|'")), object).await.unwrap(), 2);
    assert_eq!(copy_object(&pg.target("t", None, None), b"3|default|opts\n").await.unwrap(), 1);
    assert_eq!(copy_object(&pg.target("t", None, Some("delimiter '\\t'")), b"4\ttab\t\\N\n").await.unwrap(), 1);
    assert_eq!(
        pg.rows("t").await,
        vec![
            vec![s("1"), s("x|y"), None],
            vec![s("2"), s(""), s("z")],
            vec![s("3"), s("default"), s("opts")],
            vec![s("4"), s("tab"), None],
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_are_errors_and_load_nothing() {
    let pg = Postgres::start();
    setup(&pg, "CREATE TABLE t (id int, a text)").await;
    let err = copy_object(&pg.target("no_such_table", None, None), b"1|a\n").await.unwrap_err();
    assert!(matches!(&err, DestError::Database(m) if m.contains("no_such_table")), "{err}");

    // A bad value in the last row: the whole object is refused.
    let err = copy_object(&pg.target("t", None, None), b"1|a\nnot-a-number|b\n").await.unwrap_err();
    assert!(matches!(&err, DestError::Database(m) if m.contains("22P02")), "{err}");
    let err = copy_object(&pg.target("t", None, None), b"1|a|extra\n").await.unwrap_err();
    assert!(matches!(err, DestError::Data(_)), "{err}");
    let err = copy_object(&pg.target("t", Some("id,missing"), None), b"1|a\n").await.unwrap_err();
    assert!(matches!(err, DestError::Config(_)), "{err}");
    let err = copy_object(&pg.target("t", None, Some("LZOP")), b"").await.unwrap_err();
    assert!(matches!(err, DestError::CopyOptions(_)), "{err}");
    let mut target = pg.target("t", None, None);
    target.password = "wrong-password".into();
    assert!(matches!(copy_object(&target, b"1|a\n").await.unwrap_err(), DestError::Database(_)));
    assert!(pg.rows("t").await.is_empty());

    // An empty object loads nothing and is not an error.
    assert_eq!(copy_object(&pg.target("t", None, Some("JSON 'auto'")), b"").await.unwrap(), 0);
}
