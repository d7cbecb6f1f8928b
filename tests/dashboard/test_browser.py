"""The dashboard in headless Chromium: the shipped plan as the task force sees it on the wall and on a phone.

Debian's chromium and chromium-driver, driven by Selenium, against a real
uvicorn on loopback serving the shipped register at a fixed moment (the
morning of 23 November 2026). Chromium is started with its background
networking off, and the tests read its network log: every request it makes
must go to the server on 127.0.0.1. A screenshot of the board is saved to
test-artifacts/ (TRACKER_TEST_ARTIFACTS elsewhere).

On a machine without Chromium these tests skip; where CI is set they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import Tracker
from tests.dashboard.conftest import MEETING, serving
from tracker.register import load_register

ARTIFACTS = Path(os.environ.get("TRACKER_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--force-device-scale-factor=1",
)


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser and driver:
        return browser, driver
    if os.environ.get("CI"):
        pytest.fail("Chromium and ChromeDriver are required in CI (apt-get install chromium chromium-driver)")
    pytest.skip("Chromium or ChromeDriver is not installed (Debian: apt-get install chromium chromium-driver)")


@pytest.fixture(scope="module")
def driver() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, chromedriver = _chromium()
    profile = tempfile.mkdtemp(prefix="tracker-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1280,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    chrome = webdriver.Chrome(service=Service(chromedriver), options=options)
    try:
        yield chrome
    finally:
        chrome.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped register, synced, served at the meeting's moment; yields the base URL."""
    url = f"sqlite:///{tmp_path_factory.mktemp('shipped') / 'tracker.db'}"
    Tracker(url).ok("sync")
    with serving(url, MEETING) as base:
        yield base


def requested_urls(chrome: object) -> list[str]:
    """Every URL Chromium asked for since the log was last read (its DevTools network events)."""
    urls = []
    for entry in chrome.get_log("performance"):  # type: ignore[attr-defined]
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def css(chrome: object, selector: str) -> list[object]:
    from selenium.webdriver.common.by import By

    return chrome.find_elements(By.CSS_SELECTOR, selector)  # type: ignore[attr-defined]


