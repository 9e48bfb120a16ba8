"""The app launched on 127.0.0.1 and called like a user's script would: gradio_client and raw HTTP."""
import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from demo.files import SCALE
from scripts.app_process import call_url as raw_call
from tests.conftest import ROOT, launched, model_copy, serving


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


def same_face(png: np.ndarray, jpeg: np.ndarray) -> bool:
    """A single face (lossless PNG) against the same face in a gallery (JPEG q95). On the tiny test model's noisy
    faces JPEG's mean error is 1.8 levels, and another seed's face is 7.3 away."""
    return png.shape == jpeg.shape and np.abs(png.astype(int) - jpeg).mean() < 3


def test_api_endpoint_names(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/generate", "/morph", "/interpolate", "/variations"} <= names  # + /directions when the model has useful ones
    assert not any(n.rstrip("0123456789").endswith("_") for n in names), names  # no "/generate_1" shadowing


def test_generate(client):
    out = client.predict(10, 5, api_name="/generate")
    assert [o["caption"] for o in out] == ["10", "11", "12", "13", "14"]
    first = pixels(out[0]["image"])
    assert first.shape == (32 * SCALE, 32 * SCALE, 3) and out[0]["image"].endswith(".jpg")
    for i, seed in enumerate(range(10, 15)):  # face i is seed + i's own face, in order (not just the middle one)
        alone = client.predict(seed, 1, api_name="/generate")
        assert np.array_equal(pixels(alone[0]["image"]), pixels(out[i]["image"])), i


def test_morph_endpoints(client):
    a = pixels(client.predict(3, 1, api_name="/generate")[0]["image"])
    assert same_face(pixels(client.predict(3, 9, 0.0, api_name="/morph")), a)
    assert not same_face(pixels(client.predict(9, 3, 0.0, api_name="/morph")), a)
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
    # the path's ends are exactly A and B: with three frames the middle one is neither
    three = [pixels(f["image"]) for f in client.predict(3, 9, 3, method, api_name="/interpolate")[0]]
    assert np.array_equal(three[0], a) and np.array_equal(three[2], b)
    assert not np.array_equal(three[1], a) and not np.array_equal(three[1], b)
    anim = Image.open(gif)
    assert anim.format == "GIF" and anim.n_frames == 2 * 6 - 2  # A→B→A, turning frames once


def test_variations(client):
    out = client.predict(3, 0.5, 4, 0, api_name="/variations")
    assert [o["caption"] for o in out] == ["3", "3 #1", "3 #2", "3 #3", "3 #4"]  # the original first


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
    event, _ = raw_call(server, "morph", [5, 6, 0.25, "slerp", 1.0])
    assert event == "complete"
    with httpx.Client(base_url=server, timeout=30) as h:  # a literal NaN, which json.dumps won't write
        r = h.post("gradio_api/call/morph", content=b'{"data": [5, 6, NaN, "slerp", 1.0]}', headers={"content-type": "application/json"})
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
    from demo.files import output_root

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
        results = list(pool.map(lambda i: raw_call(url, "interpolate", [i, i + 1, 64, "slerp", 1.0]), range(12)))
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


def test_per_request_records_are_bounded(exported_model, monkeypatch):
    """Every API call is a new Gradio session; what Gradio keeps per session must be capped through the launch
    settings the app uses, or a public Space grows without end (scripts/load_test.py measures the RSS)."""
    from demo import ui
    from demo.records import SESSION_CAPACITY

    assert ui.LAUNCH_KWARGS["state_session_capacity"] == SESSION_CAPACITY <= 256
    monkeypatch.setitem(ui.LAUNCH_KWARGS, "state_session_capacity", 3)  # the same path, with a capacity a test can fill
    with launched(exported_model) as (app, url):
        for seed in range(8):
            assert raw_call(url, "generate", [seed, 1, 1.0])[0] == "complete"
        assert app._queue.ANALYTICS_MAX_EVENTS == 1000
        assert 1 <= len(app.state_holder.session_data) <= 3


def test_finished_api_calls_are_forgotten(exported_model, monkeypatch):
    """Gradio 6 keeps an (empty) event-id set for every API call ever made; the app's housekeeping drops them,
    so that record stays bounded however many calls a Space serves (scripts/memory_probe.py shows it under load)."""
    from demo import files

    monkeypatch.setattr(files, "HOUSEKEEPING_EVERY", 0)  # prune on every response instead of once a minute
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
    event, payload = raw_call(server, "interpolate", [3, 9, 4, "slerp", 1.0])
    assert event == "complete", payload
    frames, gif = json.loads(payload)
    assert len(frames) == 4 and gif["orig_name"].endswith(".gif")
    assert gif["size"] == Path(gif["path"]).stat().st_size > 0


# ---- behaviour that a broken handler would change (each fails if the parameter is ignored) ----

def spread(faces: list[np.ndarray]) -> float:
    """Mean absolute pixel difference of each face from the first."""
    return float(np.mean([np.abs(f.astype(int) - faces[0]).mean() for f in faces[1:]]))


def test_generate_applies_truncation(client):
    """Truncation pulls every face toward the mean face: at 0.1 different seeds look nearly alike."""
    wild = [pixels(o["image"]) for o in client.predict(20, 6, 1.0, api_name="/generate")]
    tame = [pixels(o["image"]) for o in client.predict(20, 6, 0.1, api_name="/generate")]
    assert spread(tame) < 0.5 * spread(wild)


def test_morph_applies_its_method(client):
    slerp = pixels(client.predict(3, 9, 0.5, "slerp", api_name="/morph"))
    lerp = pixels(client.predict(3, 9, 0.5, "lerp", api_name="/morph"))
    assert np.abs(slerp.astype(int) - lerp).mean() > 0.5


def test_variations_apply_strength_and_truncation(client):
    near = [pixels(o["image"]) for o in client.predict(3, 0.05, 4, 0, 1.0, api_name="/variations")]
    far = [pixels(o["image"]) for o in client.predict(3, 1.0, 4, 0, 1.0, api_name="/variations")]
    assert spread(near) < 0.5 * spread(far)
    tame = [pixels(o["image"]) for o in client.predict(3, 1.0, 4, 0, 0.1, api_name="/variations")]
    assert not np.array_equal(tame[0], far[0]) and spread(tame) < 0.5 * spread(far)


def test_directions_endpoint_moves_the_face(client):
    base = pixels(client.predict(3, *[0] * 8, api_name="/directions"))
    assert np.array_equal(base, pixels(client.predict(3, 9, 0.0, api_name="/morph")))  # no move = the seed's face
    moved = pixels(client.predict(3, 4.0, *[0] * 7, api_name="/directions"))
    other = pixels(client.predict(3, 0, 4.0, *[0] * 6, api_name="/directions"))
    assert np.abs(moved.astype(int) - base).mean() > 1 and not np.array_equal(moved, other)


def test_single_faces_download_as_png(client):
    """Morph and Directions answer with one lossless PNG (what someone saving a face expects)."""
    for path in (client.predict(3, 9, 0.5, api_name="/morph"), client.predict(3, *[0] * 8, api_name="/directions")):
        assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_work_is_limited_across_endpoints(exported_model):
    """One concurrency group for every endpoint that runs the model: with a limit of 1, a /morph waits while a
    /generate is inside the model (Gradio groups events per function object otherwise: ~27 groups of 2)."""
    import threading
    import time
    from concurrent.futures import ThreadPoolExecutor

    from demo.engine import Engine
    from demo.ui import LAUNCH_KWARGS, build
    from scripts.app_process import free_port

    engine = Engine(exported_model, threads=1)
    gate, entered = threading.Event(), []
    render = engine.render

    def held(z):
        entered.append(time.monotonic())
        if len(entered) == 1:
            gate.wait(30)
        return render(z)

    demo = build(engine, concurrency=1)
    engine.render = held  # after build, which draws the named sliders' end thumbnails once
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **LAUNCH_KWARGS)
    url = f"http://127.0.0.1:{port}/"
    try:
        with ThreadPoolExecutor(2) as pool:
            first = pool.submit(raw_call, url, "generate", [1, 1, 1.0])
            deadline = time.monotonic() + 30
            while not entered and time.monotonic() < deadline:
                time.sleep(0.05)
            second = pool.submit(raw_call, url, "morph", [1, 2, 0.5, "slerp", 1.0])
            time.sleep(2.0)
            assert len(entered) == 1, "a second endpoint ran the model while the first was inside it"
            gate.set()
            assert first.result(timeout=60)[0] == "complete" and second.result(timeout=60)[0] == "complete"
        assert len(entered) == 2
    finally:
        gate.set()
        demo.close()


