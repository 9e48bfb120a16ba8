"""Screenshots of every tab of the running UI in headless Chromium (Debian's /usr/bin/chromium).

    python scripts/screenshot.py [--model exported/generator.onnx] [--out artifacts/ui]

Starts app.py on a free port, generates, picks two faces, renders a morph, opens Variations and
Directions, and saves one PNG per step — the way to look at the UI as a user sees it.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.load_test import free_port, start_app  # noqa: E402
from scripts.chromium import CHROMIUM, FLAGS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "ui"))
    p.add_argument("--width", type=int, default=1280)
    a = p.parse_args(argv)
    if a.model:
        os.environ["ANIME_GAN_MODEL"] = a.model
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_app(port)
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": a.width, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
            page.wait_for_function("() => document.querySelectorAll('#gallery img').length >= 16", timeout=30_000)
            page.wait_for_timeout(800)
            page.screenshot(path=str(out / "1_generate.png"), full_page=True)
            imgs = page.locator("#gallery img")
            imgs.nth(3).click()
            page.wait_for_timeout(400)
            page.keyboard.press("Escape")
            imgs.nth(9).click()
            page.wait_for_timeout(400)
            page.keyboard.press("Escape")
            page.wait_for_timeout(400)
            page.screenshot(path=str(out / "2_picked.png"), full_page=True)
            page.get_by_role("tab", name="Morph").click()
            page.wait_for_timeout(800)
            page.locator("#render").click()
            page.wait_for_function("() => document.querySelectorAll('#path img').length >= 16", timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "3_morph.png"), full_page=True)
            page.get_by_role("tab", name="Variations").click()
            page.get_by_role("button", name="Vary").click()
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "4_variations.png"), full_page=True)
            page.get_by_role("tab", name="Directions").click()
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "5_directions.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
