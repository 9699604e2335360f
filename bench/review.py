"""Access-review pages at scale (issue 18), for `bench/run --review-only`.

Generates the organisation (`whocan generate`), writes an HRIS file for it
(one employee per identity, linked by email; every 1,000th employee is a
director with no manager, every 100th a team lead under their director,
everyone else under their team lead), then times

  * `whocan report access --by manager --format csv` (the CSV report, the
    memory bound to compare with),
  * `whocan review --by manager -o DIR` (every page and the index),

and opens the largest page in headless Chromium through chromedriver's
WebDriver HTTP API (no client library), reading the milliseconds from
navigation start until the page's script has drawn the table
(`document.body.dataset.readyMs`). The pages' count and sizes come from
`review`'s own summary. Chromium is installed by `.ci/setup-chromium`.
"""

import csv
import json
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

HRIS_TOML = """\
template = "hris"
source = "hr"

[[column]]
header = "Employee ID"
entity = "employee"
attribute = "id"

[[column]]
header = "Name"
entity = "employee"
attribute = "name"

[[column]]
header = "Email"
entity = "employee"
attribute = "email"

[[column]]
header = "Manager"
entity = "employee"
attribute = "managers"
"""

CHROME_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1400,1000",
]


def write_hris(input_csv, out_csv, out_toml):
    """One employee per identity of input_csv (by email), three levels of managers."""
    seen = {}
    with open(input_csv, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows)
        kind, ident, name, email = (header.index(c) for c in (
            "Entity Type", "Entity Source ID", "Entity Name", "Entity Email"))
        for r in rows:
            if r[kind] == "identity" and r[ident] not in seen:
                seen[r[ident]] = (r[name], r[email].strip("<>"))
    with open(out_csv, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["Employee ID", "Name", "Email", "Manager"])
        for i, (_, (nm, mail)) in enumerate(sorted(seen.items())):
            if i % 1000 == 0:
                boss = ""
            elif i % 100 == 0:
                boss = f"E{i // 1000 * 1000:07d}"
            else:
                boss = f"E{i // 100 * 100:07d}"
            w.writerow([f"E{i:07d}", nm, mail, boss])
    with open(out_toml, "w", encoding="utf-8") as f:
        f.write(HRIS_TOML)
    return len(seen)


def webdriver(port, method, path, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=300) as resp:
        return json.loads(resp.read())["value"]


def time_to_interactive(root, page, runs=3):
    """Milliseconds from navigation start to the table drawn, best of runs, in headless Chromium."""
    subprocess.run(["bash", str(root / ".ci" / "setup-chromium")], check=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    profile = tempfile.mkdtemp(prefix="whocan-bench-chromium-")
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [*CHROME_ARGS, f"--user-data-dir={profile}"]}}}}
        session = webdriver(port, "POST", "/session", caps)["sessionId"]
        best = None
        try:
            for _ in range(runs):
                webdriver(port, "POST", f"/session/{session}/url", {"url": "about:blank"})
                webdriver(port, "POST", f"/session/{session}/url", {"url": f"file://{page}"})
                ms = None
                for _ in range(600):
                    ms = webdriver(port, "POST", f"/session/{session}/execute/sync", {
                        "script": "return document.body && document.body.dataset.readyMs || null",
                        "args": []})
                    if ms is not None:
                        break
                    time.sleep(0.1)
                if ms is None:
                    raise RuntimeError(f"{page} never became interactive")
                best = int(ms) if best is None else min(best, int(ms))
        finally:
            webdriver(port, "DELETE", f"/session/{session}")
        return best
    finally:
        driver.kill()
        driver.wait()
        shutil.rmtree(profile, ignore_errors=True)


def page_sizes(out_dir):
    sizes = sorted(
        (p.stat().st_size, p.name) for p in out_dir.iterdir()
        if p.suffix == ".html" and p.name != "index.html"
    )
    return sizes


def summary_line(sizes):
    total = sum(s for s, _ in sizes)
    mid = sizes[len(sizes) // 2][0] if sizes else 0
    return (f"{len(sizes):,} pages, {total / 1e6:,.1f} MB in all, median {mid / 1e3:,.0f} kB, "
            f"largest {sizes[-1][0] / 1e6:,.1f} MB ({sizes[-1][1]})" if sizes else "no pages")