def test_directions_api_is_the_same_for_every_model(exported_model, tmp_path):
    """A model with no useful direction and no named one (a freshly trained one, say) keeps /directions and its
    parameters."""
    from gradio_client import Client

    meta = json.loads(exported_model.with_suffix(".json").read_text())
    dull = model_copy(exported_model, tmp_path / "dull", directions={**meta["directions"], "useful": []},
                      named_directions=None)
    with serving(dull) as url:
        c = Client(url, verbose=False)
        api = c.view_api(print_info=False, return_format="dict")["named_endpoints"]
        names = [p["parameter_name"] for p in api["/directions"]["parameters"]]
        assert names == (["seed"] + [f"direction_{i}" for i in range(1, 9)] + ["truncation"]
                         + [f"named_{i}" for i in range(1, 7)])
        assert Path(c.predict(3, *[0] * 8, api_name="/directions")).read_bytes()[:4] == b"\x89PNG"


def test_footer_with_sparse_metadata(exported_model, tmp_path):
    """Any valid model file with sparse metadata starts: the footer shows what is there and skips the rest."""
    from demo.engine import Engine
    from demo.texts import footer

    sparse = model_copy(exported_model, tmp_path / "sparse", sha256=None, directions=None, evaluation=None,
                        training={"steps": 5})
    text = footer(Engine(sparse, threads=1))
    assert "trained 5 steps" in text and "faces" not in text
    odd = model_copy(exported_model, tmp_path / "odd", training={"steps": "many", "num_images": None},
                     evaluation={"fid": "n/a"})
    assert "trained" not in footer(Engine(odd, threads=1))


