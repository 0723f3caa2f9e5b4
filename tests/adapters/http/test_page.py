"""The web page in a real headless Chromium (Debian's chromium and chromium-driver, driven by selenium): what is
indexed and example questions before the first question; ask, see the answer with its [n] linked to its cards,
only the quoted sentence highlighted, open the cited article with the quoted line highlighted and in view;
follow up, abstain; a blank question and a server that cannot be reached get a clear line; a feed entry's link
can be clicked; the focus ring shows; at 360 px nothing wraps or runs off; no request fails (favicon included);
article text stays text; and axe-core finds no serious or critical accessibility violation."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from qa.embedding import Embedder
from qa.index.local import ingest_paths
from tests.support.article_files import rss
from tests.support.paths import SEEDS
from tests.support.serve_process import Serving, request
from tests.support.slack_process import qa_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver "
                                                                  "(.ci/run installs them)")
AXE = Path(__file__).resolve().parents[2] / "support" / "axe"
HOSTILE = """date 2025-02-20 Nairobi
Harbour pilots strike

Harbour pilots in <script>window.__pwned = 1</script> Lamu went on strike over unpaid <img src=x onerror="window.__pwned = 2"> allowances on Thursday.
"""
FEED = rss([("galana-1", "Galana irrigation scheme expands", "Mon, 03 Mar 2025 08:00:00 GMT",
             "<p>The Galana irrigation scheme will cover 10,000 acres of maize by 2026, officials said.</p>")])
QUESTION = "Who did Ruto call in January 2025?"


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[str]:
    home = tmp_path_factory.mktemp("page")
    corpus = home / "articles"
    shutil.copytree(SEEDS, corpus)
    (corpus / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    (corpus / "farming.xml").write_text(FEED, encoding="utf-8")
    ingest_paths([corpus], home / "idx", embedder)
    running = Serving(["--index", str(home / "idx")], qa_env(home))
    try:
        yield running.wait_ready()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=360,800",
                "--hide-scrollbars"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_window_size(360, 800)
    try:
        yield driver
    finally:
        driver.quit()


def _open(d: Any, url: str, width: int = 360) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d.set_window_size(width, 800)
    d.get(url + "/")
    WebDriverWait(d, 30).until(lambda _: d.find_elements(By.CSS_SELECTOR, "#examples .example"))


def _ask(d: Any, question: str) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    turns = len(d.find_elements(By.CSS_SELECTOR, ".turn"))
    box = d.find_element(By.ID, "question")
    box.send_keys(question, Keys.ENTER)
    WebDriverWait(d, 60).until(lambda _: len(d.find_elements(By.CSS_SELECTOR, ".turn")) > turns)
    turn = d.find_elements(By.CSS_SELECTOR, ".turn")[0]
    WebDriverWait(d, 60).until(lambda _: turn.find_elements(By.CSS_SELECTOR, ".answer, .error"))
    WebDriverWait(d, 5).until(ec.visibility_of(turn))
    return turn


def _color(d: Any, element: Any, prop: str = "color") -> str:
    return str(d.execute_script(f"return getComputedStyle(arguments[0]).{prop}", element))


def _axe(d: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds in the page as it is now."""
    if not d.execute_script("return typeof window.axe !== 'undefined'"):
        d.execute_script((AXE / "axe.min.js").read_text(encoding="utf-8"))
    d.set_script_timeout(60)
    result = d.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then((r) => done(r.violations), (e) => done(String(e)));")
    assert isinstance(result, list), result
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result if v["impact"] in ("serious", "critical")]


def test_the_vendored_axe_core_is_the_one_its_readme_names() -> None:
    said = re.search(r"sha256 of `axe.min.js`: ([0-9a-f]{64})", (AXE / "README.md").read_text(encoding="utf-8"))
    assert said and hashlib.sha256((AXE / "axe.min.js").read_bytes()).hexdigest() == said.group(1)
    assert (AXE / "LICENSE").read_text(encoding="utf-8").startswith("Mozilla Public License, version 2.0")


