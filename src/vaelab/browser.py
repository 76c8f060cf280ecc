"""Headless Chromium driven by Selenium, with every host unresolvable: how the tests and the
benchmark open our offline pages as a reader's browser would, and see what they request.

Needs Debian's `chromium` and `chromium-driver` (`make browser` installs both as root).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

OFFLINE_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
)
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")


class BrowserError(RuntimeError):
    """No Chromium or no chromedriver on PATH."""


@contextmanager
def offline_chromium(width: int = 1280, height: int = 1400) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with no network, logging its console and its requests; quit after."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver is None:
        raise BrowserError(
            "headless Chromium needs `chromium` and `chromedriver` on PATH: run `make browser` "
            "as root, or `sudo apt-get install -y chromium chromium-driver` (Debian/Ubuntu)"
        )
    options = Options()
    options.binary_location = chromium
    for flag in (*OFFLINE_FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield browser
    finally:
        browser.quit()


def requested_urls(browser: webdriver.Chrome) -> list[str]:
    """Every URL the page asked for since the last call (the performance log drains)."""
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def network_requests(urls: list[str]) -> list[str]:
    """The URLs that would have left the machine."""
    return [url for url in urls if not url.startswith(LOCAL_SCHEMES)]


def console_errors(browser: webdriver.Chrome) -> list[str]:
    """Console errors and uncaught exceptions since the last call."""
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
