"""metrics.csv (one row every --log-every steps), the loss plot drawn from it, and image scores."""
from __future__ import annotations

import csv
from pathlib import Path

import torch

from trainer.checkpoint import replace_atomically


def write_metrics(path: Path, row: dict) -> None:
    """Append one row. The file keeps one header: when a row brings new columns (a run resumed by a newer trainer),
    the file is rewritten once with the union of the columns, earlier rows left empty in the new ones, so every
    row reads back under the right name."""
    header = None
    if path.exists():
        with open(path, newline="") as f:
            header = next(csv.reader(f), None)
    if header is not None and any(k not in header for k in row):
        columns = header + [k for k in row if k not in header]
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))

        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=columns, restval="")
                w.writeheader()
                w.writerows(rows)

        replace_atomically(write, path)
        header = columns
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header or list(row), restval="")
        if header is None:
            w.writeheader()
        w.writerow(row)


def truncate_metrics(path: Path, step: int) -> int:
    """Drop the rows logged after `step` (a run killed after its last checkpoint logged steps that the
    resumed run will log again); returns how many were dropped. Rewritten atomically."""
    if not path.exists():
        return 0
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        return 0
    header, body = rows[0], rows[1:]
    col = header.index("step") if "step" in header else 0
    keep = [r for r in body if r and r[0] != "step" and r[col].isdigit() and int(r[col]) <= step]
    dropped = len([r for r in body if r and r[0] != "step"]) - len(keep)
    if dropped:
        def write(tmp: Path) -> None:
            with open(tmp, "w", newline="") as f:
                csv.writer(f).writerows([header, *keep])

        replace_atomically(write, path)
    return dropped


def plot_losses(csv_path: Path, png_path: Path) -> None:
    """Training curve (D and G loss, or the encoder's loss, vs step) from metrics.csv."""
    if not csv_path.exists():
        return
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(csv_path) as f:
        rows = [r for r in csv.DictReader(f) if r.get("step", "").isdigit()]
    if not rows:
        return
    step = [int(r["step"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=110)
    for key, label in (("loss_d", "D loss"), ("loss_g", "G loss"), ("loss", "loss")):
        if not rows[0].get(key):  # e.g. the colouriser's L1-only baseline trains no D
            continue
        ys = [float(r[key]) for r in rows]
        k = max(1, len(ys) // 50)  # light smoothing so the trend is readable
        sm = [sum(ys[max(0, i - k):i + 1]) / len(ys[max(0, i - k):i + 1]) for i in range(len(ys))]
        ax.plot(step, ys, alpha=0.25)
        ax.plot(step, sm, label=label, color=ax.lines[-1].get_color())
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(png_path)
    plt.close(fig)


def colourfulness(rgb: torch.Tensor) -> float:
    """Hasler & Süsstrunk's (2003) colourfulness of RGB images in [0, 1], on their 0–255 scale, averaged over
    images: std and mean of the opponent channels rg = R − G and yb = (R + G)/2 − B. 0 is gray; their
    "moderately colourful" starts near 33."""
    r, g, b = (rgb.float() * 255).flatten(2).unbind(1)
    rg, yb = r - g, (r + g) / 2 - b
    spread = (rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False)).sqrt()
    mean = (rg.mean(dim=1).square() + yb.mean(dim=1).square()).sqrt()
    return float((spread + 0.3 * mean).mean())
