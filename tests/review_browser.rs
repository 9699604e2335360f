//! A review page in a real headless Chromium (issue 18): open it from
//! `file://`, filter the table, expand a row and find its path's nodes and
//! edges (with file:line) in the SVG, mark one row Revoke and one Keep,
//! download the decisions through the page's Blob download, feed the file
//! to `whocan review decisions` and check that the revocation list names the
//! right edge with its file:line. A hostile entity name is shown as text:
//! no element is created and no script runs. The page's screenshot is
//! saved as a PNG.
//!
//! Chromium and chromedriver are Debian's, installed by
//! `.ci/setup-chromium` when missing (the test calls it, as `.ci/run`
//! does); a check that cannot run fails, it never skips.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use serde_json::{Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn whocan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_whocan"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("whocan runs")
}

/// Kills chromedriver (and so its browsers) when the test ends, however.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_driver() -> (Driver, u16) {
    let setup = Command::new("bash")
        .arg(root().join(".ci/setup-chromium"))
        .status()
        .expect(".ci/setup-chromium runs");
    assert!(
        setup.success(),
        ".ci/setup-chromium failed: the browser test cannot run"
    );
    let port = free_port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "chromedriver did not listen"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (driver, port)
}

/// The page of `scope` in `dir`, from the index's links.
fn page_of(dir: &Path, scope_prefix: &str) -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with(scope_prefix)
        })
        .collect();
    assert_eq!(found.len(), 1, "one page named {scope_prefix}*");
    found.pop().unwrap()
}

async fn js(c: &fantoccini::Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("script runs")
}