def test_the_empty_page_says_what_is_indexed_and_offers_questions_that_get_answers(browser: Any,
                                                                                  page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    _open(d, page_url)
    status, listing = request(page_url + "/api/sources")
    assert status == 200
    dates = sorted(s["date"] for s in listing["sources"] if s["date"])
    said = d.find_element(By.ID, "indexed").text
    assert said == f"{len(listing['sources'])} articles indexed, dated {dates[0]} to {dates[-1]}. Try:", said
    examples = d.find_elements(By.CSS_SELECTOR, "#examples .example")
    assert len(examples) == 3 and all(e.text.startswith("What do the articles say about") for e in examples)
    assert _axe(d) == []
    example = examples[0].text
    examples[0].click()
    WebDriverWait(d, 60).until(lambda _: d.find_elements(By.CSS_SELECTOR, ".turn .answer, .turn .error"))
    turn = d.find_elements(By.CSS_SELECTOR, ".turn")[0]
    assert turn.find_element(By.CSS_SELECTOR, ".question").text == example
    assert not turn.find_elements(By.CSS_SELECTOR, ".abstain, .error"), turn.text  # an example gets an answer
    assert not d.find_element(By.ID, "welcome").is_displayed()


def test_ask_open_the_cited_article_follow_up_and_abstain(browser: Any, page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    _open(d, page_url)
    turn = _ask(d, QUESTION)
    answer = turn.find_element(By.CSS_SELECTOR, ".answer")
    assert "Marco Rubio" in answer.text and "[1]" in answer.text
    cards = turn.find_elements(By.CSS_SELECTOR, ".card")
    assert len(cards) == 3
    assert re.match(r"\[1\] \S*/00[34]_\w+\.txt, lines? \d", cards[0].text), cards[0].text
    # a titled article's card is headed by its title, with its file below
    titled = [c for c in cards if "President Ruto Holds Strategic Call with Trump" in c.text]
    assert titled and all(re.match(r"\[\d\] President Ruto Holds", c.text) for c in titled)
    # only what the answer quotes is highlighted; the rest of the text is the text's colour, not a link's
    quoted = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    for c in cards:
        n = int(c.get_attribute("id").rsplit("-", 1)[1])
        assert bool(c.find_elements(By.TAG_NAME, "mark")) == (n in quoted), c.text
        assert _color(d, c.find_element(By.CSS_SELECTOR, ".quote")) == _color(d, d.find_element(By.TAG_NAME, "body"))
    # the [n] marker links to its card
    marker = answer.find_element(By.CSS_SELECTOR, "a.marker")
    assert marker.text == "[1]" and marker.get_attribute("href").endswith("#" + cards[0].get_attribute("id"))
    marker.click()
    assert d.switch_to.active_element == cards[0]
    width = d.execute_script("return document.documentElement.scrollWidth")
    assert width <= 360, "nothing runs off a 360 px screen"
    assert _axe(d) == []

    quote = cards[0].find_element(By.TAG_NAME, "mark").text
    cards[0].click()
    dialog = d.find_element(By.ID, "article")
    WebDriverWait(d, 20).until(lambda _: dialog.find_elements(By.CSS_SELECTOR, "li.hit"))
    hit = dialog.find_elements(By.CSS_SELECTOR, "li.hit")[0]
    assert quote in hit.text
    in_view = d.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;", hit)
    assert in_view
    assert _axe(d) == []
    d.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(d, 5).until(lambda _: not dialog.is_displayed())

    follow = _ask(d, "What did they say about Haiti?")
    assert "taken as" in follow.text and "Rubio" in follow.text

    d.find_element(By.ID, "new").click()  # a new conversation
    assert not d.find_elements(By.CSS_SELECTOR, ".turn")
    outside = _ask(d, "What is the boiling point of mercury?")
    assert "The articles do not answer this question." in outside.find_element(By.CSS_SELECTOR, ".answer").text


def test_a_feed_entry_is_headed_by_its_title_and_its_link_can_be_clicked(browser: Any, page_url: str) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    _open(d, page_url)
    turn = _ask(d, "How many acres will the Galana irrigation scheme cover?")
    card = turn.find_elements(By.CSS_SELECTOR, ".card")[0]
    assert card.find_element(By.CSS_SELECTOR, ".open").text == "[1] Galana irrigation scheme expands"
    link = card.find_element(By.CSS_SELECTOR, "a.entry")
    assert link.get_attribute("href") == "https://news.example/galana-1" and link.is_displayed()
    assert link.get_attribute("rel") == "noopener noreferrer"


def test_a_blank_question_and_an_unreachable_server_get_a_clear_line(browser: Any, page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser
    _open(d, page_url)
    d.find_element(By.ID, "question").send_keys("   ", Keys.ENTER)
    assert d.find_element(By.ID, "form-error").text == "Type a question first, e.g. one of the examples below."
    assert not d.find_elements(By.CSS_SELECTOR, ".turn")
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                          "uploadThroughput": -1})
    try:
        turn = _ask(d, QUESTION)
    finally:
        d.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                              "downloadThroughput": -1, "uploadThroughput": -1})
    assert turn.find_element(By.CSS_SELECTOR, ".error").text == (
        "Cannot reach the server: is qa serve still running? Ask again once it is.")
    assert d.find_element(By.ID, "form-error").text == ""


