"""A phone's backlog over a weak signal: 40 rounds and 15 photos captured offline, then drained
through Chromium's network throttling (1.5 Mbit/s up, 300 ms round trip) with one cut in the middle.

What it does: gunicorn (2 gthread workers) on a throwaway SQLite instance with one steward and
BUILDINGS corridor targets (30-finding rounds, as bench/sync.py); Debian's Chromium at /usr/bin/chromium
driven by Playwright, a 412x915 context signed in through the login form, the today page open and
its service worker activated with the offline pack stored. Then the network goes offline (CDP
`Network.emulateNetworkConditions`) and the backlog is put into the outbox through the page's own
module (static/js/store.js: putRound, putPhoto, enqueue), in the shapes today.js and round.js give
it: per round a start entry, a completion entry (every check item answered, a defect with a photo on
15 of the 40) and one photo entry per photo (a 400 KB photo-like JPEG, 2048x1536, as the canvas
uploads). Then the network comes back throttled (upload 1.5 Mbit/s, download 4 Mbit/s, latency
300 ms), "sync now" is pressed, and once half of the items are sent and a photo has been uploading
for a second, the network is cut for CUT_S seconds and given back. It waits (on conditions) until
the outbox is empty.

Measured in the page (fetch is wrapped by an init script, the app's code is unchanged): every API
request that carries a body, its body size, when it started and ended and whether it got an answer.
  bytes          the backlog's request bodies, each request once (the floor's bytes)
  floor_s        bytes * 8 / 1.5e6: the time the bytes alone need at that upload bandwidth
  drain_s        from the network coming back until the outbox is empty (the cut included)
  ratio          drain_s / floor_s (target <= 1.25)
  resent_bytes   the bodies of attempts after a request's first (a photo cut mid-upload and sent
                 again counts its whole body once more); a photo sent in parts (PUT …/upload?offset=…)
                 counts the bytes its parts' ranges cover more than once (a part cut, then continued
                 from the server's offset, counts the bytes of it that were sent again)
  items          the outbox's entries (per round a start and a completion, sent as one request; per photo one)
  stored_twice   requests the server answered 2xx more than once (from gunicorn's access log):
                 something stored, then sent again
The sync bar is sampled every POLL_S during the drain: is the progress bar shown, does its text
give items (n of m) and bytes sent so far (two sizes), and does the count of items sent ever go back
(after the cut it must go on, not count from 1 again). The database is checked at the end: every round
completed once with all its findings, every photo stored once with its SHA-256.

Run: .venv/bin/python bench/backlog.py [--rounds 40] [--photos 15] [--cut 4]
"""
from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import socket
import sqlite3
import struct
import tempfile
import threading
import time
from pathlib import Path

from _common import (
    PASSWORD,
    Instance,
    Server,
    create_bench_data,
    flask_cli,
    photo_like_jpeg,
    reference_workload_ms,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 412, "height": 915}
UPLOAD_BPS = 1_500_000
DOWNLOAD_BPS = 4_000_000
LATENCY_MS = 300
BUILDINGS = 10
FLOORS = 8
STAIRWELLS = (2, 1)  # as bench/sync.py: 30-finding corridor rounds
TARGET_RATIO = 1.25
POLL_S = 0.1
DRAIN_TIMEOUT_S = int(__import__("os").environ.get("BACKLOG_TIMEOUT_S", 150))

THROTTLED = {"offline": False, "latency": LATENCY_MS, "downloadThroughput": DOWNLOAD_BPS / 8,
             "uploadThroughput": UPLOAD_BPS / 8}
# Offline keeps the throttling: with -1 (no throttling) Chromium releases a request being throttled at
# once, so a photo "cut" mid-upload would arrive whole and in a flash.
OFFLINE = {**THROTTLED, "offline": True}