#[tokio::test(flavor = "current_thread")]
async fn issue_18_review_page_in_headless_chromium() {
    let work = tempfile::tempdir().unwrap();
    let pages = work.path().join("pages");
    let downloads = work.path().join("downloads");
    std::fs::create_dir_all(&downloads).unwrap();
    let hr = "fixtures/review/hr.csv:fixtures/review/hr.toml";
    let okta = "fixtures/review/okta.csv";
    let out = whocan(&[
        "review",
        hr,
        okta,
        "--by",
        "manager",
        "--as-of",
        "2026-01-31",
        "-o",
        pages.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = page_of(&pages, "manager_hr_E2-");

    let (_driver, port) = start_driver();
    let profile = work.path().join("profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.to_str().unwrap(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
            },
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let c = ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    let url = format!("file://{}", page.display());
    c.goto(&url).await.unwrap();
    c.wait()
        .for_element(Locator::Css("body[data-ready=true]"))
        .await
        .unwrap();

    // The hostile name is text: no element from it, no script ran (an
    // alert would be open), and the cell shows it literally.
    assert_eq!(
        js(&c, "return document.querySelectorAll('img').length").await,
        json!(0)
    );
    assert_eq!(
        js(&c, "return document.querySelectorAll('script').length").await,
        json!(2)
    );
    let names = js(
        &c,
        "return [...document.querySelectorAll('td.identity .name')].map(e => e.textContent)",
    )
    .await;
    assert!(
        names
            .as_array()
            .unwrap()
            .contains(&json!("<img src=x onerror=alert(1)>")),
        "{names}"
    );
    let employees = js(
        &c,
        "return [...document.querySelectorAll('td.employee')].map(e => e.textContent)",
    )
    .await;
    assert!(
        employees
            .to_string()
            .contains("Eve <script>alert(2)</script> (hr/E4)"),
        "{employees}"
    );
    assert!(c.get_alert_text().await.is_err(), "no alert is open");

    // Filter: Bob's four rows of the twelve.
    let filter = c.find(Locator::Id("filter")).await.unwrap();
    filter.send_keys("bob").await.unwrap();
    let start = Instant::now();
    while !js(
        &c,
        "return document.getElementById('pager-info').textContent",
    )
    .await
    .as_str()
    .is_some_and(|t| t.starts_with("4 of 12 rows"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the filter did not apply"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        js(
            &c,
            "return document.querySelectorAll('#rows-body tr[data-row]').length"
        )
        .await,
        json!(4)
    );

    // Expand Bob's admin on prod-db: the path Bob → Engineering → Platform →
    // prod-db, each edge's file:line in its <title>, and the `false` edge
    // Engineering → prod-db drawn dashed.
    let row_of = |target: &str, permission: &str| {
        format!(
            "[...document.querySelectorAll('#rows-body tr[data-row]')].find(tr => \
             tr.querySelector('td.target .name').textContent === '{target}' && \
             tr.querySelector('td.permission').textContent === '{permission}')"
        )
    };
    let admin_row = row_of("prod-db", "admin");
    let n = js(&c, &format!("return {admin_row}.dataset.row")).await;
    let n = n.as_str().unwrap().to_string();
    let row_css = format!("#rows-body tr[data-row=\"{n}\"]");
    c.find(Locator::Css(&format!("{row_css} button.expand")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let nodes = js(
        &c,
        "return [...document.querySelectorAll('tr.detail svg g.node')].map(g => g.dataset.label)",
    )
    .await;
    assert_eq!(
        nodes,
        json!([
            "Bob Builder",
            "Engineering",
            "Platform",
            "prod-db",
            "Bob Builder",
            "Engineering",
            "prod-db"
        ])
    );
    let edges = js(
        &c,
        "return [...document.querySelectorAll('tr.detail svg g.edge')].map(g => \
         [g.classList.contains('false'), g.querySelector('title').textContent, \
          getComputedStyle(g.querySelector('line')).strokeDasharray])",
    )
    .await;
    let edges = edges.as_array().unwrap();
    assert_eq!(edges.len(), 5, "{edges:?}");
    assert_eq!(edges[0][1], json!("member at fixtures/review/okta.csv:2"));
    assert_eq!(edges[1][1], json!("member at fixtures/review/okta.csv:8"));
    assert_eq!(edges[2][1], json!("admin at fixtures/review/okta.csv:10"));
    assert_eq!(edges[2][0], json!(false));
    assert_eq!(edges[2][2], json!("none"));
    assert_eq!(edges[4][0], json!(true));
    assert_eq!(
        edges[4][1],
        json!("admin = false (not held) at fixtures/review/okta.csv:9")
    );
    assert_ne!(edges[4][2], json!("none"), "a false edge is dashed");

    // Revoke the admin row (with a comment), keep Bob's Wiki read.
    c.find(Locator::Css(&format!("{row_css} button.decide.revoke")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.find(Locator::Css(&format!("{row_css} input.comment")))
        .await
        .unwrap()
        .send_keys("not a DBA")
        .await
        .unwrap();
    let wiki = js(
        &c,
        &format!("return {}.dataset.row", row_of("Wiki", "read")),
    )
    .await;
    let wiki = wiki.as_str().unwrap().to_string();
    // Keep by keyboard: focus the button, press Enter.
    js(
        &c,
        &format!("document.querySelector('#rows-body tr[data-row=\"{wiki}\"] button.decide.keep').focus()"),
    )
    .await;
    c.active_element()
        .await
        .unwrap()
        .send_keys(&fantoccini::key::Key::Enter.to_string())
        .await
        .unwrap();
    assert_eq!(
        js(&c, "return document.getElementById('progress').textContent").await,
        json!("2 of 12 decided, 1 to revoke")
    );

    let shot = c.screenshot().await.unwrap();
    assert!(shot.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG screenshot");
    let shot_path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("review-page.png");
    std::fs::write(&shot_path, &shot).unwrap();

    // Download through the page's button (a Blob, no server).
    c.find(Locator::Id("download"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let start = Instant::now();
    let saved = loop {
        let done: Vec<PathBuf> = std::fs::read_dir(&downloads)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        if let [one] = done.as_slice() {
            break one.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no download arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    c.close().await.unwrap();
    let csv = std::fs::read_to_string(&saved).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].contains("\"u-bob\",\"okta\",\"r-prod-db\",\"admin\",\"revoke\",\"not a DBA\""),
        "{csv}"
    );

    // Back into whocan: the revocation list names Bob's membership in
    // Engineering, the edge a system owner removes, with its file:line.
    let out = whocan(&[
        "review",
        "decisions",
        hr,
        okta,
        "--as-of",
        "2026-01-31",
        "--decisions",
        saved.to_str().unwrap(),
        "--format",
        "csv",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let revoke = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = revoke.lines().collect();
    assert_eq!(rows.len(), 2, "{revoke}");
    assert!(
        rows[1].starts_with(
            "okta,u-bob,okta,r-prod-db,admin,okta,u-bob,Bob Builder,okta,g-eng,Engineering,member,fixtures/review/okta.csv:2,Ann Lead (manager:hr/E2),not a DBA"
        ),
        "{revoke}"
    );
    assert!(
        stderr.contains("manager:hr/E2  Ann Lead  12      2        10         1     1"),
        "{stderr}"
    );
}
