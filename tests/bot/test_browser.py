"""The web chat in a real browser: headless Chromium (Debian's package) driven by Selenium,
against `dreamface run` started as a user would start it.

Scenario: type "새 얼굴" and see a face, open the eyes grid, pick 3, upload a face photo, morph
at 0.7 with a gallery face, undo. With DREAMFACE_WEB_SCREENSHOT=path the final page is saved
there (docs/web_chat.png is made this way).

Needs /usr/bin/chromium and /usr/bin/chromedriver (scripts/bootstrap.sh installs them as root).
With CI=true a missing browser fails the test; elsewhere it is skipped with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import IN_CI, TESTDATA
from web_process import dreamface_run

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# no network traffic of its own, no GPU, a throwaway profile (the machine notes' launch flags)
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1000,1400", "--lang=ko-KR")
WAIT = 60


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[dev]')"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (apt-get install -y chromium chromium-driver; scripts/bootstrap.sh does it)"
    return None


@pytest.fixture
def driver(tmp_path):
    missing = _browser_missing()
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true but the browser test cannot run: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.add_experimental_option("prefs", {"intl.accept_languages": "ko-KR,ko"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield browser
    browser.quit()


class ChatPage:
    """The chat page as a user sees it."""

    def __init__(self, driver) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait
        self.driver = driver
        # the page re-renders messages under a wait: an element found just before is stale, so look again
        self.wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))

    def _find_all(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def type(self, text: str) -> None:
        from selenium.webdriver.common.keys import Keys
        box = self._find_all("#text")[0]
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def bot_messages(self) -> list:
        return self._find_all(".log .msg.bot")

    def results(self) -> list:
        """Bot messages showing a picture (faces and grids)."""
        return self._find_all(".log .msg.bot img")

    def wait_for_more_results(self, before: int) -> str:
        """Waits for a new picture to arrive; returns the text of the message holding it."""
        self.wait.until(lambda _: len(self.results()) > before,
                        message=f"no new picture arrived: {self.last_texts()}")
        return self.results()[-1].find_element("xpath", "ancestor::div[contains(@class, 'bubble')]").text

    def wait_for_text(self, fragment: str) -> None:
        self.wait.until(lambda _: any(fragment in t for t in self.last_texts()),
                        message=f"no message with {fragment!r}: {self.last_texts()}")

    def last_texts(self, n: int = 4) -> list[str]:
        """The texts of the last n bot messages, read in one script: the page may re-render a
        message between finding it and reading it (a stale element), and these texts also go
        into wait messages, which are built before the wait starts."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('.log .msg.bot')].slice(-arguments[0]).map(m => m.innerText)", n)

    def settle_for_screenshot(self) -> None:
        """A tall window showing most of the conversation, the pointer off the buttons."""
        from selenium.webdriver.common.action_chains import ActionChains
        self.driver.set_window_size(1000, 2200)
        ActionChains(self.driver).move_to_element(self._find_all("#text")[0]).perform()
        self.driver.execute_script("document.getElementById('log').scrollTop = 1e9")

    def wait_online(self) -> None:
        self.wait.until(lambda d: "online" in d.find_element("id", "status").get_attribute("class"),
                        message="the page never connected its websocket")

    def press(self, label: str) -> None:
        buttons = [b for b in self._find_all(".log .msg.bot .buttons button") if b.text == label]
        assert buttons, f"no button {label!r} on the page"
        buttons[-1].click()


def test_build_a_face_in_the_browser(driver, tmp_path):
    with dreamface_run(tmp_path) as url:
        driver.get(url)
        page = ChatPage(driver)
        page.wait.until(lambda d: "online" in d.find_element("id", "status").get_attribute("class"),
                        message="the page never connected its websocket")

        page.type("새 얼굴")
        page.wait_for_text("AI")                       # the first-use notice, once
        page.press("알겠어요")
        first = page.wait_for_more_results(0)
        assert "#1" in first

        page.type("눈 보여줘")
        grid = page.wait_for_more_results(1)
        assert "1" in grid and "10" in grid            # a numbered grid with its pick buttons
        page.press("3")
        picked = page.wait_for_more_results(2)
        assert "#2" in picked

        upload = driver.find_element("id", "photo")
        upload.send_keys(str(TESTDATA / "obama_official_portrait.jpg"))
        me = page.wait_for_more_results(3)
        assert "#3" in me

        page.type("나랑 소라 0.7로 합성")
        morphed = page.wait_for_more_results(4)
        assert "70%" in morphed and "30%" in morphed    # both shares, mine first

        page.type("되돌리기")
        page.wait_for_text("되돌렸어요")
        assert "#3" in page.last_texts(1)[0]          # back to my photo face, the morph's parent

        page.settle_for_screenshot()
        shot = driver.get_screenshot_as_png()
        assert shot.startswith(b"\x89PNG")
        target = os.environ.get("DREAMFACE_WEB_SCREENSHOT")
        if target:
            Path(target).write_bytes(shot)


PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
DESKTOP = {"width": 1000, "height": 1400, "deviceScaleFactor": 1, "mobile": False}


def test_a_region_grid_on_a_phone_shows_each_candidate_at_least_120_css_px_wide(driver, tmp_path):
    """Each eyes candidate is a close-up; at a 390-px viewport every close-up spans ≥ 120 CSS px.
    With DREAMFACE_GRID_SCREENSHOTS=dir the grid is saved there at phone and desktop widths
    (docs/grid_phone.png and docs/grid_desktop.png are made this way)."""
    from facegen.backends import load_backend
    from facegen.sheet import close_up_layout

    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    with dreamface_run(tmp_path) as url:
        driver.get(url)
        page = ChatPage(driver)
        page.wait.until(lambda d: "online" in d.find_element("id", "status").get_attribute("class"),
                        message="the page never connected its websocket")
        assert driver.execute_script("return window.innerWidth") == 390
        page.type("새 얼굴")
        page.wait_for_text("AI")
        page.press("알겠어요")
        page.wait_for_more_results(0)
        page.type("눈 보여줘")
        page.wait_for_more_results(1)
        grid = page.results()[-1]
        page.wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", grid))
        natural_width, natural_height, shown_width = driver.execute_script(
            "const r = arguments[0]; return [r.naturalWidth, r.naturalHeight, r.getBoundingClientRect().width]", grid)

        layout = close_up_layout(10, load_backend("montage").region_box("eyes"))
        assert (natural_width, natural_height) == layout.size          # the close-up sheet, as the worker lays it out
        widths = [(cell.crop[2] - cell.crop[0]) * shown_width / natural_width for cell in layout.cells]
        assert min(widths) >= 120, f"close-ups {min(widths):.0f} CSS px wide on a 390-px phone"
        buttons = [b.text for b in grid.find_elements("xpath", "ancestor::div[contains(@class, 'bubble')]//button")]
        assert buttons == [str(k) for k in range(1, 11)]                # a button per number on the sheet

        target = os.environ.get("DREAMFACE_GRID_SCREENSHOTS")
        if target:
            for name, metrics in (("grid_phone.png", PHONE), ("grid_desktop.png", DESKTOP)):
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
                driver.execute_script("arguments[0].closest('.msg').scrollIntoView({block: 'start'})", grid)
                Path(target, name).write_bytes(driver.get_screenshot_as_png())


def _started(driver, url: str) -> ChatPage:
    """The page open and connected, past the first-use notice, with face #1 made."""
    driver.get(url)
    page = ChatPage(driver)
    page.wait_online()
    page.type("새 얼굴")
    page.wait_for_text("AI")
    page.press("알겠어요")
    assert "#1" in page.wait_for_more_results(0)
    return page