def test_bad_settings_are_one_line_errors(exported_model):
    import subprocess
    import sys

    from tests.conftest import ROOT

    base = {"GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"}
    for args, env, expect in (([], {"ANIME_GAN_THREADS": "two"}, "$ANIME_GAN_THREADS must be a whole number"),
                              ([], {"ANIME_GAN_THREADS": "-3"}, "$ANIME_GAN_THREADS must be 0 (every core) or more"),
                              ([], {"GRADIO_SERVER_PORT": "http"}, "$GRADIO_SERVER_PORT must be a whole number"),
                              (["--threads", "-1"], {}, "--threads: must be 0 (every core) or more"),
                              (["--port", "70000"], {}, "--port: must be from 1 to 65535")):
        r = subprocess.run([sys.executable, "app.py", "--model", str(exported_model), *args], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, env={**base, **env})
        assert r.returncode == 2 and expect in r.stderr and "Traceback" not in r.stderr, (args, env, r.stderr[-500:])


def test_files_and_threads_are_released(exported_model):
    """The response folder goes when the process exits; closing the handlers and engine stops their threads."""
    import subprocess
    import sys
    import threading

    from tests.conftest import ROOT

    code = ("from demo.engine import Engine; from demo.files import output_root; from demo.ui import build; "
            f"build(Engine({str(exported_model)!r}, threads=2)); print(output_root(), flush=True)")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={"GRADIO_ANALYTICS_ENABLED": "False", "PATH": "/usr/bin:/bin"})
    root = Path(r.stdout.strip().splitlines()[-1])
    assert root.name.startswith("anime-gan-") and not root.exists(), r.stderr[-500:]

    from demo.engine import Engine
    from demo.handlers import Handlers

    engine = Engine(exported_model, threads=2)
    h = Handlers(engine)
    h.generate(1, 4)
    engine.faces(range(16))  # sliced over the engine's pool
    mine = lambda: [t.name for t in threading.enumerate()  # noqa: E731  (each pool's threads carry its own name)
                    if t.name.startswith((f"encode-{h.out.root.name}", engine.slice_threads))]
    assert {n.rsplit("_", 1)[0] for n in mine()} == {f"encode-{h.out.root.name}", engine.slice_threads}
    assert h.out.root.exists()
    h.close()
    engine.close()
    assert not mine() and not h.out.root.exists()