def test_focus_shows_nothing_wraps_at_360_px_and_no_request_fails(browser: Any, page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    d = browser
    d.get_log("browser")  # forget what earlier tests logged
    _open(d, page_url, 360)
    box, ask, new = (d.find_element(By.CSS_SELECTOR, s) for s in ("#question", "#ask [type=submit]", "#new"))
    rows = {round(e.rect["y"]) for e in (box, ask, new)}
    assert len(rows) == 1 and new.rect["height"] == ask.rect["height"], "the form is one row at 360 px"
    assert d.execute_script("return document.documentElement.scrollWidth") <= 360
    box.send_keys(Keys.TAB)  # keyboard focus on the Ask button: a ring you can see
    focused = d.switch_to.active_element
    assert focused == ask
    assert _color(d, focused, "outlineStyle") == "solid" and float(_color(d, focused, "outlineWidth")[:-2]) >= 2
    failed = [e["message"] for e in d.get_log("browser") if "Failed to load" in e["message"] or e["level"] == "SEVERE"]
    assert failed == []  # the favicon included


# read before the tests' environment cleanup clears every QA_ variable
SCREENSHOTS = os.environ.get("QA_PAGE_SCREENSHOTS")


@pytest.mark.skipif(not SCREENSHOTS, reason="QA_PAGE_SCREENSHOTS=FOLDER takes the README's pictures of the page")
def test_screenshots(browser: Any, seeds_index: Path, tmp_path: Path) -> None:
    """`QA_PAGE_SCREENSHOTS=docs pytest tests/adapters/http/test_page.py -k screenshots`: the page over the seeds,
    empty at 360 px, answering at 1280 and 360 px, and the cited article opened."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    folder = Path(str(SCREENSHOTS))
    running = Serving(["--index", str(seeds_index)], qa_env(tmp_path))
    try:
        url = running.wait_ready()
        _open(browser, url, 360)
        browser.save_screenshot(str(folder / "page-welcome-360.png"))
        for width in (1280, 360):
            _open(browser, url, width)
            turn = _ask(browser, QUESTION)
            browser.save_screenshot(str(folder / f"page-{width}.png"))
        turn.find_elements(By.CSS_SELECTOR, ".card")[0].click()
        WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#article li.hit"))
        browser.save_screenshot(str(folder / "page-article-360.png"))
    finally:
        running.stop()


def test_article_text_is_shown_as_text_never_run(browser: Any, page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    _open(d, page_url)
    turn = _ask(d, "Why did the Lamu harbour pilots go on strike?")
    card = turn.find_elements(By.CSS_SELECTOR, ".card")[0]
    assert "<script>" in card.text and "onerror" in card.text
    card.click()
    dialog = d.find_element(By.ID, "article")
    WebDriverWait(d, 20).until(lambda _: dialog.find_elements(By.CSS_SELECTOR, "li.hit"))
    assert "<img src=x" in dialog.find_elements(By.CSS_SELECTOR, "li.hit")[0].text
    assert d.execute_script("return window.__pwned === undefined")
    assert not d.find_elements(By.CSS_SELECTOR, "#conversation img, #article img, #conversation script")
