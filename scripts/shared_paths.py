"""Where the project's shared, read-only resources live (`../shared` from the repo root: docs/training.md).

Defined once for the scoring scripts and benchmarks; importing it loads nothing else.
"""
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TOOL = SHARED / "tools" / "fid.py"  # the FID/KID tool
REAL = SHARED / "datasets" / "anime-faces-64.zip"  # the real faces
