"""Find a Chromium for the browser tests, or get one; print its path on stdout.

Run by `make test` before pytest (its output becomes XUNCHA_CHROMIUM):

1. $XUNCHA_CHROMIUM, when set (it must be an executable file);
2. /usr/bin/chromium (Debian's package);
3. Playwright's own Chromium, already downloaded or fetched now by `python -m playwright install
   chromium` (bounded in time: a network that refuses or hangs falls through);
4. as root where apt-get exists: `apt-get update` and `apt-get install -y chromium`.

Otherwise it prints one line saying what is missing and how to get it, and exits 1, so make stops
before any test runs. Progress goes to stderr; stdout holds the path alone.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

SYSTEM_CHROMIUM = "/usr/bin/chromium"
PLAYWRIGHT_INSTALL_SECONDS = 600  # a slow download; a dead network fails in seconds (connection timeout below)
PLAYWRIGHT_CONNECTION_MS = "20000"
APT_SECONDS = 900
MISSING = ("Chromium not found for the browser tests: run `sudo apt-get install -y chromium` "
           "(or `{python} -m playwright install chromium`), or set XUNCHA_CHROMIUM to a Chromium binary.")


class Failed(Exception):
    """One line for the user: what is wrong and what to run."""


def say(message: str) -> None:
    print(f"find_chromium: {message}", file=sys.stderr, flush=True)


def executable(path: str | os.PathLike) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def run(command: list[str], seconds: float, env: dict[str, str] | None = None) -> tuple[bool, str]:
    """Run `command` in its own process group, killed whole after `seconds` (Playwright's installer
    is a Node child of Python, which a plain timeout would leave running). Returns (ok, the first
    error line of its output, else its last line)."""
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, errors="replace", start_new_session=True, env=env)
    except OSError as exc:
        return False, str(exc)
    try:
        output, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return False, f"no result after {seconds:.0f} s"
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("Error", "E:"))]  # Node's and apt's first error: the cause
    return proc.returncode == 0, (errors or lines or [f"exit status {proc.returncode}"])[0 if errors else -1]


def playwright_chromium() -> str | None:
    """Playwright's own Chromium, if it has been downloaded."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            path = p.chromium.executable_path
    except Exception as exc:  # noqa: BLE001 - no driver, no browser: nothing to use
        say(f"Playwright has no Chromium ({type(exc).__name__})")
        return None
    return path if path and executable(path) else None


def install_with_playwright() -> str | None:
    say("downloading Playwright's Chromium (python -m playwright install chromium)")
    env = dict(os.environ, PLAYWRIGHT_DOWNLOAD_CONNECTION_TIMEOUT=PLAYWRIGHT_CONNECTION_MS)
    ok, last = run([sys.executable, "-m", "playwright", "install", "chromium"], PLAYWRIGHT_INSTALL_SECONDS, env)
    if not ok:
        say(f"Playwright's download failed: {last}")
        return None
    return playwright_chromium()


def install_with_apt() -> str | None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    say("installing Debian's chromium (apt-get update; apt-get install -y chromium)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        ok, last = run(command, APT_SECONDS, env)
        if not ok:
            say(f"{' '.join(command[:2])} failed: {last}")
            return None
    return SYSTEM_CHROMIUM if executable(SYSTEM_CHROMIUM) else None


def find() -> str:
    chosen = os.environ.get("XUNCHA_CHROMIUM")
    if chosen:
        if executable(chosen):
            return chosen
        raise Failed(f"XUNCHA_CHROMIUM={chosen} is not an executable file: point it at a Chromium binary, or unset it.")
    if executable(SYSTEM_CHROMIUM):
        return SYSTEM_CHROMIUM
    for way in (playwright_chromium, install_with_playwright, install_with_apt):
        path = way()
        if path:
            return path
    raise Failed(MISSING.format(python=os.path.relpath(sys.executable) if sys.executable else "python3"))


def main() -> int:
    try:
        path = find()
    except Failed as exc:
        print(exc, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
