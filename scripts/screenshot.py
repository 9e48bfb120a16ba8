"""Screenshots of every tab of the running UI in headless Chromium (Debian's /usr/bin/chromium).

    python scripts/screenshot.py [--model exported/generator.onnx] [--out artifacts/ui]

Starts app.py on a free port, generates, picks two faces, renders a morph, opens Variations and
Directions, sends the edited face to Colourise, projects --picture in Your face and morphs it, and saves one PNG per step — the way to look at the UI as a user
sees it. The buttons' icons are emoji: without an emoji font (Debian: `apt-get install fonts-noto-color-emoji`) they
render as empty boxes, which most desktops and phones (they ship one) would not show.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.app_process import free_port, start_app, stop  # noqa: E402
from scripts.chromium import CHROMIUM, FLAGS  # noqa: E402


VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def open_tab(page, name: str) -> None:
    if not page.get_by_role("tab", name=name).is_visible():  # narrow screens fold the last tabs into a menu
        page.locator('button[aria-label="More tabs"]').click()
    page.get_by_role("tab", name=name).click()


def journey(page, url: str, out: Path, name: str, picture: Path | None = None) -> None:
    """A first visit: generate, pick A and B, morph and render, vary, edit, colourise, then project a picture (Your
    face) and morph it; one full-page PNG per step."""
    shot = lambda step: page.screenshot(path=str(out / f"{name}_{step}.png"), full_page=True)  # noqa: E731
    page.goto(url, wait_until="load")
    page.wait_for_function("() => document.querySelectorAll('#gallery img').length >= 16", timeout=30_000)
    # the first paint (its badges come with the faces: seed 42 is A)
    page.wait_for_function("() => document.querySelector('#gallery').innerText.includes('42 · A')", timeout=30_000)
    page.wait_for_timeout(800)
    shot("1_generate")
    imgs = page.locator("#gallery img")
    for i in (3, 9):
        imgs.nth(i).click()
        page.wait_for_function(f"() => document.querySelector('#gallery').innerText.includes('{42 + i} · {'AB'[i == 9]}')",
                               timeout=30_000)
    page.wait_for_timeout(800)
    shot("2_picked")
    page.get_by_role("tab", name="Morph").click()
    page.wait_for_timeout(1000)
    shot("3_morph")
    page.locator("#render").click()
    page.wait_for_function("() => document.querySelectorAll('#path img').length >= 16", timeout=30_000)
    page.wait_for_timeout(1500)
    shot("4_rendered")
    open_tab(page, "Variations")
    page.wait_for_timeout(1500)
    shot("5_variations")
    open_tab(page, "Edit")
    page.wait_for_timeout(1500)
    shot("6_directions")
    page.locator("#d_send").click()
    page.wait_for_function("() => [...document.querySelectorAll('#colorized img')].some(i => i.complete && i.naturalWidth)",
                           timeout=60_000)
    page.wait_for_timeout(800)
    shot("7_colourise")
    if picture is None:
        return
    open_tab(page, "Your face")
    page.locator("#y_picture input[type=file]").set_input_files(str(picture))
    page.wait_for_function("() => document.querySelector('#y_code input')?.value.startsWith('z.')", timeout=60_000)
    page.wait_for_timeout(1500)
    shot("8_yourface")
    page.locator("#y_as_a").click()
    page.wait_for_function("() => document.querySelector('#seed_a input')?.value.startsWith('z.')", timeout=30_000)
    page.wait_for_timeout(2000)
    shot("9_yourface_morph")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model")
    p.add_argument("--out", default=str(ROOT / "artifacts" / "ui"))
    p.add_argument("--picture", help="a face picture for the Your face steps (default: skip them)")
    p.add_argument("--viewports", default="desktop,phone", help="comma list of desktop (1280×900) and phone (390×844)")
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
            for name in a.viewports.split(","):
                page = browser.new_page(viewport=VIEWPORTS[name], is_mobile=name == "phone", has_touch=name == "phone")
                journey(page, f"http://127.0.0.1:{port}/", out, name, Path(a.picture) if a.picture else None)
                page.close()
            browser.close()
    finally:
        stop(proc)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