def test_nothing_is_lost_a_reload_restores_offline_typing_waits_and_a_big_photo_is_refused(driver, tmp_path):
    # every socket the page opens, so the test can drop one (emulated offline closes no open socket)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
        window.sockets = [];
        window.WebSocket = class extends WebSocket {
          constructor(...args) { super(...args); window.sockets.push(this); }
        };"""})
    with dreamface_run(tmp_path) as url:
        page = _started(driver, url)
        page.type("눈 보여줘")
        page.wait_for_more_results(1)
        page.press("3")
        assert "#2" in page.wait_for_more_results(2)

        # a reload: the current face and its ancestor come back, with their buttons
        driver.refresh()
        page.wait_online()
        page.wait_for_text("지난번에 만들던 얼굴이에요")
        page.wait.until(lambda _: len(page.results()) == 2, message=f"not restored: {page.last_texts()}")
        assert [t.split("\n")[0] for t in page.last_texts(2)] == ["#1: 새 얼굴이에요.", "#2: #1에서 눈 3번을 골랐어요."]
        assert "되돌리기" in page.last_texts(1)[0]

        # typed while offline: kept in a bubble marked "not sent", and sent once the socket is back
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                                    "downloadThroughput": -1, "uploadThroughput": -1})
        driver.execute_script("window.sockets.at(-1).close()")   # the connection drops; reconnecting fails while offline
        page.wait.until(lambda d: "online" not in d.find_element("id", "status").get_attribute("class"),
                        message="the page never noticed it was offline")
        page.type("새 얼굴 7")
        waiting = page._find_all(".msg.me.waiting")
        assert len(waiting) == 1 and "아직 안 보냈어요" in waiting[0].text
        assert driver.find_element("id", "text").get_attribute("value") == ""
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                    "downloadThroughput": -1, "uploadThroughput": -1})
        assert "#3" in page.wait_for_more_results(2)
        assert page._find_all(".msg.me.waiting") == [] and page._find_all(".msg.me .mark") == []

        # a photo over the socket's limit: refused in the page, saying the limit, and nothing sent
        big = tmp_path / "big.png"
        big.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(11 * 1024 * 1024))
        mine = len(page._find_all(".msg.me"))
        driver.find_element("id", "photo").send_keys(str(big))
        page.wait.until(lambda _: page._find_all(".notice"), message="no notice for a photo too big")
        assert "사진이 너무 커요. 10 MB까지" in page._find_all(".notice")[-1].text
        assert len(page._find_all(".msg.me")) == mine
        assert driver.find_element("id", "text").get_attribute("maxlength") == "1000"   # ground.limits.MAX_TEXT_CHARS


def test_the_history_shows_a_thumbnail_per_face_each_a_button_back_there(driver, tmp_path):
    """With DREAMFACE_HISTORY_SCREENSHOTS=dir the history is saved there at phone and desktop
    widths (docs/history_phone.png and docs/history_desktop.png are made this way)."""
    with dreamface_run(tmp_path) as url:
        page = _started(driver, url)
        page.type("눈 보여줘")
        page.wait_for_more_results(1)
        page.press("3")
        page.wait_for_more_results(2)
        page.type("나랑 소라 0.7로 합성")
        page.wait_for_more_results(3)
        page.type("더 웃게")
        page.wait_for_more_results(4)
        page.type("기록")
        page.wait.until(lambda _: page._find_all(".tiles .tile"), message=f"no history tiles: {page.last_texts()}")
        tiles = page._find_all(".tiles .tile")
        assert [t.text for t in tiles] == ["#4 고치기: 웃음 +", "#3 합성 70% 배소라", "#2 눈 3번 고르기", "#1 새 얼굴"]
        assert all(t.find_element("css selector", "img").get_attribute("naturalWidth") != "0" for t in tiles)
        assert "current" in tiles[0].get_attribute("class")
        assert "#2 눈 3번 고르기 ← #1" in page.last_texts(1)[0]

        target = os.environ.get("DREAMFACE_HISTORY_SCREENSHOTS")
        if target:
            for name, metrics in (("history_phone.png", PHONE), ("history_desktop.png", DESKTOP)):
                driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
                driver.execute_script("arguments[0].closest('.msg').scrollIntoView({block: 'end'})", tiles[0])
                Path(target, name).write_bytes(driver.get_screenshot_as_png())
            driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        before = len(page.results())
        page._find_all(".tiles .tile")[2].click()                       # #2: back there
        page.wait_for_text("#2로 왔어요")
        assert len(page.results()) > before                             # with its picture and buttons again
        assert "#2: #1에서 눈 3번을 골랐어요." in page.last_texts(1)[0]


def test_switching_language_in_the_chat_switches_the_page_too(driver, tmp_path):
    """A Korean browser; the user types "lang en": the header, chips, placeholder and buttons of
    the page follow at once, and a reload comes back in English (the restore carries the choice)."""
    with dreamface_run(tmp_path) as url:
        driver.get(url)
        page = ChatPage(driver)
        page.wait_online()
        assert driver.find_element("id", "text").get_attribute("placeholder").startswith("얼굴을 묘사")
        page.type("새 얼굴")
        page.wait_for_text("AI")
        page.press("알겠어요")
        page.wait_for_more_results(0)
        page.type("lang en")
        page.wait_for_text("I'll speak English")

        def english(d) -> bool:
            chips = [c.text for c in d.find_elements("css selector", ".chips .chip")]
            return (d.find_element("id", "text").get_attribute("placeholder").startswith("Describe a face")
                    and d.find_element("id", "send").text == "Send" and "new face" in chips
                    and d.find_element("tag name", "html").get_attribute("lang") == "en")
        page.wait.until(english, message="the page's own words stayed Korean")
        driver.find_elements("css selector", ".chips .chip")[0].click()   # "new face", sent by the new chip
        page.wait_for_more_results(1)
        driver.refresh()
        page.wait_online()
        page.wait.until(english, message="a reload went back to the browser's Korean")
