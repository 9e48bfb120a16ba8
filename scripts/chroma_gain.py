"""A generator's ONNX file with a fixed colour gain appended: is a pale model's paleness a global shift?

    python scripts/chroma_gain.py runs/tail/p1/generator.onnx runs/p1_k1.55.onnx --gain 1.55

out = clip(Y + gain · (x − Y), −1, 1), with Y the per-pixel mean of R, G and B: the colour about the grey of
the same brightness is scaled, the brightness kept. The result keeps the app's contract (z [batch, nz] → image
[batch, 3, H, W] in [−1, 1]); a JSON file beside it (the source's, with the new sha256 and the gain) lets the app
and the scoring scripts load it. Why: batch-16 runs with colour augmentation on every image end pale (mean
saturation 52–54 against the real faces' 75.5); the twenty-seventh pass of issue #13 measured what a gain fixed by
saturation alone does to FID and to a blind count (docs/training.md). An experiment, not part of the export.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper


def add_chroma_gain(model: onnx.ModelProto, gain: float) -> onnx.ModelProto:
    """Append the gain after the graph's (single) output, which keeps its name."""
    g = model.graph
    out = g.output[0].name
    raw = out + "_before_gain"
    for node in g.node:
        node.output[:] = [raw if o == out else o for o in node.output]
    consts = {"gain_k": np.float32(gain), "gain_lo": np.float32(-1), "gain_hi": np.float32(1),
              "gain_axes": np.array([1], np.int64)}
    g.initializer.extend(numpy_helper.from_array(np.asarray(v), k) for k, v in consts.items())
    g.node.extend([
        helper.make_node("ReduceMean", [raw, "gain_axes"], ["gain_luma"], keepdims=1),  # opset >= 18 form
        helper.make_node("Sub", [raw, "gain_luma"], ["gain_chroma"]),
        helper.make_node("Mul", ["gain_chroma", "gain_k"], ["gain_scaled"]),
        helper.make_node("Add", ["gain_luma", "gain_scaled"], ["gain_sum"]),
        helper.make_node("Clip", ["gain_sum", "gain_lo", "gain_hi"], [out]),
    ])
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", type=Path, help="generator .onnx (with its .json beside it)")
    p.add_argument("out", type=Path, help=".onnx file to write")
    p.add_argument("--gain", type=float, required=True, help="colour gain (1 = unchanged)")
    a = p.parse_args(argv)
    model = onnx.load(str(a.source))
    if max(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")) < 18:
        p.error(f"{a.source}: needs opset 18 or later (ReduceMean with axes as an input)")
    onnx.save(add_chroma_gain(model, a.gain), str(a.out))
    meta = json.loads(a.source.with_suffix(".json").read_text())
    meta.update(sha256=hashlib.sha256(a.out.read_bytes()).hexdigest(), onnx=a.out.name,
                chroma_gain={"gain": a.gain, "source": str(a.source)})
    # The SeFa directions come from the first layer's weights, which the gain leaves alone: they still hold.
    dfile = (meta.get("directions") or {}).get("file")
    if dfile and (a.source.parent / dfile).is_file():
        copy = a.out.with_suffix(".directions.npy")
        if copy.resolve() != (a.source.parent / dfile).resolve():
            shutil.copyfile(a.source.parent / dfile, copy)
        meta["directions"] = {**meta["directions"], "file": copy.name}
    else:
        meta["directions"] = None
    a.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {a.out} (colour gain {a.gain:g})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
