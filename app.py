"""Anime Face Generator: a Gradio UI over an ONNX DCGAN generator.

    python app.py                      # http://127.0.0.1:7860
    python app.py --model path/to/generator.onnx --port 7861

Also the Hugging Face Spaces entry point (README front matter: app_file: app.py).
"""
from __future__ import annotations

import argparse
import os
import sys

from demo.engine import MODEL_ENV, Engine, ModelError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help=f"generator .onnx (default: ${MODEL_ENV} or exported/generator.onnx)")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="address to listen on")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", 7860)))
    p.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores)")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    a = p.parse_args(argv)
    try:
        engine = Engine(a.model, threads=a.threads or None)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    from demo.ui import LAUNCH_KWARGS, build  # gradio's import is the slow part of start-up; only after the model loads

    build(engine).launch(server_name=a.host, server_port=a.port, share=a.share, footer_links=["api"], **LAUNCH_KWARGS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
