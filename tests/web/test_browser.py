"""The workbench in headless Chromium (Debian's /usr/bin/chromium and chromedriver, never a
downloaded browser): paste a complaint and see the marked words; make a typo in a rule and
see the error at its line; fix it, save, run the cases, publish, and see the next triage
use the new version. Screenshots are kept in $TRIAGE_ARTIFACTS (tests/artifacts)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import need_web

need_web()

from triage.web import ServeOptions, create_app  # noqa: E402

from .conftest import COMPLAINT, ROOT_ARTIFACTS, running  # noqa: E402

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
    reason=f"{CHROMIUM} and {DRIVER} are needed (Debian: apt-get install chromium "
           "chromium-driver; .ci/run installs them)")


@pytest.fixture
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service  # noqa: PLC0415

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-dev-shm-usage",
                 "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(driver: Any, test: Callable[[Any], Any], seconds: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: PLC0415

    return WebDriverWait(driver, seconds).until(test)


def _shot(driver: Any, name: str) -> Path:
    folder = Path(os.environ.get("TRIAGE_ARTIFACTS", ROOT_ARTIFACTS))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    assert driver.save_screenshot(str(path))
    return path


def _try(driver: Any, base: str) -> None:
    from selenium.webdriver.common.by import By  # noqa: PLC0415
    from selenium.webdriver.support.ui import Select  # noqa: PLC0415

    driver.get(f"{base}/try")
    driver.find_element(By.ID, "complaint-text").send_keys(COMPLAINT["text"])
    Select(driver.find_element(By.NAME, "domain")).select_by_value("auto_dealer")
    driver.find_element(By.NAME, "received_at").send_keys(COMPLAINT["received_at"])
    driver.find_element(By.NAME, "draft").send_keys("这个我不知道。请再等等吧。")
    driver.find_element(By.ID, "try-submit").click()
    _wait(driver, lambda d: d.find_elements(By.ID, "highlighted"))


def _type(driver: Any, text: str) -> None:
    """Replace the editor's text as a paste would, firing the input event."""
    driver.execute_script(
        "const s = document.getElementById('source'); s.value = arguments[0];"
        "s.dispatchEvent(new Event('input', {bubbles: true}));", text)


def test_an_author_tries_edits_tests_and_publishes(browser: Any, folder: Path) -> None:
    """The whole loop in the browser, with no console error (but the refused save)."""
    from selenium.webdriver.common.by import By  # noqa: PLC0415

    app = create_app(folder, ServeOptions())
    with running(app) as base:
        _try(browser, base)
        marked = [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#highlighted mark")]
        assert "12315" in marked and len(marked) >= 3
        old = browser.find_element(By.ID, "decision-version").text
        assert browser.find_elements(By.CSS_SELECTOR, "#draft mark.bad")
        _shot(browser, "workbench-try.png")

        link = browser.find_element(By.CSS_SELECTOR, "a.where[href*='severity.yaml']")
        link.click()
        _wait(browser, lambda d: d.find_element(By.ID, "file-name").text == "severity.yaml")
        source = (folder / "severity.yaml").read_text(encoding="utf-8")
        _type(browser, source.replace("    rules:", "    rulez:", 1))
        item = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#problems li.here"))
        assert "rules/severity.yaml:5:5" in item[0].text
        assert "did you mean 'rules'?" in item[0].text
        assert "\u25b65" in browser.find_element(By.ID, "gutter").text
        _shot(browser, "workbench-edit-error.png")

        browser.find_element(By.ID, "save").click()
        _wait(browser, lambda d: "没有保存" in d.find_element(By.ID, "status").text)
        assert (folder / "severity.yaml").read_text(encoding="utf-8") == source

        _type(browser, source.replace("一般缺陷", "一般的缺陷"))
        _wait(browser, lambda d: "可以加载" in d.find_element(By.ID, "status").text)
        browser.find_element(By.ID, "author").send_keys("王芳")
        browser.find_element(By.ID, "save").click()
        _wait(browser, lambda d: "已保存" in d.find_element(By.ID, "status").text)
        assert (folder / "severity.yaml").read_text(encoding="utf-8") == source  # a draft

        browser.get(f"{base}/test")
        summary = browser.find_element(By.ID, "summary").text
        passed, total = summary.split(" ")[0].split("/")
        assert passed == total and int(total) > 100

        browser.get(f"{base}/publish")
        assert "severity.yaml" in browser.find_element(By.ID, "draft-changes").text
        _shot(browser, "workbench-publish.png")
        browser.find_element(By.NAME, "author").send_keys("王芳")
        browser.find_element(By.ID, "publish").click()
        message = _wait(browser, lambda d: d.find_elements(By.ID, "publish-message"))
        assert "已发布" in message[0].text
        assert "一般的缺陷" in (folder / "severity.yaml").read_text(encoding="utf-8")

        _try(browser, base)
        new = browser.find_element(By.ID, "decision-version").text
        assert new != old
        assert new == browser.find_element(By.ID, "serving-version").text
        errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"
                  # the refused save of the typo answers 422, as it should
                  and not ("/edit/save" in e["message"] and "422" in e["message"])]
    assert errors == []
