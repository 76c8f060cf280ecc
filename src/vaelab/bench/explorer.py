"""report/explorer.html's three numbers in headless Chromium: its size, its first paint, and how
long one decode takes from the pointer event to the pixels on the canvas."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from vaelab.browser import offline_chromium

LOADS = 5  # first paint: the median of this many loads
MOVES = 60  # pointer positions along the plane's diagonal
# Paint entries are queued after the load event WebDriver waits for: poll until it is there.
FIRST_PAINT = (
    "const e = performance.getEntriesByName('first-contentful-paint')[0];"
    "return e === undefined ? null : e.startTime;"
)


def measure(page: Path) -> dict[str, Any]:
    """Bytes; median first-contentful-paint (ms from navigation); decode ms per pointer move."""
    with offline_chromium() as browser:
        paints = []
        for _ in range(LOADS):
            browser.get(page.resolve().as_uri())
            paints.append(
                WebDriverWait(browser, 10).until(lambda b: b.execute_script(FIRST_PAINT))
            )
        overlay = browser.find_element(By.ID, "overlay")
        half = overlay.size["width"] // 2
        decodes = []
        for step in range(MOVES):
            offset = round((step + 0.5) / MOVES * 2 * half) - half
            ActionChains(browser).move_to_element_with_offset(overlay, offset, offset).perform()
            decodes.append(browser.execute_script("return explorer.lastDecodeMs"))
        models = browser.execute_script("return explorer.data.models.length")
    return {
        "explorer_page_mb": page.stat().st_size / 1e6,
        "explorer_models": models,
        "explorer_first_paint_ms": statistics.median(paints),
        "explorer_decode_ms_median": statistics.median(decodes),
        "explorer_decode_ms_max": max(decodes),
    }
