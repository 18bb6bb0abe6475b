"""Benchmark of the estate workbook import: a property company's estate of 12,000 units.

Run from the repo root:  .venv/bin/python bench/import.py [--db sqlite|postgresql|both]

Writes a workbook of 50 buildings × 2 stairwells × 30 floors × 4 units (12,000 units, 24,000 meters,
12,000 owner contacts) with openpyxl, then times `flask import-estate` as a person runs it, each a
fresh process on an empty database built by the migrations: the dry run, the import, and the same
file again (which must change nothing). Peak memory is the largest resident size of those processes.
Targets on this machine: dry run ≤ 10 s, import ≤ 30 s, the unchanged file again ≤ 10 s (a dry run's
target) and changing nothing, peak memory ≤ 300 MB, on SQLite and on PostgreSQL.
Ends with one JSON line per database.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, Instance, reference_workload_ms  # noqa: E402

BUILDINGS, STAIRWELLS, FLOORS, PER_FLOOR = 50, 2, 30, 4
TARGETS = {"dry_run_s": 10.0, "import_s": 30.0, "reimport_s": 10.0, "peak_rss_mb": 300.0}


def write_workbook(path: Path) -> int:
    """The bench estate's workbook (write-only mode: the generator itself stays small)."""
    from openpyxl import Workbook

    from app.places.workbook import SHEETS

    book = Workbook(write_only=True)
    sheets = {s.key: book.create_sheet(s.zh) for s in SHEETS}
    for s in SHEETS:
        sheets[s.key].append([f"{c.zh} ({c.en})" for c in s.columns])
    sheets["estates"].append(["BENCH", "基準花園", "基準路 1 號", "Asia/Shanghai"])
    sheets["areas"].append(["BENCH", "道路", "主幹道"])
    sheets["meters"].append(["BENCH", None, None, "水", "BENCH-W-MAIN"])
    units = 0
    for b in range(1, BUILDINGS + 1):
        sheets["buildings"].append(["BENCH", f"B{b:02d}", f"{b}棟", FLOORS])
        for s in range(1, STAIRWELLS + 1):
            sheets["stairwells"].append(["BENCH", f"B{b:02d}", f"S{s}", f"{s}梯", 1, FLOORS])
            sheets["assets"].append(["BENCH", "電梯", f"{b}棟{s}梯電梯", f"B{b:02d}", f"S{s}"])
            for floor in range(1, FLOORS + 1):
                for n in range(1, PER_FLOOR + 1):
                    room = f"{s}-{floor:02d}{n:02d}"
                    vacant = (floor + n) % 9 == 0
                    sheets["units"].append(["BENCH", f"B{b:02d}", f"S{s}", room, floor, 89.5, "三房兩廳",
                                            "空置" if vacant else "自住", "未收房" if vacant else None])
                    sheets["meters"].append(["BENCH", f"B{b:02d}", room, "水", f"W{b:02d}{room}"])
                    sheets["meters"].append(["BENCH", f"B{b:02d}", room, "電", f"E{b:02d}{room}"])
                    sheets["owners"].append(["BENCH", f"B{b:02d}", room, f"業主{b}-{room}", "138 0013 8000",
                                             None, "業主"])
                    units += 1
    book.save(path)
    return units


def run(instance: Instance, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", instance.factory, *args], cwd=ROOT,
                          env=instance.env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KB on Linux


def counts(instance: Instance) -> dict:
    import sqlalchemy as sa

    engine = sa.create_engine(instance.url)
    with engine.connect() as conn:
        out = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar()
               for t in ("unit", "meter", "owner_contact", "audit_entry")}
    engine.dispose()
    return out


def bench(db: str, workbook: Path, units: int, pg: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="xuncha-import-") as tmp:
        pg_name = None
        url = None
        if db == "postgresql":
            from sqlalchemy.engine import make_url

            base = make_url(pg)
            pg_name = f"xuncha_import_{os.getpid()}"
            conn_args = ["-h", base.host or "127.0.0.1", "-p", str(base.port or 5432), "-U", base.username or "postgres"]
            subprocess.run(["createdb", *conn_args, pg_name], check=True, capture_output=True)
            url = base.set(database=pg_name).render_as_string(hide_password=False)
        instance = Instance(Path(tmp), url)
        try:
            run(instance, "db", "upgrade")
            dry_s, dry_out = run(instance, "import-estate", "--dry-run", str(workbook))
            import_s, import_out = run(instance, "import-estate", str(workbook))
            after_import = counts(instance)
            reimport_s, reimport_out = run(instance, "import-estate", str(workbook))
            after_reimport = counts(instance)
        finally:
            if pg_name:
                subprocess.run(["dropdb", *conn_args, "--if-exists", "--force", pg_name], capture_output=True)
    unchanged = after_reimport == after_import and "Nothing to change" in reimport_out
    result = {"db": db, "units": units, "meters": after_import["meter"], "contacts": after_import["owner_contact"],
              "dry_run_s": round(dry_s, 2), "import_s": round(import_s, 2), "reimport_s": round(reimport_s, 2),
              "reimport_changed_nothing": unchanged, "peak_rss_mb": round(peak_rss_mb(), 1)}
    print(f"\n== {db}")
    print(dry_out.strip().splitlines()[0])
    print(import_out.strip().splitlines()[0])
    print(f"dry run {dry_s:.2f} s · import {import_s:.2f} s · the same file again {reimport_s:.2f} s "
          f"({'changed nothing' if unchanged else 'CHANGED SOMETHING'}) · peak RSS {result['peak_rss_mb']} MB")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="the PostgreSQL server to make a throwaway database on")
    args = parser.parse_args()
    reference = reference_workload_ms()
    print(f"reference_workload_ms {reference:.1f} (this machine's speed on a fixed workload)")
    with tempfile.TemporaryDirectory(prefix="xuncha-workbook-") as tmp:
        workbook = Path(tmp) / "estate.xlsx"
        started = time.perf_counter()
        units = write_workbook(workbook)
        print(f"workbook: {units} units, {workbook.stat().st_size / 1e6:.1f} MB, written in "
              f"{time.perf_counter() - started:.1f} s")
        dbs = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
        results = [bench(db, workbook, units, args.pg) for db in dbs]
    for r in results:
        met = all(r[k] <= TARGETS[k] for k in TARGETS) and r["reimport_changed_nothing"]
        print(json.dumps({**r, "reference_workload_ms": round(reference, 1), "targets_met": met}))


if __name__ == "__main__":
    main()
