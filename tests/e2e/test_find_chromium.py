"""`make test`'s search for a Chromium (tests/e2e/find_chromium.py), without a browser or a network."""
from __future__ import annotations

import sys

import pytest

from . import find_chromium


@pytest.fixture
def nowhere(monkeypatch, tmp_path):
    """No XUNCHA_CHROMIUM, no Debian Chromium; each way of getting one recorded as it is tried."""
    monkeypatch.delenv("XUNCHA_CHROMIUM", raising=False)
    monkeypatch.setattr(find_chromium, "SYSTEM_CHROMIUM", str(tmp_path / "no-chromium"))
    tried = []
    for name in ("playwright_chromium", "install_with_playwright", "install_with_apt"):
        monkeypatch.setattr(find_chromium, name, lambda name=name: tried.append(name))
    return tried


def fake_binary(tmp_path, name="chrome"):  # noqa: ANN001, ANN201
    path = tmp_path / name
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_xuncha_chromium_comes_first_and_must_be_executable(nowhere, monkeypatch, tmp_path, capsys):
    chosen = fake_binary(tmp_path)
    monkeypatch.setenv("XUNCHA_CHROMIUM", str(chosen))
    assert find_chromium.main() == 0
    assert capsys.readouterr().out == f"{chosen}\n"

    chosen.chmod(0o644)
    assert find_chromium.main() == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and f"XUNCHA_CHROMIUM={chosen}" in err
    assert nowhere == []


def test_debian_chromium_before_any_download(nowhere, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(find_chromium, "SYSTEM_CHROMIUM", str(fake_binary(tmp_path, "chromium")))
    assert find_chromium.main() == 0
    assert capsys.readouterr().out == f"{tmp_path / 'chromium'}\n" and nowhere == []


def test_playwright_then_apt_then_one_line(nowhere, capsys):
    assert find_chromium.main() == 1
    assert nowhere == ["playwright_chromium", "install_with_playwright", "install_with_apt"]
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "Chromium not found" in err and "apt-get install -y chromium" in err and "playwright install chromium" in err


def test_the_first_way_that_works_is_used(nowhere, monkeypatch, tmp_path, capsys):
    got = fake_binary(tmp_path)
    monkeypatch.setattr(find_chromium, "install_with_playwright", lambda: nowhere.append("download") or str(got))
    assert find_chromium.main() == 0
    assert capsys.readouterr().out == f"{got}\n" and nowhere == ["playwright_chromium", "download"]


def test_apt_only_as_root(monkeypatch):
    monkeypatch.setattr(find_chromium.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(find_chromium, "run", lambda *a, **kw: pytest.fail("apt-get run without root"))
    assert find_chromium.install_with_apt() is None


def test_a_hanging_command_is_stopped_with_its_children():
    hang = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            "print('Error: still trying', flush=True); time.sleep(60)")
    ok, why = find_chromium.run([sys.executable, "-c", hang], seconds=1)
    assert not ok and why == "no result after 1 s"  # the grandchild held the pipe: it was killed too


def test_a_failed_command_names_its_first_error():
    ok, why = find_chromium.run([sys.executable, "-c", "print('Downloading'); print('Error: getaddrinfo ENOTFOUND'); "
                                                       "print('    at somewhere'); raise SystemExit(1)"], seconds=30)
    assert (ok, why) == (False, "Error: getaddrinfo ENOTFOUND")
