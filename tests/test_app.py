"""The app launched on 127.0.0.1 and called like a user's script would: gradio_client and raw HTTP."""
import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from demo.ui import SCALE
from scripts.load_test import call_url as raw_call
from tests.conftest import launched, serving


@pytest.fixture(scope="module")
def server(exported_model):
    with serving(exported_model) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_api_endpoint_names(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/generate", "/morph", "/interpolate", "/variations"} <= names  # + /directions when the model has useful ones
    assert not any(n.rstrip("0123456789").endswith("_") for n in names), names  # no "/generate_1" shadowing


def test_generate(client):
    out = client.predict(10, 5, api_name="/generate")
    assert [o["caption"] for o in out] == ["10", "11", "12", "13", "14"]
    first = pixels(out[0]["image"])
    assert first.shape == (32 * SCALE, 32 * SCALE, 3) and out[0]["image"].endswith(".jpg")
    again = client.predict(12, 1, api_name="/generate")
    assert np.array_equal(pixels(again[0]["image"]), pixels(out[2]["image"]))  # face i = seed + i


def test_morph_endpoints(client):
    a = pixels(client.predict(3, 1, api_name="/generate")[0]["image"])
    assert np.array_equal(pixels(client.predict(3, 9, 0.0, api_name="/morph")), a)
    mid = pixels(client.predict(3, 9, 0.5, api_name="/morph"))
    assert mid.shape == a.shape and not np.array_equal(mid, a)


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolate(client, method):
    frames, gif = client.predict(3, 9, 6, method, api_name="/interpolate")
    assert len(frames) == 6
    a = pixels(client.predict(3, 1, api_name="/generate")[0]["image"])
    b = pixels(client.predict(9, 1, api_name="/generate")[0]["image"])
    assert np.array_equal(pixels(frames[0]["image"]), a)
    assert np.array_equal(pixels(frames[-1]["image"]), b)
    anim = Image.open(gif)
    assert anim.format == "GIF" and anim.n_frames == 2 * 6 - 2  # A→B→A, turning frames once


def test_variations(client):
    out = client.predict(3, 0.5, 4, 0, api_name="/variations")
    assert len(out) == 5 and "original" in out[0]["caption"]


BAD = [
    ("/generate", (-1, 4), "seed must be from 0"),
    ("/generate", (2**64, 4), "seed must be from 0"),
    ("/generate", ("abc", 4), "whole number"),
    ("/generate", (1.5, 4), "whole number"),
    ("/generate", (1, 0), "count must be from 1 to 64"),
    ("/generate", (1, -1), "count must be from 1 to 64"),
    ("/generate", (1, 65), "count must be from 1 to 64"),
    ("/generate", (1, 10**9), "count must be from 1 to 64"),
    ("/generate", (None, 4), "seed is missing"),
    ("/morph", (1, 2, -1), "t must be from 0 to 1"),
    ("/morph", (1, 2, 2), "t must be from 0 to 1"),
    ("/morph", (1, 2, "nan"), "finite"),  # JSON has no NaN; raw HTTP sends a literal one below
    ("/morph", (1, 2, "half"), "t must be a number"),
    ("/interpolate", (1, 2, 0, "slerp"), "frames must be from 2 to 64"),
    ("/interpolate", (1, 2, 1, "slerp"), "frames must be from 2 to 64"),
    ("/interpolate", (1, 2, 10**6, "slerp"), "frames must be from 2 to 64"),
    ("/interpolate", (1, 2, 8, "cubic"), "method must be one of slerp, lerp"),
]


@pytest.mark.parametrize("endpoint,args,message", BAD)
def test_bad_values_get_clear_errors_and_server_survives(client, endpoint, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=endpoint)
    assert len(client.predict(1, 2, api_name="/generate")) == 2  # still serving


def test_raw_http(server):
    # raw HTTP must send every input (gradio_client fills the optional ones from the UI defaults)
    event, payload = raw_call(server, "generate", [5, 3, 1.0])
    assert event == "complete"
    gallery = json.loads(payload)[0]
    assert [g["caption"] for g in gallery] == ["5", "6", "7"]
    event, payload = raw_call(server, "generate", [5, "many", 1.0])
    assert event == "error" and "count must be a number" in payload
    event, payload = raw_call(server, "morph", [5])  # missing arguments
    assert event == "error" and "enough input values" in payload
    event, _ = raw_call(server, "morph", [5, 6, 0.25, "slerp"])
    assert event == "complete"
    with httpx.Client(base_url=server, timeout=30) as h:  # a literal NaN, which json.dumps won't write
        r = h.post("gradio_api/call/morph", content=b'{"data": [5, 6, NaN, "slerp"]}', headers={"content-type": "application/json"})
    if r.status_code == 200:  # accepted by the JSON parser: must then be refused by validation
        with httpx.Client(base_url=server, timeout=30) as h, h.stream("GET", f"gradio_api/call/morph/{r.json()['event_id']}") as s:
            body = "".join(s.iter_lines())
        assert "event: error" in body and "finite" in body
    else:
        assert r.status_code in (400, 422)


def test_files_outside_app_output_are_not_served(server, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    with httpx.Client(base_url=server, timeout=10) as h:
        for url in (f"gradio_api/file={secret}", "gradio_api/file=/etc/passwd", f"file={secret}"):
            r = h.get(url)
            assert r.status_code in (403, 404) and "do not serve" not in r.text and "root:" not in r.text


def test_faces_are_served_from_the_apps_own_folder(server, tmp_path):
    """Responses point straight at the app's temp folder (a Gradio static path: no hashing or copying),
    the files are JPEGs of the face size, and '..' out of that folder is refused."""
    event, payload = raw_call(server, "generate", [5, 2, 1.0])
    assert event == "complete", payload
    items = json.loads(payload)[0]
    path, url = items[0]["image"]["path"], items[0]["image"]["url"]
    from demo.ui import output_root

    folder = output_root()  # one per process, however many apps were built
    assert folder.name.startswith("anime-gan-") and Path(path).is_relative_to(folder), path
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    with httpx.Client(timeout=10) as h:
        r = h.get(url)
        assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"  # JPEG
        assert Image.open(io.BytesIO(r.content)).size == (32 * SCALE, 32 * SCALE)
        escape = f"{server}gradio_api/file={folder}/../{secret.relative_to('/tmp')}"
        r = h.get(escape)
        assert r.status_code in (403, 404) and "do not serve" not in r.text


def test_overload_answers_busy_and_recovers(exported_model):
    """A tiny queue (1 running, 1 waiting) flooded by 12 simultaneous heavy requests: the extra ones are
    refused with a "queue is full" error at once instead of piling up, and the server then serves normally."""
    from concurrent.futures import ThreadPoolExecutor

    with serving(exported_model, queue_size=1, concurrency=1) as url, ThreadPoolExecutor(12) as pool:
        results = list(pool.map(lambda i: raw_call(url, "interpolate", [i, i + 1, 64, "slerp"]), range(12)))
        events = [e for e, _ in results]
        assert events.count("complete") >= 1
        refused = [(e, p) for e, p in results if e != "complete"]
        assert refused and all(e == "http 503" and "queue is full" in p.lower() for e, p in refused), refused[:2]
        assert raw_call(url, "generate", [1, 2, 1.0])[0] == "complete"


def test_app_start_with_missing_or_corrupt_model_is_one_clear_line(tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    bad = tmp_path / "generator.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    bad.with_suffix(".json").write_text('{"nz": 100, "image_size": 64}')
    for model, expect in ((tmp_path / "missing.onnx", "model file not found"), (bad, "not a loadable ONNX model")):
        r = subprocess.run([sys.executable, "app.py", "--model", str(model)], cwd=ROOT, capture_output=True, text=True,
                           timeout=120, env={"GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"})
        assert r.returncode == 2
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and expect in lines[0] and str(model) in lines[0], r.stderr


def test_per_request_records_are_bounded(exported_model):
    """Every API call is a new Gradio session; what Gradio keeps per session/event must be capped,
    or a public Space grows without end (scripts/load_test.py measures the RSS)."""
    from demo import ui
    from demo.engine import Engine

    app = ui.build(Engine(exported_model))
    assert app._queue.ANALYTICS_MAX_EVENTS == 1000
    assert ui.LAUNCH_KWARGS["state_session_capacity"] == ui.SESSION_CAPACITY <= 256


def test_finished_api_calls_are_forgotten(exported_model, monkeypatch):
    """Gradio 6 keeps an (empty) event-id set for every API call ever made; the app's housekeeping drops them,
    so that record stays bounded however many calls a Space serves (scripts/memory_probe.py shows it under load)."""
    from demo import ui

    monkeypatch.setattr(ui, "HOUSEKEEPING_EVERY", 0)  # prune on every response instead of once a minute
    with launched(exported_model) as (app, url):
        for seed in range(6):
            event, payload = raw_call(url, "generate", [seed, 1, 1.0])
            assert event == "complete", payload
        q = app._queue
        assert len(q.pending_messages_per_session) >= 6  # six separate sessions were served...
        assert len(q.pending_event_ids_session) <= 1  # ...and at most the last one's record is left


def test_forget_finished_calls_keeps_live_ones():
    from types import SimpleNamespace

    from demo.records import forget_finished_calls

    q = SimpleNamespace(pending_messages_per_session={"live": 0, "done": 0, "waiting": 0},
                        event_ids_to_events={"e1": 0, "e4": 0},
                        pending_event_ids_session={"done": set(), "live": {"e1"}, "waiting": {"e2"},
                                                   "evicted": {"e3"}, "evicted_running": {"e4"}})
    assert forget_finished_calls(SimpleNamespace(_queue=q)) == 2
    assert set(q.pending_event_ids_session) == {"live", "waiting", "evicted_running"}
    assert forget_finished_calls(SimpleNamespace(_queue=SimpleNamespace())) == 0  # another Gradio's queue: no-op


def test_every_endpoint_refuses_every_bad_value(server):
    """scripts/bad_inputs.py's full matrix (each argument of each public endpoint × each kind of bad value, and
    no arguments at all): every call is refused with a message, and the good call after it succeeds."""
    from scripts.bad_inputs import failures, run

    rows = run(server)
    assert len(rows) >= 60 and not failures(rows), failures(rows)[:3]
    assert all(r["answer"] == "error" for r in rows)  # Gradio's error event, not a crash or an HTTP 500


def test_gif_file_carries_its_size(server):
    """The File box shows the GIF's size (it read "size unknown" once the handler built the value itself)."""
    event, payload = raw_call(server, "interpolate", [3, 9, 4, "slerp"])
    assert event == "complete", payload
    frames, gif = json.loads(payload)
    assert len(frames) == 4 and gif["orig_name"].endswith(".gif")
    assert gif["size"] == Path(gif["path"]).stat().st_size > 0
