"""Send every public endpoint every kind of bad value, over raw HTTP, and print what each one answered.

    python scripts/bad_inputs.py                       # starts app.py on a free loopback port
    python scripts/bad_inputs.py --url http://127.0.0.1:7860/ --markdown

For each endpoint and argument: negative, fractional, huge (2**64) and text seeds, damaged face codes; counts 0, -1, 65 and 10**9;
frames 0, 1 and 10**6; t = -1, 2, NaN and text; method "cubic"; out-of-range strengths, truncations and
direction amounts; and a call with no arguments. After each bad call one good call must succeed. Exits 1 if
any bad call was not refused with a message, or any good call failed. Only talks to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.app_process import call, free_port, start_app, stop  # noqa: E402

NAN = float("nan")
SEEDS = [-1, 1.5, 2**64, "abc", None]
FACES = SEEDS + ["z.abc", "z.!!!!"]  # where a face code is also taken: damaged ones
# endpoint → good arguments, and for each argument position the bad values to try there
GOOD = {"generate": [1, 2, 1.0], "morph": [1, 2, 0.5, "slerp", 1.0], "interpolate": [1, 2, 4, "slerp", 1.0],
        "variations": [1, 0.5, 2, 0, 1.0], "directions": [1] + [0.0] * 8 + [1.0] + [0.0] * 6}
TRUNCATIONS = [0, 5, NAN]
BAD = {
    "generate": {0: SEEDS, 1: [0, -1, 65, 10**9, "many"], 2: TRUNCATIONS},
    "morph": {0: FACES, 1: FACES, 2: [-1, 2, NAN, "half"], 3: ["cubic", None], 4: TRUNCATIONS},
    "interpolate": {0: FACES, 1: FACES, 2: [0, 1, 10**6, 2.5], 3: ["cubic"], 4: TRUNCATIONS},
    "variations": {0: FACES, 1: [-1, 3, NAN], 2: [0, -1, 33, 10**9], 3: SEEDS, 4: TRUNCATIONS},
    "directions": {0: FACES, 1: [100, -100, "x", NAN], 8: [7], 9: TRUNCATIONS, 10: [100, "x", NAN]},
}


def endpoints(url: str) -> dict[str, int]:
    """Public endpoint → number of arguments, from the app's own API description."""
    info = httpx.get(f"{url}gradio_api/info", timeout=30).json()["named_endpoints"]
    return {name.lstrip("/"): len(spec["parameters"]) for name, spec in info.items()}


def run(url: str) -> list[dict]:
    """Every bad call with the answer it got, each followed by a good call."""
    arity = endpoints(url)
    good = dict(GOOD)
    rows = []
    with httpx.Client(base_url=url, timeout=120) as h:
        for name, bad in BAD.items():
            if name not in arity:
                continue
            assert len(good[name]) == arity[name], f"/{name} takes {arity[name]} arguments now; update GOOD"
            cases = [(i, v) for i, values in bad.items() for v in values] + [(None, None)]
            for i, value in cases:
                args = [] if i is None else [value if j == i else a for j, a in enumerate(good[name])]
                try:
                    event, payload = call(h, name, args)
                except httpx.HTTPError as e:
                    event, payload = "exception", repr(e)
                try:
                    message = json.loads(payload)
                    message = message.get("error", message) if isinstance(message, dict) else message
                except ValueError:
                    message = payload
                after, _ = call(h, name, good[name])
                rows.append({"endpoint": f"/{name}", "argument": "(none)" if i is None else i + 1,
                             "value": "—" if i is None else repr(value), "answer": event,
                             "message": str(message).split("\n")[0][:160], "next_good_call": after})
    return rows


def failures(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["answer"] not in ("error", "http 422") or not r["message"]
            or r["next_good_call"] != "complete"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running app (default: start app.py on a free loopback port)")
    p.add_argument("--markdown", action="store_true", help="print a table instead of JSON lines")
    a = p.parse_args(argv)
    proc = None
    url = a.url
    if not url:
        port = free_port()
        proc, url = start_app(port), f"http://127.0.0.1:{port}/"
    if not url.startswith(("http://127.", "http://localhost")):
        raise SystemExit("only this machine's loopback")
    try:
        rows = run(url)
    finally:
        if proc:
            stop(proc)
    if a.markdown:
        print("| endpoint | argument | value | answer | message | next good call |\n|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['endpoint']} | {r['argument']} | `{r['value']}` | {r['answer']} | {r['message']} | "
                  f"{r['next_good_call']} |")
    else:
        for r in rows:
            print(json.dumps(r))
    bad = failures(rows)
    print(f"{len(rows)} bad calls, {len(rows) - len(bad)} refused with a message and followed by a good call",
          file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
