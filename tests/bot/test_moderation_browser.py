"""The moderator dashboard in a real browser (headless Chromium, the launcher of test_browser.py)
against `dreamface run`, with the moderator made by `dreamface mod add`: log in, filter the
generation log, hide a face, ban its user, and find both in the audit log.

With DREAMFACE_MOD_SCREENSHOT=path the audit page is saved there."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, process_env
from moderation_client import PASSWORD, seed
from storage.db import create_engine
from test_browser import WAIT, driver  # noqa: F401  (the Chromium fixture)
from web_process import dreamface_run


async def _seed(url: str):
    engine = create_engine(url)
    try:
        return await seed(engine)
    finally:
        await engine.dispose()


def test_log_in_filter_hide_ban_and_read_the_audit_log(driver, tmp_path, migrated_templates):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import JavascriptException, StaleElementReferenceException
    from selenium.webdriver.support.ui import Select, WebDriverWait

    database = tmp_path / "dreamface.db"
    shutil.copyfile(migrated_templates["sqlite"], database)
    env = process_env()
    env |= {"DREAMFACE_DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(REPO)}
    seeded = asyncio.run(_seed(env["DREAMFACE_DATABASE_URL"]))
    made = subprocess.run([sys.executable, "-m", "dreamface.cli", "mod", "add", "alice"], input=PASSWORD + "\n",
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr

    # a form post reloads the page under a wait: an element found just before is stale, so look again
    # (a script run while the page unloads throws in the page: tried again, as a stale element is)
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException, JavascriptException))
    css = lambda selector: driver.find_elements(By.CSS_SELECTOR, selector)  # noqa: E731

    def text_of(selector: str) -> str:
        """The element's text read in one round trip in the page: a page reloading after a POST
        can drop an element between finding it and reading it (Chromium then answers "Node with
        given id does not belong to the document", not a stale-element error)."""
        return driver.execute_script("const e = document.querySelector(arguments[0]); "
                                     "return e ? e.innerText : '';", selector)
    with dreamface_run(tmp_path) as url:
        driver.get(url + "mod/")
        wait.until(lambda d: "/mod/login" in d.current_url, message="no redirect to the login form")
        css("#name")[0].send_keys("alice")
        css("#password")[0].send_keys(PASSWORD)
        css("#login")[0].click()
        wait.until(lambda d: css("#generations"), message="the generation log did not open after logging in")
        assert len(css("tr.generation")) >= 6
        wait.until(lambda d: d.execute_script("const i = document.querySelector('img.thumb'); "
                                              "return i.complete && i.naturalWidth === 96"),
                   message="the first thumbnail did not load through the session")

        Select(css("#filter-platform")[0]).select_by_value("telegram")
        css("#apply-filters")[0].click()
        wait.until(lambda d: "platform=telegram" in d.current_url)
        shown = [int(row.get_attribute("data-face")) for row in css("tr.generation")]
        assert shown == sorted(seeded.faces["tg-ann"], reverse=True)

        target = shown[0]
        css(f'tr.generation[data-face="{target}"] td a')[0].click()
        wait.until(lambda d: css("#hide"))
        hide_form = css("#hide")[0].find_element(By.XPATH, "..")
        hide_form.find_element(By.NAME, "reason").send_keys("looks like a real person")
        css("#hide")[0].click()
        # the page is reloading after the POST: the status may not be there yet
        wait.until(lambda d: "hidden" in text_of("#face-status"), message="the face was not hidden")

        css("table.facts a")[0].click()   # the face's user
        wait.until(lambda d: css("#ban"))
        ban_form = css("#ban")[0].find_element(By.XPATH, "..")
        ban_form.find_element(By.NAME, "reason").send_keys("posting real people")
        css("#ban")[0].click()
        wait.until(lambda d: text_of("#user-status").strip() == "banned", message="the user was not banned")

        driver.find_element(By.LINK_TEXT, "audit log").click()
        wait.until(lambda d: css("table.audit-log"))
        rows = [(r.find_element(By.CLASS_NAME, "actor").text, r.find_element(By.CLASS_NAME, "action").text,
                 r.find_element(By.CLASS_NAME, "reason").text) for r in css("tr.audit")]
        assert rows[:2] == [("alice", "ban", "posting real people"), ("alice", "hide", "looks like a real person")]
        screenshot = os.environ.get("DREAMFACE_MOD_SCREENSHOT")
        if screenshot:
            Path(screenshot).write_bytes(driver.get_screenshot_as_png())

        css("#logout")[0].click()
        wait.until(lambda d: "/mod/login" in d.current_url)
        driver.get(url + f"mod/faces/{target}/image")
        assert "log in" in driver.page_source   # the picture's URL alone shows nothing
