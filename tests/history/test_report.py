"""The HTML report: self-contained, escaped, deterministic; and in headless Chromium,
drawn without a console error (skipped, saying why, without /usr/bin/chromium)."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import datetime
from pathlib import Path

import pytest

import triage
from triage.cli import main
from triage.history import CaseEvent, CaseStore
from triage.history.kpi import monthly_kpis
from triage.history.report import render_report
from triage.history.simulate import simulate_month

from .conftest import ROOT_ARTIFACTS, SH

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, default_policy: triage.Policy) -> Path:
    path = tmp_path_factory.mktemp("demo") / "cases.db"
    with CaseStore(path) as store:
        simulate_month(store, default_policy.triage, cases=400, seed=1)
    return path


def test_the_page_is_self_contained_and_deterministic(
        demo: Path, default_policy: triage.Policy) -> None:
    """No external URL, script or stylesheet; both charts are SVG; same KPIs, same bytes."""
    with CaseStore(demo) as store:
        kpis = monthly_kpis(store, "2026-11", calendars=default_policy.calendars)
    page = render_report(kpis)
    assert page == render_report(kpis)
    assert not re.search(r"https?://|<script|<link|@import|src=", page)
    assert page.count("<svg") == 2 and 'id="daily"' in page and 'id="categories"' in page
    assert 'class="tile ok"' in page or 'class="tile bad"' in page


def test_case_text_is_escaped(default_policy: triage.Policy) -> None:
    """A case id, team or channel with markup appears as text, never as markup."""
    decision = default_policy.triage({
        "id": "x", "channel": "phone", "text": "态度太差了，我要投诉",
        "product": {"domain": "real_estate"}, "received_at": "2026-11-23T10:00:00+08:00"})
    evil = "<img src=x onerror=alert(1)>"
    decision = dataclasses.replace(decision, owner=triage.RoleRef(evil, evil))
    with CaseStore(":memory:") as store:
        store.record_decision(decision, customer="c", case_id=f"{evil}&", channel=evil)
        store.append(CaseEvent(f"{evil}&", "answered", datetime(2026, 11, 30, tzinfo=SH)))
        page = render_report(monthly_kpis(store, "2026-11",
                                          calendars=default_policy.calendars))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;&amp;" in page


def test_report_and_kpi_commands(demo: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """triage report writes the page; triage kpi prints JSON, CSV and text; a bad store
    or month is a clean message with exit code 2."""
    out = tmp_path / "report.html"
    assert main(["report", "--store", str(demo), "--month", "2026-11", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    for fmt, start in (("json", "{"), ("csv", "month,"), ("text", "2026-11: 400 cases")):
        capsys.readouterr()
        assert main(["kpi", "--store", str(demo), "--month", "2026-11", "--format", fmt,
                     "--by", "owner"]) == 0
        assert capsys.readouterr().out.startswith(start)
    for argv, message in (
            (["kpi", "--store", str(tmp_path / "none.db"), "--month", "2026-11"],
             "triage kpi: no case store at"),
            (["kpi", "--store", "mysql://db/x", "--month", "2026-11"],
             "unknown store URL scheme 'mysql'"),
            (["kpi", "--store", str(demo), "--month", "2026-13"],
             "triage kpi: month '2026-13' is not a month; hint: write it as YYYY-MM"),
            (["report", "--store", str(demo), "--month", "2026-11", "--out",
              str(tmp_path / "no" / "dir.html")], "triage report: cannot write"),
            (["demo-month", "--out", str(demo)], "already exists")):
        capsys.readouterr()
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


@pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
                    reason=f"{CHROMIUM} and {DRIVER} are needed (Debian: apt-get install "
                           "chromium chromium-driver; .ci/run installs them)")
def test_the_report_draws_in_headless_chromium(demo: Path, tmp_path: Path) -> None:
    """The page loads with no console error, every chart's SVG has drawn elements of
    non-zero size, and a screenshot is kept in $TRIAGE_ARTIFACTS (tests/artifacts)."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    out = tmp_path / "report.html"
    assert main(["report", "--store", str(demo), "--month", "2026-11", "--out", str(out)]) == 0
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,1600",
                 "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        browser.get(out.as_uri())
        sizes = browser.execute_script(
            "return Array.from(document.querySelectorAll('svg.chart')).map(s => {"
            "const r = s.getBoundingClientRect();"
            "const drawn = Array.from(s.querySelectorAll('rect,polyline')).filter(e => {"
            "const b = e.getBBox(); return b.width > 0 && b.height > 0;}).length;"
            "return [s.id, r.width, r.height, drawn];})")
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        folder = Path(os.environ.get("TRIAGE_ARTIFACTS", ROOT_ARTIFACTS))
        folder.mkdir(parents=True, exist_ok=True)
        shot = folder / "report.png"
        assert browser.save_screenshot(str(shot))
    finally:
        browser.quit()
    assert errors == []
    assert {s[0] for s in sizes} == {"daily", "categories"}
    for name, width, height, drawn in sizes:
        assert width > 0 and height > 0 and drawn > 0, name
    assert shot.stat().st_size > 10_000
