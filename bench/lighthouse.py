"""Lighthouse and page weight of the steward's pages: the today page and a round page.

Run from the repo root:  .venv/bin/python bench/lighthouse.py [--runs N] [--save DIR] [--verbose]

What it does:
  1. a throwaway instance in a temp dir (bench/_common.py's Instance: SQLite, photo dir,
     SECRET_KEY=bench): `flask setup` migrates and loads the demo estate, then gunicorn (_common's
     Server, 2 sync workers) serves it on a free local port;
  2. signs in as steward1 (_common's Phone, with the demo password), starts a decoration round
     through the API, and hands the `session` cookie to Lighthouse with --extra-headers;
  3. runs lighthouse@13.5.0 (npm, installed into ~/.cache/xuncha-bench/lighthouse if missing, never
     into the repo; CHROME_PATH=/usr/bin/chromium; 12.8.2 fails on Chromium 156 with NO_NAVSTART.
     Lighthouse 13 asks for Node >= 22.19 and runs on Debian's Node 20 too, with npm's warning) with its default mobile settings, categories performance,
     accessibility and best practices, on /rounds/today and /rounds/walk?round=<uuid>;
  4. page weight: the uncompressed bytes of every script and stylesheet the page itself loads
     (Lighthouse's network-requests audit), with a cross-check that fetches the HTML, its
     <script src>/<link rel=stylesheet> and follows the ES module imports; and any request to
     another origin, plus any other-origin URL in the service worker's precache list (Lighthouse
     does not record the worker's own requests).

Targets (product issue): each category >= 0.95 on both pages, JS + CSS <= 120 KB (1 KB = 1024
bytes) uncompressed per page, nothing from another origin. Below-target categories list their
failing audits. Each page is audited --runs times (default 3) and the median score is kept.
The last line printed is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/_common.py

from _common import Instance, Phone, Server, flask_cli, new_uuid  # noqa: E402

LIGHTHOUSE_VERSION = "13.5.0"
LIGHTHOUSE_DIR = Path.home() / ".cache" / "xuncha-bench" / "lighthouse"
CHROME_PATH = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync"
CATEGORIES = {"performance": "performance", "accessibility": "accessibility", "best-practices": "best_practices"}
TARGET_SCORE = 0.95
TARGET_KB = 120
STEWARD, PASSWORD = "steward1", "xuncha-demo"
KB = 1024


# --- the throwaway instance --------------------------------------------------------------

@contextmanager
def demo_app(tmp: Path) -> Iterator[Server]:
    """_common's throwaway instance in `tmp`, `flask setup` (migrations, checklists, the demo
    estate), and gunicorn serving it on a free port (2 sync workers); yields the server."""
    instance = Instance(tmp)
    try:
        flask_cli(instance, "setup")
    except subprocess.CalledProcessError as e:
        sys.exit(f"flask setup failed:\n{e.stdout}{e.stderr}")
    with Server(instance, workers=2, threads=0) as server:
        yield server


# --- a signed-in steward and a round to walk ---------------------------------------------

class Client(Phone):
    """_common's phone (the real login form, cookies, CSRF token) plus what the audit needs:
    the app's base URL and GETs that must answer 200."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.base = f"http://127.0.0.1:{port}"

    def get(self, path: str) -> bytes:
        status, body = self.request("GET", path)
        if status != 200:
            sys.exit(f"GET {path} answered {status}")
        return body

    def get_json(self, path: str):
        return json.loads(self.get(path))

    def session_cookie(self) -> str:
        return self.cookies["session"]


def start_decoration_round(client: Client) -> str:
    pack = client.get_json("/api/v1/offline-pack")
    target = next((t for t in pack["targets"] if t["kind"] == "decoration"), None)
    if target is None:
        sys.exit(f"{STEWARD} has no decorating unit in the demo estate")
    round_uuid = new_uuid()
    status, body = client.post_json("/api/v1/rounds", {
        "uuid": round_uuid, "kind": "decoration", "estate_id": target["estate_id"],
        "building_id": target["building_id"], "unit_id": target["unit_id"]})
    if status != 201:
        sys.exit(f"starting a decoration round answered {status}: {body[:500]!r}")
    return round_uuid