class CuttableLink:
    """A TCP relay between the browser and gunicorn that can lose the signal: cut() resets every
    open connection (an upload in the middle fails) and refuses new ones until restore(). Counts
    the bytes that went up (browser -> server, headers included, partial uploads included).

    Needed because CDP's offline alone does not cut: Chromium releases a request it is throttling
    when the conditions go offline, so a photo being uploaded arrives whole, at once."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.cutting = False
        self.up_bytes = 0
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @staticmethod
    def _reset(sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # close() alone does not wake a pump thread blocked in recv() on this socket (Linux): the
            # connection would live on half-dead, swallow the next request sent on it and never answer.
            sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        try:
            sock.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cutting:
                self._reset(client)
                continue
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            with self.lock:
                self.open |= {client, server}
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, up: bool) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
                if up:
                    with self.lock:
                        self.up_bytes += len(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            with self.lock:
                self.open -= {src, dst}

    def cut(self) -> None:
        self.cutting = True
        with self.lock:
            victims, self.open = list(self.open), set()
        for sock in victims:
            self._reset(sock)

    def restore(self) -> None:
        self.cutting = False

    def close(self) -> None:
        self.listener.close()
        self.cut()


# Every API request with a body, as the page sends it: size, start, end, answer (status or an error).
ACCOUNTING = r"""
(() => {
  const log = [];
  window.__backlog = log;
  const realFetch = window.fetch.bind(window);
  const size = async (body) => {
    if (body == null) return 0;
    if (typeof body === 'string') return new Blob([body]).size;
    return (await new Response(body).arrayBuffer()).byteLength; // FormData, Blob: the multipart body
  };
  window.fetch = (input, init = {}) => {
    const url = typeof input === 'string' ? input : input.url;
    const method = (init.method || (typeof input === 'string' ? 'GET' : input.method) || 'GET').toUpperCase();
    if (method === 'GET' || !new URL(url, location.href).pathname.startsWith('/api/')) return realFetch(input, init);
    const where = new URL(url, location.href);
    const record = { method, path: where.pathname + where.search, bytes: null, start: performance.now(),
                     end: null, status: null, error: null };
    log.push(record);
    size(init.body).then((n) => { record.bytes = n; });
    const sent = realFetch(input, init);
    sent.then((r) => { record.end = performance.now(); record.status = r.status; },
              (e) => { record.end = performance.now(); record.error = String(e); });
    return sent;
  };
})();
"""

# The backlog into the outbox, through the page's own store module, as today.js and round.js queue it.
LOAD_BACKLOG = r"""
async ({ rounds, photoRounds, photos }) => {
  const store = await import('/static/js/store.js');
  const { currentUser } = await import('/static/js/sync.js');
  const user = currentUser();
  const pack = await store.getMeta(`pack:${user}`);
  const keys = Object.keys(pack.plans).filter((k) => k.startsWith('corridor/'));
  if (!keys.length) throw new Error('the offline pack has no corridor plan');
  const uuid = () => crypto.randomUUID();
  const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  let photoIndex = 0;
  const made = { rounds: [], findings: 0, photos: [] };
  for (let n = 0; n < rounds; n += 1) {
    const key = keys[n % keys.length];
    const [kind, estateId, buildingId] = key.split('/');
    const plan = pack.plans[key];
    const checklist = pack.checklists[plan.checklist];
    const items = Object.fromEntries(checklist.items.map((i) => [i.code, i]));
    const roundUuid = uuid();
    const startedAt = new Date(Date.now() - (rounds - n) * 600000).toISOString();
    const start = { uuid: roundUuid, kind, estate_id: Number(estateId), building_id: Number(buildingId), unit_id: null,
                    started_at: startedAt, checklist_version: checklist.version };
    await store.enqueue({ user, type: 'start', roundUuid, url: '/api/v1/rounds', method: 'POST', body: start,
                          bytes: JSON.stringify(start).length });
    const findings = plan.checkpoints.flatMap((c) => c.items.filter((code) => items[code].type === 'check').map((code) => ({
      uuid: uuid(), checkpoint: c.key, item_code: code, result: 'fine', reason_code: null, reason_text: '',
      action_code: null, note: '', reading_value: null, recorded_at: new Date().toISOString(), photo_uuids: [] })));
    const photoUuids = [];
    if (photoRounds.includes(n)) {
      const defect = findings.find((f) => items[f.item_code].photo_required && items[f.item_code].reasons.length);
      const photo = photos[photoIndex % photos.length];
      photoIndex += 1;
      const photoUuid = uuid();
      const blob = new Blob([fromBase64(photo.data)], { type: 'image/jpeg' });
      await store.putPhoto({ uuid: photoUuid, roundUuid, findingUuid: defect.uuid, blob, sha256: photo.sha256,
        width: 2048, height: 1536, size: blob.size, status: 'local', takenAt: new Date().toISOString() });
      Object.assign(defect, { result: 'defect', reason_code: items[defect.item_code].reasons[0].code,
        note: '樓梯燈不亮，已報修', photo_uuids: [photoUuid] });
      photoUuids.push(photoUuid);
      made.photos.push({ uuid: photoUuid, sha256: photo.sha256, bytes: blob.size });
    }
    const completion = { completed_at: new Date().toISOString(), findings };
    await store.putRound({ uuid: roundUuid, user, targetKey: `${key}`, index: 0, view: 'done', completed: true,
      queued: true, answers: {}, startedAt, completion,
      plan: { round: { uuid: roundUuid, kind, status: 'in_progress' }, title: checklist.title, place: plan.place,
              items: checklist.items, checkpoints: plan.checkpoints } });
    await store.enqueue({ user, type: 'complete', roundUuid, url: `/api/v1/rounds/${roundUuid}/completion`,
                          method: 'POST', body: completion, bytes: JSON.stringify(completion).length });
    for (const photoUuid of photoUuids) {
      await store.enqueue({ user, type: 'photo', roundUuid, photoUuid, url: `/api/v1/photos/${photoUuid}`,
                            method: 'PUT', bytes: made.photos.at(-1).bytes });
    }
    made.rounds.push(roundUuid);
    made.findings += findings.length;
  }
  document.dispatchEvent(new CustomEvent('xuncha:enqueued'));
  return made;
}
"""

# One sample: the outbox's size, the sync bar, and the requests so far.
SAMPLE = r"""
async () => {
  const db = await new Promise((ok, fail) => { const r = indexedDB.open('xuncha'); r.onsuccess = () => ok(r.result); r.onerror = fail; });
  const outbox = await new Promise((ok) => { const r = db.transaction('outbox').objectStore('outbox').count(); r.onsuccess = () => ok(r.result); });
  db.close();
  const bar = document.getElementById('sync-bar');
  const progress = bar.querySelector('.sync-progress');
  const log = window.__backlog;
  const now = performance.now();
  const inFlight = log.filter((r) => r.end === null).map((r) => ({ method: r.method, for_ms: now - r.start }));
  return { outbox, text: bar.querySelector('.sync-status').textContent, shown: !progress.hidden,
           value: progress.value, max: progress.max, answered: log.filter((r) => r.status !== null).length,
           inFlight, online: navigator.onLine };
}
"""


PART_PATH = re.compile(r"/api/v1/photos/(?P<photo>[0-9a-f-]+)/upload\?offset=(?P<offset>\d+)&.*")
SIZE = r"\d+(?:\.\d+)?\s?[KMG]B"
ITEMS_SENT = re.compile(r"(\d+)\D+\d+")


def covered_bytes(ranges: list[tuple[int, int]]) -> int:
    """The bytes the ranges [start, end) cover, each once."""
    covered, reach = 0, 0
    for start, end in sorted(ranges):
        if end > reach:
            covered += end - max(start, reach)
            reach = end
    return covered


def photo_rounds(rounds: int, photos: int) -> list[int]:
    """Which rounds carry a photo: `photos` of them, spread evenly."""
    return sorted({(k * rounds) // photos for k in range(photos)}) if photos else []


def access_log_counts(path: Path) -> dict[tuple[str, str], int]:
    """(method, path) -> how many times gunicorn answered it 2xx (a photo sent in parts: 201, stored)."""
    counts: dict[tuple[str, str], int] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[2].startswith("2") and not (parts[1].endswith("/upload") and parts[2] != "201"):
            counts[parts[0], parts[1]] = counts.get((parts[0], parts[1]), 0) + 1
    return counts


def check_database(instance: Instance, made: dict) -> list[str]:
    """Every round completed once with all its findings, every photo stored once with its hash."""
    problems = []
    conn = sqlite3.connect(instance.database)
    try:
        rows = conn.execute("SELECT uuid, status FROM round").fetchall()
        by_uuid: dict[str, list[str]] = {}
        for uuid, status in rows:
            by_uuid.setdefault(uuid, []).append(status)
        for uuid in made["rounds"]:
            statuses = by_uuid.get(uuid, [])
            if len(statuses) != 1 or statuses[0] != "completed":
                problems.append(f"round {uuid}: {statuses or 'missing'}")
        if len(rows) != len(made["rounds"]):
            problems.append(f"{len(rows)} rounds in the database, {len(made['rounds'])} captured")
        findings = conn.execute("SELECT count(*), count(DISTINCT uuid) FROM finding").fetchone()
        if findings != (made["findings"], made["findings"]):
            problems.append(f"findings in the database (all, distinct): {findings}, captured {made['findings']}")
        photos = {uuid: (status, sha) for uuid, status, sha in conn.execute("SELECT uuid, status, sha256 FROM photo")}
        for p in made["photos"]:
            if photos.get(p["uuid"]) != ("stored", p["sha256"]):
                problems.append(f"photo {p['uuid']}: {photos.get(p['uuid'])}")
        if len(photos) != len(made["photos"]):
            problems.append(f"{len(photos)} photos in the database, {len(made['photos'])} captured")
    finally:
        conn.close()
    return problems


def run(args: argparse.Namespace, tmp: Path) -> dict:
    from playwright.sync_api import sync_playwright

    instance = Instance(tmp)
    t = time.perf_counter()
    flask_cli(instance, "db", "upgrade")
    flask_cli(instance, "sync-checklists")
    world = create_bench_data(instance, 1, BUILDINGS, FLOORS, STAIRWELLS)
    photos = [photo_like_jpeg(seed) for seed in range(args.photos)]
    username = world.stewards[0][1]
    print(f"set-up: {time.perf_counter() - t:.1f} s; {BUILDINGS} buildings, {args.photos} photos of "
          f"{sum(len(p.data) for p in photos) / args.photos / 1000 if photos else 0:.0f} KB")
    access_log = tmp / "access.log"
    extra = ("--access-logfile", str(access_log), "--access-logformat", "%(m)s %(U)s %(s)s")
    with Server(instance, workers=2, threads=4, extra_args=extra) as server, sync_playwright() as p:
        link = CuttableLink(server.port)
        base = f"http://127.0.0.1:{link.port}"
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport=VIEWPORT, device_scale_factor=2.625, is_mobile=True, has_touch=True,
                                          locale="en-US")
            context.add_init_script(ACCOUNTING)
            page = context.new_page()
            console: list[str] = []  # the page's errors, told if the drain does not end
            page.on("pageerror", lambda e: console.append(f"page error: {e}"))
            page.on("console", lambda m: console.append(f"console: {m.text}") if m.type == "error" else None)
            page.set_default_timeout(30_000)
            page.goto(f"{base}/login")
            page.fill("#username", username)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/rounds/today")
            page.wait_for_function("() => navigator.serviceWorker.controller && "
                                   "navigator.serviceWorker.controller.state === 'activated'")
            page.wait_for_selector("#sync-bar[data-offline-ready='true']")
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")

            # Captured offline.
            cdp.send("Network.emulateNetworkConditions", OFFLINE)
            page.wait_for_function("() => !navigator.onLine")
            t = time.perf_counter()
            made = page.evaluate(LOAD_BACKLOG, {
                "rounds": args.rounds, "photoRounds": photo_rounds(args.rounds, args.photos),
                "photos": [{"data": base64.b64encode(ph.data).decode(), "sha256": ph.sha256} for ph in photos]})
            sample = page.evaluate(SAMPLE)
            print(f"captured offline in {time.perf_counter() - t:.1f} s: {len(made['rounds'])} rounds, "
                  f"{made['findings']} findings, {len(made['photos'])} photos; outbox {sample['outbox']} entries; "
                  f"bar: {sample['text']!r}")
            page.evaluate("() => { window.__backlog.length = 0; }")  # the offline tries do not count
            link.up_bytes = 0

            # The signal comes back, weak; one cut in the middle.
            samples, cut_at, back_at, shot = [], None, None, None
            cdp.send("Network.emulateNetworkConditions", THROTTLED)
            began = time.perf_counter()
            page.click("#sync-bar .sync-now")
            entries = sample["outbox"]
            while True:
                now = time.perf_counter()
                if now - began > DRAIN_TIMEOUT_S:
                    for r in page.evaluate("() => window.__backlog")[-12:]:
                        print(f"  {r['method']} {r['path'][:90]} {r['bytes']} {r['start'] / 1000:.1f}-"
                              f"{(r['end'] or 0) / 1000:.1f} s {r['status'] or r['error']}")
                    print(f"  last sample: {samples[-1]}; cut at {cut_at}, back at {back_at}")
                    print("\n".join(console[-20:]))
                    raise RuntimeError(f"the outbox still holds {samples[-1]['outbox']} entries after {DRAIN_TIMEOUT_S} s")
                s = page.evaluate(SAMPLE)
                s["t"] = now - began
                samples.append(s)
                if s["outbox"] == 0:
                    drain_s = s["t"]
                    break
                if cut_at is None and s["outbox"] <= entries / 2 and any(
                        r["method"] == "PUT" and r["for_ms"] > 1000 for r in s["inFlight"]):
                    link.cut()  # the connections die (the upload fails), then the phone knows it
                    cdp.send("Network.emulateNetworkConditions", OFFLINE)
                    cut_at = now - began
                    if args.screenshots:
                        page.screenshot(path=str(Path(args.screenshots) / "backlog-cut.png"))
                elif cut_at is not None and back_at is None and now - began >= cut_at + args.cut:
                    link.restore()
                    cdp.send("Network.emulateNetworkConditions", THROTTLED)
                    back_at = now - began
                elif args.screenshots and back_at is not None and shot is None and now - began >= back_at + 3:
                    shot = page.screenshot(path=str(Path(args.screenshots) / "backlog-after-cut.png"))
                time.sleep(POLL_S)
            log = page.evaluate("() => window.__backlog")
            up_bytes = link.up_bytes
            context.close()
        finally:
            browser.close()
            link.close()
        answered_2xx = access_log_counts(access_log)

    # The figures.
    by_request: dict[tuple[str, str], list[dict]] = {}
    parts: dict[str, list[dict]] = {}  # a photo sent in parts: its parts' attempts, by photo
    for r in log:
        if (m := PART_PATH.fullmatch(r["path"])) and r["method"] == "PUT":
            parts.setdefault(m["photo"], []).append({**r, "offset": int(m["offset"])})
        else:
            by_request.setdefault((r["method"], r["path"]), []).append(r)
    unique_bytes = sum(attempts[0]["bytes"] or 0 for attempts in by_request.values())
    resent_bytes = sum((r["bytes"] or 0) for attempts in by_request.values() for r in attempts[1:])
    resent = {k: [(a["status"] or a["error"]) for a in v] for k, v in by_request.items() if len(v) > 1}
    for photo, attempts in parts.items():
        covered = covered_bytes([(a["offset"], a["offset"] + (a["bytes"] or 0)) for a in attempts])
        attempted = sum(a["bytes"] or 0 for a in attempts)
        unique_bytes += covered
        resent_bytes += attempted - covered
        if attempted > covered or any(a["status"] is None for a in attempts):
            resent[("PUT", f"/api/v1/photos/{photo}/upload")] = [
                f"@{a['offset']}+{a['bytes']}: {a['status'] or a['error']}" for a in attempts]
    uploads = {("PUT", f"/api/v1/photos/{photo}/upload") for photo in parts}
    stored_twice = {k: n for k, n in answered_2xx.items() if n > 1 and (k in by_request or k in uploads)}
    floor_s = unique_bytes * 8 / UPLOAD_BPS
    ratio = drain_s / floor_s
    photo_puts = [r for r in log if r["method"] == "PUT" and r["status"] is not None]

    # The progress bar while draining (the samples before the outbox emptied).
    during = samples[:-1]
    shown = sum(s["shown"] for s in during)
    with_items = sum(bool(re.search(r"\d+\D+\d+", s["text"])) and s["shown"] for s in during)
    with_bytes = sum(len(re.findall(SIZE, s["text"])) >= 2 and s["shown"] for s in during)
    counts = [int(m[1]) for s in during if s["shown"] and (m := ITEMS_SENT.search(s["text"].split("·")[-2]
                                                                                 if "·" in s["text"] else s["text"]))]
    went_back = sum(1 for a, b in zip(counts, counts[1:]) if b < a)
    texts = []
    for s in during:
        label = f"{'bar' if s['shown'] else 'no bar'} {s['value']}/{s['max']}: {s['text']}"
        if not texts or texts[-1][1] != label:
            texts.append((s["t"], label))

    print(f"throttling: up {UPLOAD_BPS / 1e6} Mbit/s, down {DOWNLOAD_BPS / 1e6} Mbit/s, {LATENCY_MS} ms latency")
    print(f"requests: {len(by_request)} distinct, {len(parts)} photos in {sum(len(a) for a in parts.values())} "
          f"parts ({len(log)} attempts in all); {len(photo_puts)} PUTs answered")
    print(f"cut: offline at {cut_at if cut_at is None else round(cut_at, 1)} s, back at "
          f"{back_at if back_at is None else round(back_at, 1)} s")
    print(f"bytes (request bodies, each request once): {unique_bytes:,}; floor {floor_s:.1f} s")
    print(f"drain: {drain_s:.1f} s; ratio {ratio:.2f} (target <= {TARGET_RATIO})")
    print(f"on the wire, up (headers, the session GETs and cut uploads included): {up_bytes:,} bytes")
    for (method, path), attempts in by_request.items():
        if method == "PUT" or len(attempts) > 1:
            print(f"  {method} {path[:40]}…: " + ", ".join(
                f"{a['start'] / 1000:.1f}-{(a['end'] or 0) / 1000:.1f} s {a['status'] or a['error']}" for a in attempts))
    for photo, attempts in parts.items():
        print(f"  PUT …/photos/{photo[:8]}…/upload: " + ", ".join(
            f"@{a['offset'] // 1024}K {a['start'] / 1000:.1f}-{(a['end'] or 0) / 1000:.1f} s {a['status'] or 'failed'}"
            for a in attempts))
    print(f"resent: {resent_bytes:,} bytes in {len(resent)} requests: {resent}")
    print(f"answered 2xx more than once by the server (stored, then sent again): {stored_twice or 'none'}")
    print(f"sync bar: shown in {shown} of {len(during)} samples, items n/m in {with_items}, bytes sent/total in "
          f"{with_bytes}; the count of items sent went back {went_back} times")
    step = max(1, len(texts) // 25)
    for t_s, label in texts[::step]:
        print(f"  {t_s:5.1f} s  {label}")
    problems = check_database(instance, made)
    print("database: every round, finding and photo stored exactly once" if not problems
          else "database problems:\n  " + "\n  ".join(problems[:20]))
    return {"bytes": unique_bytes, "floor_s": round(floor_s, 2), "drain_s": round(drain_s, 2),
            "ratio": round(ratio, 3), "resent_bytes": resent_bytes,
            "items": entries, "rounds": len(made["rounds"]), "photos": len(made["photos"]),
            "requests": len(by_request), "attempts": len(log),
            "up_bytes_on_the_wire": up_bytes, "stored_twice": len(stored_twice), "database_ok": not problems,
            "bar_shown": round(shown / max(len(during), 1), 3), "bar_with_bytes": round(with_bytes / max(len(during), 1), 3),
            "bar_went_back": went_back,
            "reference_workload_ms": round(reference_workload_ms(), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="rounds captured offline (default 40)")
    parser.add_argument("--photos", type=int, default=15, help="photos among them, one per round (default 15)")
    parser.add_argument("--cut", type=float, default=4.0, help="seconds without signal in the middle (default 4)")
    parser.add_argument("--screenshots", help="a folder for the page's screenshots at the cut and 3 s after it")
    args = parser.parse_args()
    if args.photos > args.rounds:
        parser.error("at most one photo per round")
    tmp = Path(tempfile.mkdtemp(prefix="xuncha-bench-backlog-"))
    try:
        result = run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
