"""Anime Face Generator: a Gradio UI over an ONNX DCGAN generator and an ONNX colouriser.

    python app.py                      # http://127.0.0.1:7860
    python app.py --model runs/anime/generator.onnx --colorizer runs/colorizer/colorizer.onnx --port 7861
    python app.py --model runs/anime/generator.onnx --encoder runs/encoder/encoder.onnx

Also the Hugging Face Spaces entry point (README front matter: app_file: app.py).
"""
from __future__ import annotations

import argparse
import os
import sys

from demo.colorizer import COLORIZER_ENV, ColorizerEngine
from demo.engine import MODEL_ENV, THREADS_ENV, Engine, ModelError, SettingsError, check_threads
from demo.projection import ENCODER_ENV, Projector


def port_number(value: str) -> int:
    """A TCP port, for --port and $GRADIO_SERVER_PORT."""
    try:
        port = int(str(value).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 65535, got {str(value)[:40]!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 1 to 65535, got {port}")
    return port


def threads(value: str) -> int:
    try:
        return check_threads(value)
    except SettingsError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help=f"generator .onnx (default: ${MODEL_ENV} or exported/generator.onnx)")
    p.add_argument("--colorizer", help=f"colouriser .onnx (default: ${COLORIZER_ENV} or exported/colorizer.onnx; "
                                       "without one the app runs and its Colourise tab says what is missing)")
    p.add_argument("--encoder", help=f"encoder .onnx for the Your face tab (default: ${ENCODER_ENV} or "
                                     "exported/encoder.onnx; it must be the one trained for --model)")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                   help="address to listen on (default: $GRADIO_SERVER_NAME or %(default)s)")
    p.add_argument("--port", type=port_number, default=None,
                   help="port to listen on (default: $GRADIO_SERVER_PORT or 7860)")
    p.add_argument("--threads", type=threads, default=0,
                   help=f"onnxruntime threads (default: ${THREADS_ENV} or 0 = every core)")
    p.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    a = p.parse_args(argv)
    if a.port is None:
        try:
            a.port = port_number(os.environ.get("GRADIO_SERVER_PORT", "7860"))
        except argparse.ArgumentTypeError as e:
            p.error(f"$GRADIO_SERVER_PORT {e}")
    try:
        engine = Engine(a.model, threads=a.threads or None)
    except (ModelError, SettingsError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    colorizer = None
    try:
        colorizer = ColorizerEngine(a.colorizer, threads=a.threads or None)
    except ModelError as e:
        if a.colorizer or os.environ.get(COLORIZER_ENV):  # asked for by name: a mistake worth stopping for
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"note: running without the colouriser: {e}", file=sys.stderr)
    projector, no_projector = None, ""
    try:
        projector = Projector(engine, a.encoder, threads=a.threads or None)
    except ModelError as e:
        if a.encoder or os.environ.get(ENCODER_ENV):  # asked for by name: a mistake worth stopping for
            print(f"error: {e}", file=sys.stderr)
            return 2
        print(f"note: running without Your face: {e}", file=sys.stderr)
        no_projector = f"**Your face is off:** {e}"
    from demo.ui import LAUNCH_KWARGS, build  # gradio's import is the slow part of start-up; only after the model loads

    demo = build(engine, colorizer, projector=projector, no_projector=no_projector)
    # quiet: Gradio's own banner tells people to "set share=True in launch()"; here it is a flag
    demo.launch(server_name=a.host, server_port=a.port, share=a.share, footer_links=["api"], quiet=True,
                prevent_thread_lock=True, **LAUNCH_KWARGS)
    print(f"Anime Face Generator on {demo.local_url}" + (f" and {demo.share_url}" if demo.share_url else
                                                         " (add --share for a temporary public link)"), flush=True)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
