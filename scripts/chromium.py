"""The system Chromium that browser tests and screenshots drive through Playwright (never a downloaded one)."""
from __future__ import annotations

import os

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# headless in a container: no sandbox, no GPU, and no background traffic to Google
FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
