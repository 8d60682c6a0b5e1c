"""The timeline page (``/ui``) in a real headless Chromium (selenium, the system ``chromium``/``chromedriver``)
against the real service over a lake holding the demo story."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

import tracelake

CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
DEMO = Path(tracelake.__file__).with_name("samples") / "demo.jsonl"
#: Set to a path to keep the screenshot (docs/ui-timeline.png is made this way).
KEEP_SCREENSHOT = os.environ.get("TRACELAKE_UI_SCREENSHOT")


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory: pytest.TempPathFactory, ray_local: None) -> Iterator[Any]:
    from tests.service.conftest import start_service

    lake = tracelake.connect(str(tmp_path_factory.mktemp("ui") / "lake"), embedder="hash")
    assert lake.ingest(str(DEMO)).accepted > 0
    lake.consolidate()
    running = start_service(lake)
    yield running
    running.stop()
    lake.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and DRIVER.exists()):
        pytest.skip("no headless Chromium: install the Debian packages chromium and chromium-driver "
                    "(infra/chromium.sh does it when run as root)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=DriverService(str(DRIVER)), options=options)
    yield driver
    driver.quit()


def _open(driver: Any, url: str, secret: str, tenant: str, entity: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url}/ui/")
    driver.execute_script("document.body.dataset.loaded = ''")
    for field, value in (("key", secret), ("tenant", tenant), ("entity", entity)):
        box = driver.find_element(By.ID, field)
        box.clear()
        box.send_keys(value)
    driver.find_element(By.ID, "show").click()
    WebDriverWait(driver, 60).until(
        lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-loaded")
        or d.find_element(By.ID, "message").text)


def _versions(driver: Any, predicate: str) -> list[tuple[str, str]]:
    return driver.execute_script(
        "return [...document.querySelectorAll(`#facts [data-predicate='${arguments[0]}'] .versions .v`)]"
        ".map(v => [v.textContent, v.className])", predicate)


def _distinct_colours(driver: Any, png: bytes) -> int:
    """Decode the PNG in the browser itself and count the distinct colours of a pixel sample."""
    import base64

    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1], img = new Image();
        img.onload = () => {
          const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
          const g = c.getContext('2d'); g.drawImage(img, 0, 0);
          const d = g.getImageData(0, 0, img.width, img.height).data, seen = new Set();
          for (let i = 0; i < d.length; i += 4 * 97) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
          done(seen.size);
        };
        img.onerror = () => done(-1);
        img.src = 'data:image/png;base64,' + arguments[0];""", base64.b64encode(png).decode())


def test_alice_timeline(demo_service: Any, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    secret = demo_service.key("alice", "ghost")
    _open(browser, demo_service.url, secret, "alice", "Alice")
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-loaded") == "alice/Alice"

    moves = _versions(browser, "lives_in")
    assert [name for name, _ in moves] == ["Lisbon", "Berlin", "Munich"]
    assert "current" in moves[-1][1] and all("superseded" in cls for _, cls in moves[:-1])
    bars = browser.find_elements(By.CSS_SELECTOR, "#facts [data-predicate='lives_in'] .bar")
    assert [b.text for b in bars if b.text][0] == "Lisbon" and "current" in bars[-1].get_attribute("class")
    lefts = [float(b.value_of_css_property("left").rstrip("px")) for b in bars]
    assert lefts == sorted(lefts)
    items = browser.find_elements(By.CSS_SELECTOR, "#timeline li")
    assert items and all("sources" in li.text for li in items)
    times = browser.execute_script("return tracelakeUI.state.rows.map(r => r.occurred_at)")
    assert times == sorted(times)

    # evidence: clicking Munich shows the turn it was read from
    browser.find_element(By.CSS_SELECTOR, "#facts [data-predicate='lives_in'] .versions .v.current").click()
    assert "Munich" in browser.find_element(By.ID, "evidence-body").text

    png = browser.get_screenshot_as_png()
    shot = tmp_path / "timeline.png"
    shot.write_bytes(png)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and _distinct_colours(browser, png) > 8
    if KEEP_SCREENSHOT:
        shutil.copyfile(shot, KEEP_SCREENSHOT)

    # the "as known at" slider: on 1 June the move to Berlin was only planned: Lisbon current, Berlin ahead
    browser.execute_script("""
        const s = tracelakeUI.state.span, k = Date.parse('2023-06-01T00:00:00Z'), el = document.getElementById('known-at');
        el.value = Math.round((k - s.lo) / (s.hi - s.lo) * 1000); el.dispatchEvent(new Event('input'));""")
    WebDriverWait(browser, 30).until(lambda d: [n for n, _ in _versions(d, "lives_in")] == ["Lisbon", "Berlin"])
    (_, lisbon), (_, berlin) = _versions(browser, "lives_in")
    assert "current" in lisbon and "future" in berlin


def test_empty_states(demo_service: Any, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    secret = demo_service.key("alice", "ghost")
    _open(browser, demo_service.url, secret, "alice", "Nobody At All")
    assert "No memories about" in browser.find_element(By.ID, "message").text
    assert "Nothing about" in browser.find_element(By.ID, "timeline").text
    _open(browser, demo_service.url, secret, "ghost", "Alice")
    assert "has no entities" in browser.find_element(By.ID, "message").text
    _open(browser, demo_service.url, secret, "bob", "Alice")
    assert "may not read" in browser.find_element(By.ID, "message").text
    _open(browser, demo_service.url, "tlk_0123456789ab_nope-nope-nope-nope-nope", "alice", "Alice")
    assert "API key" in browser.find_element(By.ID, "message").text


def test_ten_thousand_rows_render_paged_fast(demo_service: Any, browser: Any) -> None:
    browser.get(f"{demo_service.url}/ui/")
    took = browser.execute_script("""
        const rows = Array.from({length: 10000}, (_, i) => ({kind: 'episodic', text: 'turn number ' + i,
          actor: 'Alice', stream: 's' + (i % 7), source_event_ids: ['e' + i],
          occurred_at: new Date(1.6e12 + i * 60000).toISOString()}));
        const t0 = performance.now();
        const parsed = JSON.parse(JSON.stringify({rows}));
        tracelakeUI.renderTimeline(parsed.rows, 0);
        return performance.now() - t0;""")
    assert took < 1000, f"{took:.0f} ms"
    assert len(browser.find_elements("css selector", "#timeline li")) == 50
    assert browser.find_element("id", "page").text == "page 1 / 200"