# --- Lighthouse --------------------------------------------------------------------------

def lighthouse_bin() -> Path:
    binary = LIGHTHOUSE_DIR / "node_modules" / ".bin" / "lighthouse"
    package = LIGHTHOUSE_DIR / "node_modules" / "lighthouse" / "package.json"
    if not (binary.exists() and package.exists() and json.loads(package.read_text())["version"] == LIGHTHOUSE_VERSION):
        if not shutil.which("npm"):
            sys.exit("npm is needed to install Lighthouse (the app and its tests do not need Node)")
        print(f"installing lighthouse@{LIGHTHOUSE_VERSION} into {LIGHTHOUSE_DIR} …", flush=True)
        LIGHTHOUSE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(LIGHTHOUSE_DIR), "--no-audit", "--no-fund",
                        f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True, stdout=subprocess.DEVNULL)
    return binary


def run_lighthouse(binary: Path, url: str, headers_file: Path, out: Path) -> dict:
    command = [
        str(binary), url, "--output=json", f"--output-path={out}", "--quiet",
        f"--chrome-flags={CHROME_FLAGS}", f"--only-categories={','.join(CATEGORIES)}",
        f"--extra-headers={headers_file}",
    ]
    done = subprocess.run(command, env=dict(os.environ, CHROME_PATH=CHROME_PATH), capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0 or not out.exists():
        sys.exit(f"lighthouse failed on {url} ({done.returncode}):\n{done.stderr[-3000:]}")
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        sys.exit(f"lighthouse could not load {url}: {report['runtimeError']}")
    final = report.get("finalDisplayedUrl") or report.get("finalUrl", "")
    if "/login" in final:
        sys.exit(f"lighthouse was sent to the sign-in page ({final}): the session cookie was not accepted")
    return report


def short_detail(audit: dict) -> str:
    """displayValue, else the first item or two (a node's explanation, a URL, a description)."""
    parts = [audit["displayValue"]] if audit.get("displayValue") else []
    items = (audit.get("details") or {}).get("items")
    items = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
    for item in items[:2]:
        node = item.get("node") if isinstance(item.get("node"), dict) else {}
        text = node.get("explanation") or node.get("snippet") or item.get("url") or item.get("description")
        if not text and isinstance(item.get("source"), dict):
            text = item["source"].get("url")
        if text:
            parts.append(" ".join(str(text).split())[:160])
    if len(items) > 2:
        parts.append(f"(+{len(items) - 2} more)")
    return "; ".join(parts) or " ".join(audit.get("title", "").split())


def failing_audits(report: dict, category: str) -> list[dict]:
    """Scored audits of a category that do not pass (score < 0.9), heaviest weight first."""
    found = []
    for ref in report["categories"][category]["auditRefs"]:
        audit = report["audits"][ref["id"]]
        if audit.get("scoreDisplayMode") in ("informative", "manual", "notApplicable", "error"):
            continue
        if audit.get("score") is not None and audit["score"] < 0.9:
            found.append({"id": ref["id"], "title": audit["title"], "score": audit["score"],
                          "weight": ref.get("weight", 0), "detail": short_detail(audit)})
        elif audit.get("scoreDisplayMode") == "error":
            found.append({"id": ref["id"], "title": audit["title"], "score": None, "weight": ref.get("weight", 0),
                          "detail": audit.get("errorMessage", "")})
    return sorted(found, key=lambda a: (-a["weight"], a["score"] if a["score"] is not None else -1))


# --- page weight -------------------------------------------------------------------------

def weight_from_report(report: dict, origin: str) -> dict:
    """JS + CSS the page loads (uncompressed bytes by URL) and every request that left the app's origin."""
    items = report["audits"]["network-requests"]["details"]["items"]
    page, foreign = {}, []
    for item in items:
        url = item["url"]
        if url.startswith(("data:", "blob:", "chrome-extension:")):
            continue
        if urllib.parse.urlsplit(url)._replace(path="", query="", fragment="").geturl() != origin:
            foreign.append(url)
            continue
        if item.get("resourceType") not in ("Script", "Stylesheet") and not url.endswith((".js", ".css")):
            continue
        page[url] = max(page.get(url, 0), item.get("resourceSize") or 0)
    return {"page": page, "foreign": foreign}


def foreign_in_precache(client: Client) -> list[str]:
    """URLs of another origin in the service worker's PRECACHE list (app/pwa.py writes it)."""
    source = client.get("/sw.js").decode()
    found = re.search(r"^const PRECACHE = (\[.*\]);$", source, re.MULTILINE)
    if not found:
        sys.exit("no PRECACHE list in /sw.js")
    urls = [urllib.parse.urljoin(client.base + "/", u) for u in json.loads(found.group(1))]
    return [u for u in urls if not u.startswith(client.base + "/")]


IMPORT = re.compile(r"""(?:\bimport\s[^'"]*?\bfrom\s*|\bimport\s*\(?\s*|\bexport\s[^'"]*?\bfrom\s*)['"]([^'"]+)['"]""")


def weight_by_crawl(client: Client, path: str) -> dict[str, int]:
    """The same figure found by hand: the page's scripts and stylesheets and their module imports."""
    html = client.get(path).decode()
    if 'name="password"' in html:
        sys.exit(f"the crawl of {path} got the sign-in page")
    page_url = client.base + path
    queue = [urllib.parse.urljoin(page_url, m) for m in re.findall(r'<script\b[^>]*\bsrc="([^"]+)"', html)]
    queue += [urllib.parse.urljoin(page_url, m) for m in re.findall(
        r'<link\b(?=[^>]*\brel="stylesheet")[^>]*\bhref="([^"]+)"', html)]
    sizes: dict[str, int] = {}
    while queue:
        url = queue.pop()
        if url in sizes:
            continue
        body = client.get(url[len(client.base):]) if url.startswith(client.base) else b""
        sizes[url] = len(body)
        if url.split("?")[0].endswith(".js"):
            queue += [urllib.parse.urljoin(url, m) for m in IMPORT.findall(body.decode("utf-8", "replace"))
                      if m.startswith((".", "/"))]
    return sizes


# --- the report --------------------------------------------------------------------------

def audit_page(binary: Path, client: Client, name: str, path: str, runs: int, work: Path,
               save: Path | None, verbose: bool) -> dict:
    url = client.base + path
    headers = work / "headers.json"
    reports = []
    for run in range(runs):
        out = work / f"{name}-{run}.json"
        reports.append(run_lighthouse(binary, url, headers, out))
        if save:
            save.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(out, save / f"lighthouse-{name}-{run}.json")
    scores = {key: statistics.median(r["categories"][cat]["score"] for r in reports) for cat, key in CATEGORIES.items()}
    # The report whose performance score is the median one stands for the page's details.
    report = sorted(reports, key=lambda r: r["categories"]["performance"]["score"])[len(reports) // 2]

    weight = weight_from_report(report, client.base)
    crawl = weight_by_crawl(client, path)
    page_kb = sum(weight["page"].values()) / KB
    crawl_kb = sum(crawl.values()) / KB

    print(f"\n== {name}: {path}")
    for cat, key in CATEGORIES.items():
        score = scores[key]
        spread = "" if runs == 1 else "  (runs: " + ", ".join(f"{r['categories'][cat]['score']:.2f}" for r in reports) + ")"
        print(f"  {report['categories'][cat]['title']:<16}{score:5.2f}  {'ok' if score >= TARGET_SCORE else f'BELOW {TARGET_SCORE}'}{spread}")
        if score < TARGET_SCORE or verbose:
            for a in failing_audits(report, cat):
                score_text = "error" if a["score"] is None else f"{a['score']:.2f}"
                print(f"      - {a['id']} [{score_text}, weight {a['weight']}] {a['title']}")
                print(f"          {a['detail']}")
    metrics = report["audits"]
    print("  metrics (simulated mobile): " + ", ".join(
        f"{label} {metrics[m]['displayValue']}" for label, m in
        (("FCP", "first-contentful-paint"), ("LCP", "largest-contentful-paint"), ("TBT", "total-blocking-time"),
         ("CLS", "cumulative-layout-shift"), ("SI", "speed-index")) if metrics.get(m, {}).get("displayValue")))
    print(f"  JS + CSS loaded by the page: {page_kb:.1f} KB in {len(weight['page'])} files "
          f"(target <= {TARGET_KB} KB)  {'ok' if page_kb <= TARGET_KB else 'OVER'}")
    for url, size in sorted(weight["page"].items(), key=lambda kv: -kv[1]):
        print(f"      {size / KB:6.1f} KB  {url[len(client.base):]}")
    print(f"  cross-check, HTML + module imports followed by hand: {crawl_kb:.1f} KB in {len(crawl)} files")
    missed = sorted(set(crawl) - set(weight["page"]))
    if missed:
        print("      not seen by Lighthouse: " + ", ".join(u[len(client.base):] for u in missed))
    print(f"  requests to other origins: {len(weight['foreign'])}"
          + "".join(f"\n      {u}" for u in weight["foreign"][:10]))
    return {**{k: round(v, 2) for k, v in scores.items()}, "js_css_kb": round(max(page_kb, crawl_kb), 1),
            "other_origins": len(weight["foreign"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page; the median score is kept")
    parser.add_argument("--save", type=Path, help="keep the Lighthouse JSON reports in this folder")
    parser.add_argument("--verbose", action="store_true", help="list non-passing audits of every category")
    args = parser.parse_args()
    args.runs = max(1, args.runs)
    if not Path(CHROME_PATH).exists():
        sys.exit(f"no Chromium at {CHROME_PATH} (set CHROME_PATH)")
    binary = lighthouse_bin()
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout.strip()

    with tempfile.TemporaryDirectory(prefix="xuncha-lighthouse-") as tmp, demo_app(Path(tmp)) as server:
        work = Path(tmp)
        client = Client(server.port)
        base = client.base
        client.login(STEWARD, PASSWORD)
        round_uuid = start_decoration_round(client)
        (work / "headers.json").write_text(json.dumps({"Cookie": f"session={client.session_cookie()}"}))
        print(f"lighthouse {version}, {CHROME_PATH}, default mobile settings (simulated throttling), "
              f"{args.runs} run(s) per page; app at {base} signed in as {STEWARD}")
        results = {
            "today": audit_page(binary, client, "today", "/rounds/today", args.runs, work, args.save, args.verbose),
            "round": audit_page(binary, client, "round", f"/rounds/walk?round={round_uuid}", args.runs, work,
                                args.save, args.verbose),
        }
        precache_foreign = foreign_in_precache(client)
        print(f"\nservice worker precache list: {len(precache_foreign)} URL(s) of another origin"
              + "".join(f"\n      {u}" for u in precache_foreign))

    other = sum(r.pop("other_origins") for r in results.values()) + len(precache_foreign)
    print("\nsummary:")
    for name, r in results.items():
        low = [k for k in CATEGORIES.values() if r[k] < TARGET_SCORE]
        print(f"  {name:<6} performance {r['performance']:.2f}, accessibility {r['accessibility']:.2f}, "
              f"best practices {r['best_practices']:.2f}, JS + CSS {r['js_css_kb']:.1f} KB  "
              f"{'ok' if not low and r['js_css_kb'] <= TARGET_KB else 'MISSED: ' + ', '.join(low or ['weight'])}")
    print(f"  requests to other origins: {other}  {'ok' if other == 0 else 'MISSED'}")
    print(json.dumps({**results, "other_origins": other}))


if __name__ == "__main__":
    main()
