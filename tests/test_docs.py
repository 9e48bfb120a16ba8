"""The README and docs as a newcomer uses them: every link and picture is there, every command names a module or
script that exists and every flag it passes is one that command takes, the README stays a short guide, and
scripts/README.md lists every script."""
import importlib.util
import re
from pathlib import Path

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "scripts" / "README.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors for a page's headings."""
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"(?m)^#+ (.+)$", page.read_text())}


def test_every_relative_link_and_picture_exists():
    missing = []
    for page in PAGES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+://", target) or target.startswith("mailto:"):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
                missing.append(f"{page.relative_to(ROOT)} → {target}")
    assert not missing, missing


def test_readme_is_a_short_guide():
    text = (ROOT / "README.md").read_text()
    assert len(text.encode()) < 15_000
    assert max(map(len, text.splitlines())) <= 200  # no wall-of-text lines
    for command in ("pip install -r requirements.txt && python app.py", "pip install -r requirements-dev.txt && python -m pytest"):
        assert command in text
    assert "requirements-dev.txt && python -m pytest" in (ROOT / ".ci" / "run").read_text()


def test_every_command_names_something_that_exists():
    text = "\n".join(p.read_text() for p in PAGES if p.name != "training-runs.md")
    for module in set(re.findall(r"python -m ((?:demo|trainer|benchmarks)\.\w+)", text)):
        assert importlib.util.find_spec(module) is not None, module
    for script in set(re.findall(r"python ((?:scripts|benchmarks)/[a-z_]+\.py)", text)):
        assert (ROOT / script).is_file(), script


def test_scripts_readme_lists_every_script():
    listed = set(re.findall(r"`(\w+\.(?:py|sh))`", (ROOT / "scripts" / "README.md").read_text()))
    present = {p.name for p in (ROOT / "scripts").iterdir() if p.suffix in (".py", ".sh") and p.name != "__init__.py"}
    assert listed == present, (present - listed, listed - present)


def commands(text: str) -> list[str]:
    """Each `python …` command of a page, continuation lines joined, from code blocks and inline code alike."""
    text = text.replace("\\\n", " ")
    return [m.group(1) for m in re.finditer(r"(?m)(python3? (?:-m [\w.]+|[\w/]+\.py)[^`\n|]*)", text)]


def test_every_flag_in_the_docs_is_one_its_command_takes():
    """Every --flag that a guide page passes to one of our commands is in that command's --help (the run record,
    training-runs.md, keeps the commands as they were run, so it is left out)."""
    import subprocess
    import sys

    pages = [p for p in PAGES if p.name != "training-runs.md"]
    wanted: dict[str, set[str]] = {}
    for page in pages:
        for cmd in commands(page.read_text()):
            m = re.match(r"python3? (?:-m ([\w.]+)|([\w/]+\.py))(.*)", cmd)
            target = m.group(1) or m.group(2)
            if not re.match(r"(demo|trainer|benchmarks)\.[a-z_]+$|(scripts|benchmarks)/[a-z_]+\.py$", target):
                continue  # the shared FID tool, app.py (its own test), pip
            rest = m.group(3).split(" -- ")[0]  # after " -- ": flags passed through to another command
            wanted.setdefault(target, set()).update(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", rest))
    unknown = []
    for target, flags in sorted(wanted.items()):
        argv = ["-m", target] if not target.endswith(".py") else [target]
        help_text = subprocess.run([sys.executable, *argv, "--help"], cwd=ROOT, capture_output=True, text=True,
                                   timeout=120).stdout
        for sub in re.findall(r"\{([\w,]+)\}", help_text.split("\n\n")[0])[:1]:  # subcommands: their help too
            for name in sub.split(","):
                help_text += subprocess.run([sys.executable, *argv, name, "--help"], cwd=ROOT, capture_output=True,
                                            text=True, timeout=120).stdout
        unknown += [f"{target} {f}" for f in sorted(flags) if not re.search(rf"(?<![\w-]){re.escape(f)}\b", help_text)]
    assert not unknown, unknown


PLUMBING = {"app_process.py", "chromium.py", "shared_paths.py"}  # modules the tools import, not tools


def test_every_script_answers_help():
    """scripts/README.md promises that each tool takes --help: it prints its usage and exits 0, doing nothing else."""
    import subprocess
    import sys

    bad = []
    for script in sorted((ROOT / "scripts").iterdir()):
        if script.suffix not in (".py", ".sh") or script.name in PLUMBING | {"__init__.py"}:
            continue
        cmd = ["bash", str(script), "--help"] if script.suffix == ".sh" else [sys.executable, str(script), "--help"]
        r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
        if r.returncode != 0 or "usage" not in r.stdout.lower():
            bad.append(f"{script.name}: rc {r.returncode}, {(r.stdout + r.stderr).strip()[:100]!r}")
    assert not bad, bad
