"""The obvious alternative to our server, for benchmarks.server: a minimal Gradio app over the textbook generator.

    python -m benchmarks.textbook_app --port 7861

PyTorch eager, the pytorch/examples architecture at its own width (ngf 64, 64 px), and a Gallery fed PIL
images, which Gradio then encodes and caches itself — what a first Gradio demo of a DCGAN looks like.
`/noop` returns a constant: its round trip is Gradio's own floor, the time no handler can win back.
"""
from __future__ import annotations

import argparse

import gradio as gr
import numpy as np
import torch
from PIL import Image

from demo.latents import seeds_to_z
from trainer.model import Generator, init_weights


def build(ngf: int = 64) -> gr.Blocks:
    torch.manual_seed(0)
    g = Generator(100, ngf, 64)
    init_weights(g)  # timing does not depend on the weights' values
    g.eval()

    @torch.no_grad()
    def generate(seed: float, count: float) -> list[Image.Image]:
        z = torch.from_numpy(seeds_to_z(range(int(seed), int(seed) + int(count))))
        x = ((g(z) + 1) * 127.5).clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        return [Image.fromarray(np.ascontiguousarray(f)) for f in x]

    with gr.Blocks() as demo:
        seed, count = gr.Number(0), gr.Slider(1, 64, 16, step=1)
        faces = gr.Gallery()
        out = gr.Textbox()
        gr.Button("Generate").click(generate, [seed, count], faces, api_name="generate")
        gr.Button("No-op").click(lambda: "ok", None, out, api_name="noop")
    return demo


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7861)
    a = p.parse_args(argv)
    torch.set_num_threads(2)
    build().queue().launch(server_name="127.0.0.1", server_port=a.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