def follow(chrome: object, element: object) -> None:
    """Click a link or a submit button and wait until the next page has replaced this one."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    page = chrome.find_element("tag name", "html")  # type: ignore[attr-defined]
    element.click()  # type: ignore[attr-defined]

    def replaced(_chrome: object) -> bool:
        # Stale, or (Chromium, mid-navigation) "Node with given id does not belong to the document": gone either way.
        try:
            page.is_enabled()  # type: ignore[attr-defined]
        except WebDriverException:  # StaleElementReferenceException is one
            return True
        return False

    WebDriverWait(chrome, 20).until(replaced)
    WebDriverWait(chrome, 20).until(
        lambda c: c.execute_script("return document.readyState") == "complete")


def test_the_board_shows_the_shipped_plan_with_one_timeline_row_per_deliverable(driver, shipped: str) -> None:
    requested_urls(driver)  # start the network log here
    driver.get(shipped + "/")
    register = load_register()
    assert driver.find_element("tag name", "h1").text == "Kræftplan V: status pr. 23. november 2026"
    assert driver.find_element("tag name", "html").get_attribute("lang") == "da"
    rows = css(driver, "svg.timeline g.row")
    dated = {identifier for identifier, deliverable in register.deliverables.items()
             if deliverable.occurrences()[0].deadline is not None}
    assert len(rows) == len(dated) < len(register.deliverables)
    assert {row.get_attribute("data-id") for row in rows} == dated
    # The undated commitments are listed apart, under "Uden frist", each once.
    undated = css(driver, "ul.undated li")
    assert driver.find_element("id", "undated").text == "Uden frist"
    assert sorted(item.get_attribute("data-id") for item in undated) == sorted(set(register.deliverables) - dated)
    # Every row is drawn: a label and at least one due-day mark with a real size on the page.
    for row in rows[:5] + rows[-5:]:
        marks = row.find_elements("css selector", ".due")
        assert marks and all(mark.size["width"] > 0 for mark in marks)
    overdue_rows = css(driver, "table.deadlines tr.overdue")
    overdue_count = int(css(driver, ".count.overdue .number")[0].text)
    assert overdue_count == len(overdue_rows) > 0
    assert len(css(driver, "svg.timeline g.row.has-overdue")) == len({row.get_attribute("data-id")
                                                                     for row in overdue_rows})
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(height, 4000))
    screenshot = ARTIFACTS / "dashboard.png"
    assert driver.save_screenshot(str(screenshot))
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 50_000
    driver.set_window_size(1280, 900)
    requested = requested_urls(driver)
    assert shipped + "/static/dashboard.css" in requested  # the log sees the page's own requests
    # What goes over the network must go to loopback; Chromium's own pages (chrome://, chrome-untrusted://)
    # and inline data do not leave the browser.
    outside = [url for url in requested if urlsplit(url).scheme in ("http", "https", "ws", "wss", "ftp")
               and urlsplit(url).hostname != "127.0.0.1"]
    assert outside == []


def test_filters_narrow_the_table_to_what_was_asked(driver, shipped: str) -> None:
    from selenium.webdriver.support.ui import Select

    register = load_register()
    driver.get(shipped + "/")
    Select(driver.find_element("id", "f-party")).select_by_value("sst")
    follow(driver, driver.find_element("css selector", ".filters button[type=submit]"))
    shown = {row.get_attribute("data-id") for row in css(driver, "table.deadlines tbody tr")}
    sst = {ident for ident, item in register.deliverables.items() if "sst" in (item.owner, *item.co_owners)}
    assert shown and shown <= sst and "party=sst" in driver.current_url
    assert Select(driver.find_element("id", "f-party")).first_selected_option.get_attribute("value") == "sst"
    Select(driver.find_element("id", "f-overdue")).select_by_value("1")
    follow(driver, driver.find_element("css selector", ".filters button[type=submit]"))
    rows = css(driver, "table.deadlines tbody tr")
    assert rows and all(row.get_attribute("class") == "overdue" for row in rows)
    assert {row.get_attribute("data-id") for row in rows} <= sst
    assert driver.find_element("id", "shown").text.startswith(f"Viser {len(rows)} af ")
    assert {row.get_attribute("data-id") for row in css(driver, "svg.timeline g.row")} == \
        {row.get_attribute("data-id") for row in rows}


def test_a_row_leads_to_its_deliverable_page_and_english_is_one_click_away(driver, shipped: str) -> None:
    driver.get(shipped + "/?overdue=1")
    first = css(driver, "table.deadlines tbody tr")[0]
    ident = first.get_attribute("data-id")
    follow(driver, first.find_element("css selector", "a"))
    assert driver.current_url.endswith(f"/deliverables/{ident}")
    item = load_register().deliverables[ident]
    assert driver.find_element("tag name", "h1").text == item.title
    assert item.source.quote.split()[0] in driver.find_element("css selector", "figure.source blockquote").text
    follow(driver, driver.find_element("link text", "English"))
    assert driver.find_element("tag name", "html").get_attribute("lang") == "en"
    assert driver.find_element("tag name", "h1").text == item.title_en
    follow(driver, driver.find_element("link text", "Overview"))
    assert driver.find_element("tag name", "h1").text == "Cancer Plan V: status as of 23 November 2026"


def test_at_phone_width_nothing_but_the_wide_parts_scrolls_sideways(driver, shipped: str) -> None:
    driver.set_window_size(390, 844)
    try:
        driver.get(shipped + "/")
        width = driver.execute_script("return window.innerWidth")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        assert css(driver, ".count.overdue")[0].is_displayed()
        frame = css(driver, ".timeline-frame")[0]
        assert driver.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", frame)
    finally:
        driver.set_window_size(1280, 900)


# WCAG 2.x contrast of every piece of text against what is behind it (the nearest ancestor with a background).
CONTRAST = """
function lum(c) { const v = c.match(/[\\d.]+/g).slice(0, 3).map(x => { x /= 255;
  return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
  return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; }
function opaque(c) { const a = c.match(/[\\d.]+/g); return a.length < 4 || parseFloat(a[3]) > 0; }
function background(el) { for (let e = el; e; e = e.parentElement) {
  const b = getComputedStyle(e).backgroundColor; if (b && opaque(b)) return b; } return 'rgb(255, 255, 255)'; }
const failures = [];
for (const el of document.querySelectorAll('body *')) {
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || !el.getClientRects().length) continue;
  const style = getComputedStyle(el);
  const svg = el instanceof SVGElement;
  const fg = svg ? style.fill : style.color;
  if (!fg.startsWith('rgb')) continue;
  const backs = svg ? ['rgb(255, 255, 255)', 'rgb(251, 227, 227)'] : [background(el)];
  const size = parseFloat(style.fontSize), bold = parseInt(style.fontWeight) >= 700;
  const needed = (size >= 24 || (bold && size >= 18.66)) ? 3 : 4.5;
  for (const bg of backs) {
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < needed) failures.push(`${el.tagName}.${el.className.baseVal ?? el.className} "${el.textContent.trim().slice(0, 30)}" ${fg} on ${bg}: ${ratio.toFixed(2)}`);
  }
}
return failures;
"""


@pytest.mark.parametrize("path", ["/", "/?overdue=1&lang=en", "/deliverables/regional-status-til-sst"])
def test_every_text_passes_wcag_aa_contrast(driver, shipped: str, path: str) -> None:
    driver.get(shipped + path)
    assert driver.execute_script(CONTRAST) == []


# ----------------------------------------------------------------------------------------------------------------
# Per member ("i alle regioner")

REGIONS = ("region-hovedstaden", "region-sjaelland", "region-syddanmark", "region-midtjylland", "region-nordjylland")


@pytest.fixture(scope="module")
def regions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The shipped register at the meeting, where three regions have opened their late-effects clinic (due by mid
    2026), Region Sjælland's is at risk and Region Syddanmark has not begun."""
    url = f"sqlite:///{tmp_path_factory.mktemp('regions') / 'tracker.db'}"
    plan = Tracker(url)
    plan.ok("sync")
    for region in ("region-hovedstaden", "region-midtjylland", "region-nordjylland"):
        plan.ok("status", "senfoelgeklinikker-etableret", "done", "--member", region, "--note", "Klinikken er åbnet")
    plan.ok("status", "senfoelgeklinikker-etableret", "at-risk", "--member", "region-sjaelland", "--note",
            "Mangler speciallæger")
    with serving(url, MEETING) as base:
        yield base


