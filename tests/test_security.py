"""A hostile visitor over raw HTTP: no endpoint reads a file the visitor did not upload and the app did not make.

Every event whose inputs include a file (Image, Gallery, File) is found in the app's own config and called the way
the browser calls it (queue/join with its fn_index, so private events too), with a server file in each file slot:
an absolute path, `../` out of the upload folder, URL-encoded, the repo's own app.py, a symlink placed in the upload
folder, a file:// URL. Each call must end in an error and bring back no file.
"""
import json
import shutil
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from gradio.utils import get_upload_folder
from PIL import Image

from tests.conftest import ROOT, launched

FILE_TYPES = {"image", "gallery", "file"}


@pytest.fixture(scope="module")
def app(exported_model, exported_colorizer, exported_encoder):
    with launched(exported_model, exported_colorizer, exported_encoder) as (demo, url):
        yield demo, url


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    """A picture on the server that nobody uploaded (in the system's temp folder, which Gradio itself lets an
    app's outputs come from)."""
    path = tmp_path_factory.mktemp("server_files") / "secret.png"
    Image.fromarray(np.random.RandomState(7).randint(0, 255, (48, 48, 3), np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def hostile(secret) -> dict[str, object]:
    """The forms a server path can take in a file value."""
    upload = Path(get_upload_folder())
    upload.mkdir(parents=True, exist_ok=True)
    link_dir = upload / f"planted-{uuid.uuid4().hex}"
    link_dir.mkdir()
    (link_dir / "face.png").symlink_to(secret)
    up = "/".join([".."] * len(upload.parts[1:]))
    forms = {
        "absolute": {"path": str(secret)},
        "absolute, as a FileData": {"path": str(secret), "meta": {"_type": "gradio.FileData"}},
        "plain string": str(secret),
        "../ out of the upload folder": {"path": f"{upload}/{up}{secret}"},
        "url-encoded": {"path": str(secret).replace("/", "%2F")},
        "the repo's app.py": {"path": str(ROOT / "app.py")},
        "a repo picture": {"path": str(ROOT / "docs" / "grid.png")},
        "symlink in the upload folder": {"path": str(link_dir / "face.png")},
        "file:// URL": {"path": f"file://{secret}", "url": f"file://{secret}"},
    }
    yield forms
    shutil.rmtree(link_dir, ignore_errors=True)


def queue_call(url: str, fn_index: int, data: list, event_data=None) -> dict:
    """One event, called as the browser calls it; returns the process_completed message."""
    session = uuid.uuid4().hex
    r = httpx.post(url + "gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                        "event_data": event_data, "trigger_id": None}, timeout=30)
    assert r.status_code == 200, r.text
    with httpx.stream("GET", url + f"gradio_api/queue/data?session_hash={session}", timeout=60) as s:
        for line in s.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg
    raise AssertionError("no process_completed message")


def file_events(demo) -> list[tuple[int, list[str], list]]:
    """(fn_index, input types, default input values) of every backend event that takes a file."""
    comps = {c["id"]: c for c in demo.config["components"]}
    out = []
    for d in demo.config["dependencies"]:
        types = [comps[i]["type"] for i in d["inputs"]]
        if d.get("backend_fn") and FILE_TYPES & set(types):
            out.append((d["id"], types, [comps[i].get("props", {}).get("value") for i in d["inputs"]]))
    return out


def files_in(value) -> list[str]:
    """Every path or URL of a file in an answer."""
    found = []
    if isinstance(value, dict):
        found += [str(value[k]) for k in ("path", "url") if isinstance(value.get(k), str)]
        for v in value.values():
            found += files_in(v)
    elif isinstance(value, list):
        for v in value:
            found += files_in(v)
    return found


def test_every_file_taking_event_refuses_server_files(app, hostile):
    demo, url = app
    events = file_events(demo)
    # the sweep must reach the known ones: Colourise and its gray view, the send buttons, the pick, the GIF preview
    assert len(events) >= 6, events
    leaks = []
    for fn_index, types, defaults in events:
        for name, value in hostile.items():
            data = list(defaults)
            for i, t in enumerate(types):
                if t == "gallery":
                    data[i] = [{"image": value, "caption": "42"}]
                elif t in FILE_TYPES:
                    data[i] = value
            event_data = {"index": 0, "value": {"image": value, "caption": "42"}} if "gallery" in types else None
            msg = queue_call(url, fn_index, data, event_data)
            returned = files_in((msg.get("output") or {}).get("data"))
            if msg.get("success") or returned:
                leaks.append((fn_index, name, returned))
    assert not leaks, leaks


def test_the_refusal_says_why(app, hostile):
    demo, url = app
    index = next(d["id"] for d in demo.config["dependencies"] if d.get("api_name") == "colorize")
    msg = queue_call(url, index, [hostile["absolute"]])
    assert msg["success"] is False
    assert "not uploaded to this app" in msg["output"]["error"]


def test_named_endpoints_refuse_over_plain_http(app, hostile):
    """/gradio_api/call/<name>, as curl would: the issue's own request, answered with an error and no picture."""
    _, url = app
    for api in ("colorize", "gray"):
        r = httpx.post(url + f"gradio_api/call/{api}", json={"data": [hostile["absolute"]]}, timeout=30)
        answer = httpx.get(url + f"gradio_api/call/{api}/{r.json()['event_id']}", timeout=60).text
        assert "event: error" in answer and "not uploaded to this app" in answer, (api, answer[:300])
        assert ".png" not in answer, answer[:300]


def test_real_uploads_and_the_apps_own_faces_still_work(app, tmp_path):
    """The check lets through what a visitor really sends: an upload (as gradio_client sends it) and a face the
    app made (the Colourise buttons of Morph and Directions send those)."""
    from gradio_client import Client, handle_file

    demo, url = app
    client = Client(url, verbose=False)
    pic = tmp_path / "mine.png"
    Image.fromarray(np.full((40, 40, 3), (200, 80, 40), np.uint8)).save(pic)
    out = np.asarray(Image.open(client.predict(handle_file(str(pic)), api_name="/colorize")).convert("RGB"))
    assert out.shape == (40, 40, 3)
    generate = next(d["id"] for d in demo.config["dependencies"] if d.get("api_name") == "generate")
    face = queue_call(url, generate, [3, 1, 1.0])["output"]["data"][0][0]["image"]
    send = next(d["id"] for d in demo.config["dependencies"] if d.get("api_name") == "send")
    msg = queue_call(url, send, [face])
    assert msg["success"], msg
    sent = msg["output"]["data"][0]
    assert Path(sent["path"]).read_bytes() == Path(face["path"]).read_bytes()


def test_gradio_file_route_does_not_serve_server_files(app, secret):
    _, url = app
    for path in (secret, ROOT / "app.py", ROOT / "exported" / "generator.json"):
        r = httpx.get(url + f"gradio_api/file={path}", timeout=30)
        assert r.status_code in (403, 404), (path, r.status_code)
