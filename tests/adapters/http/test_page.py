"""The web page in a real headless Chromium (Debian's chromium and chromium-driver, driven by selenium): ask,
see the answer and its cards, open the cited article with the quoted line highlighted and in view, ask a
follow-up, see an honest abstention, at 360 px wide and by keyboard; article text stays text."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest

from qa.embedding import Embedder
from qa.index.local import ingest_paths
from tests.support.paths import SEEDS
from tests.support.serve_process import Serving
from tests.support.slack_process import qa_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver "
                                                                  "(.ci/run installs them)")
HOSTILE = """date 2025-02-20 Nairobi
Harbour pilots strike

Harbour pilots in <script>window.__pwned = 1</script> Lamu went on strike over unpaid <img src=x onerror="window.__pwned = 2"> allowances on Thursday.
"""


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[str]:
    home = tmp_path_factory.mktemp("page")
    corpus = home / "articles"
    shutil.copytree(SEEDS, corpus)
    (corpus / "hostile.txt").write_text(HOSTILE, encoding="utf-8")
    ingest_paths([corpus], home / "idx", embedder)
    running = Serving(["--index", str(home / "idx")], qa_env(home))
    try:
        yield running.wait_ready()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=360,800"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_window_size(360, 800)
    try:
        yield driver
    finally:
        driver.quit()


def _ask(driver: object, question: str) -> object:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    turns = len(driver.find_elements(By.CSS_SELECTOR, ".turn"))  # type: ignore[attr-defined]
    box = driver.find_element(By.ID, "question")  # type: ignore[attr-defined]
    box.send_keys(question, Keys.ENTER)
    WebDriverWait(driver, 60).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".turn")) > turns)
    turn = driver.find_elements(By.CSS_SELECTOR, ".turn")[0]  # type: ignore[attr-defined]
    WebDriverWait(driver, 60).until(lambda d: turn.find_elements(By.CSS_SELECTOR, ".answer, .error"))
    WebDriverWait(driver, 5).until(ec.visibility_of(turn))
    return turn


def test_ask_open_the_cited_article_follow_up_and_abstain(browser: object, page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    d.get(page_url + "/")  # type: ignore[attr-defined]
    turn = _ask(d, "Who did Ruto call in January 2025?")
    answer = turn.find_element(By.CSS_SELECTOR, ".answer").text
    assert "Marco Rubio" in answer and "[1]" in answer
    cards = turn.find_elements(By.CSS_SELECTOR, ".card")
    assert len(cards) == 3
    assert re.match(r"\[1\] \S*/00[34]_\w+\.txt, lines? \d", cards[0].text), cards[0].text
    width = d.execute_script("return document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert width <= 360, "nothing runs off a 360 px screen"

    quoted = cards[0].find_element(By.TAG_NAME, "mark").text
    cards[0].click()
    dialog = d.find_element(By.ID, "article")  # type: ignore[attr-defined]
    WebDriverWait(d, 20).until(lambda _: dialog.find_elements(By.CSS_SELECTOR, "li.hit"))
    hit = dialog.find_elements(By.CSS_SELECTOR, "li.hit")[0]
    assert quoted in hit.text
    in_view = d.execute_script(  # type: ignore[attr-defined]
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;", hit)
    assert in_view
    shot = os.environ.get("QA_PAGE_SCREENSHOT")
    if shot:
        d.save_screenshot(shot)  # type: ignore[attr-defined]
    d.switch_to.active_element.send_keys(Keys.ESCAPE)  # type: ignore[attr-defined]
    WebDriverWait(d, 5).until(lambda _: not dialog.is_displayed())

    follow = _ask(d, "What did they say about Haiti?")
    assert "taken as" in follow.text and "Rubio" in follow.text

    d.find_element(By.ID, "new").click()  # a new conversation  # type: ignore[attr-defined]
    assert not d.find_elements(By.CSS_SELECTOR, ".turn")  # type: ignore[attr-defined]
    outside = _ask(d, "What is the boiling point of mercury?")
    assert "The articles do not answer this question." in outside.find_element(By.CSS_SELECTOR, ".answer").text


def test_article_text_is_shown_as_text_never_run(browser: object, page_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    d = browser
    d.get(page_url + "/")  # type: ignore[attr-defined]
    turn = _ask(d, "Why did the Lamu harbour pilots go on strike?")
    card = turn.find_elements(By.CSS_SELECTOR, ".card")[0]
    assert "<script>" in card.text and "onerror" in card.text
    card.click()
    dialog = d.find_element(By.ID, "article")  # type: ignore[attr-defined]
    WebDriverWait(d, 20).until(lambda _: dialog.find_elements(By.CSS_SELECTOR, "li.hit"))
    assert "<img src=x" in dialog.find_elements(By.CSS_SELECTOR, "li.hit")[0].text
    assert d.execute_script("return window.__pwned === undefined")  # type: ignore[attr-defined]
    assert not d.find_elements(By.CSS_SELECTOR, "#conversation img, #article img, #conversation script")  # type: ignore[attr-defined]