def test_the_timeline_says_3_of_5_names_the_late_regions_and_leads_to_the_matrix(driver, regions: str) -> None:
    driver.get(regions + "/")
    row = css(driver, 'svg.timeline g.row[data-id="senfoelgeklinikker-etableret"]')[0]
    progress = row.find_element("css selector", "text.progress")
    assert progress.text == "3/5" and progress.size["width"] > 0
    late = row.find_element("css selector", "text.late-members")
    assert late.text == "⚠ 3/5 færdige, forsinket: Region Sjælland, Region Syddanmark"
    # The late line is drawn inside the row's stripe, below its label, and ends before the plot's right edge.
    stripe = row.find_element("css selector", "rect.stripe").rect
    label = row.find_element("css selector", "text.label").rect
    assert stripe["y"] <= label["y"] < late.rect["y"] < late.rect["y"] + late.rect["height"] <= \
        stripe["y"] + stripe["height"] + 1
    svg = css(driver, "svg.timeline")[0].rect
    assert late.rect["x"] + late.rect["width"] <= svg["x"] + svg["width"]
    # On hover the mark's title says it too: the tooltip a browser shows is the title's text.
    title = driver.execute_script("return arguments[0].closest('g.mark').querySelector('title').textContent",
                                  progress)
    assert title.endswith("· 3/5 færdige, forsinket: Region Sjælland, Region Syddanmark")
    # The rows below are pushed down by the extra line, not drawn over it.
    rows = css(driver, "svg.timeline g.row")
    following = rows[[r.get_attribute("data-id") for r in rows].index("senfoelgeklinikker-etableret") + 1]
    assert following.find_element("css selector", "text.label").rect["y"] >= late.rect["y"] + late.rect["height"]
    follow(driver, progress)
    assert driver.current_url == regions + "/members/regionerne"


def test_the_matrix_has_a_column_per_region_and_marks_the_late_cells(driver, regions: str) -> None:
    driver.get(regions + "/members/regionerne")
    assert driver.find_element("tag name", "h1").text == "Fordelt på medlemmerne af Regionerne"
    register = load_register()
    per_member = {ident for ident, item in register.deliverables.items() if item.per_member}
    rows = css(driver, "table.matrix tbody tr")
    assert {row.get_attribute("data-id") for row in rows} == per_member
    assert [cell.get_attribute("data-member") for cell in css(driver, "table.matrix thead th[data-member]")] == \
        list(REGIONS)
    clinics = next(row for row in rows if row.get_attribute("data-id") == "senfoelgeklinikker-etableret")
    cells = {cell.get_attribute("data-member"): cell for cell in clinics.find_elements("css selector", "td.member")}
    assert cells["region-sjaelland"].text == "i risiko, forsinket"
    assert cells["region-syddanmark"].text == "ikke påbegyndt, forsinket"
    assert cells["region-nordjylland"].text == "færdig"
    assert clinics.find_element("css selector", "td.progress").text == "3/5"
    # Marked as the timeline marks overdue: a triangle, drawn, on the overdue tint; a done part is a dot.
    triangle = cells["region-syddanmark"].find_element("css selector", "svg.mark.overdue path.due")
    assert triangle.size["width"] > 0
    assert cells["region-nordjylland"].find_elements("css selector", "svg.mark.done circle.due")
    tint = driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", cells["region-syddanmark"])
    assert tint == "rgb(251, 227, 227)"
    assert driver.execute_script(CONTRAST) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(ARTIFACTS / "members.png"))
    follow(driver, clinics.find_element("css selector", "th a"))
    assert driver.current_url == regions + "/deliverables/senfoelgeklinikker-etableret"
    members = css(driver, "table.members tbody tr")
    assert [row.get_attribute("data-member") for row in members] == list(REGIONS)
    assert "⚠ forsinket" in members[1].text and "i risiko" in members[1].text
    assert driver.execute_script(CONTRAST) == []


def test_the_matrix_in_english_and_at_phone_width(driver, regions: str) -> None:
    driver.set_window_size(390, 844)
    try:
        driver.get(regions + "/members/regionerne?lang=en")
        assert driver.find_element("tag name", "h1").text == "By member of The regions"
        assert "Region Zealand" in [cell.text for cell in css(driver, "table.matrix thead th")]
        width = driver.execute_script("return window.innerWidth")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        frame = css(driver, "table.matrix")[0].find_element("xpath", "..")
        assert driver.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", frame)
    finally:
        driver.set_window_size(1280, 900)