def test_app_helper_notices_a_crash_at_start(tmp_path):
    """scripts.app_process.start_app reports an app that exits during start-up at once, with its own message,
    instead of polling until its time-out."""
    import time

    from scripts.app_process import AppDidNotStart, free_port, start_app

    t = time.monotonic()
    with pytest.raises(AppDidNotStart, match="model file not found"):
        start_app(free_port(), ["app.py", "--model", str(tmp_path / "missing.onnx")], timeout=120)
    assert time.monotonic() - t < 60


def test_direction_sliders_stop_where_identity_holds(exported_model, tmp_path):
    """Each Directions slider spans ± the export's identity limit for that direction (the API keeps ±6)."""
    from demo.engine import Engine
    from demo.ui import build

    meta = json.loads(exported_model.with_suffix(".json").read_text())
    limited = model_copy(exported_model, tmp_path / "limited",
                         directions={**meta["directions"], "useful": [0, 1], "identity_limits": [2.5, 4.0] + [6.0] * 6})
    demo = build(Engine(limited, threads=1))
    sliders = {c["props"]["elem_id"]: c["props"] for c in demo.config["components"]
               if str(c["props"].get("elem_id", "")).startswith("dir")}
    assert (sliders["dir1"]["minimum"], sliders["dir1"]["maximum"]) == (-2.5, 2.5)
    assert sliders["dir2"]["maximum"] == 4.0 and sliders["dir1"]["visible"] and not sliders["dir3"]["visible"]


def test_morph_gif_comes_in_three_sizes(exported_model):
    from demo.engine import Engine
    from demo.handlers import Handlers

    h = Handlers(Engine(exported_model, threads=1))
    try:
        for size in (128, 256, 512):
            _, gif = h.interpolate(3, 9, 4, "slerp", 1.0, size)
            assert Image.open(gif["path"]).size == (size, size)
        with pytest.raises(Exception, match="GIF size must be one of 128, 256, 512"):
            h.interpolate(3, 9, 4, "slerp", 1.0, 300)
    finally:
        h.close()


def test_the_tools_open_tabs_the_app_has():
    """The benchmarks and scripts drive the page by tab name; a renamed tab must not leave one waiting for a tab
    that is gone (benchmarks/live.py waited for "Directions" after the tab became "Edit")."""
    import re

    tabs = set(re.findall(r'gr\.Tab\("([^"]+)"', (ROOT / "demo" / "layout.py").read_text()))
    assert {"Generate", "Morph", "Edit", "Colourise"} <= tabs, tabs
    for path in [*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]:
        text = path.read_text()
        named = re.findall(r'get_by_role\("tab", name="([^"]+)"\)|(?:open_tab|scrub)\(page, "([^"]+)"', text)
        for name in {a or b for a, b in named}:
            assert name in tabs, f"{path.name} opens a tab named {name!r}; the app's tabs: {sorted(tabs)}"
