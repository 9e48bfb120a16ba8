"""Bounds on what Gradio remembers about each API call, so a server that runs for weeks stays the same size.

Every call through the API (`POST /gradio_api/call/<name>`) is its own session to Gradio. What it keeps per session:
- a SessionState (a copy of every component's config, ~150 KB here): capped by `state_session_capacity`;
- an analytics record per event: capped by GRADIO_ANALYTICS_MAX_EVENTS (set below), summarised less often;
- a message queue: an LRU of 2,000 (Gradio's own cap);
- a set of the session's pending event ids: **never removed** for API calls (Gradio 6.31). The /call stream
  route removes the finished id but leaves the empty set behind, so the dict gains one entry per request
  forever, and that route scans the whole dict to find a finished event's session (more CPU per call, too).
  `forget_finished_calls` drops those entries.
"""
from __future__ import annotations

import os

import anyio.from_thread

SESSION_CAPACITY = 256  # the app keeps no server-side state (no gr.State); Gradio's default is 10,000 (~1.5 GB here)
# Read when Gradio's queue is built; an explicit setting wins. Gradio keeps an analytics record per event
# (default: the last 10,000) and, by default after *every* event, rebuilds a pandas summary of all of them
# for its monitoring page: ~3 ms of CPU per call at 1,000 records (py-spy, /generate of 1 face).
os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "100")  # rebuild that summary every 100 events instead


def forget_finished_calls(blocks) -> int:
    """Drop Gradio's per-session event-id sets that no stream can need any more; returns how many.

    A set can go when it is empty (its calls were delivered), or when its message queue was evicted and none of
    its events is still queued or running (its results can no longer be fetched). Must run on the server's
    event loop, where Gradio's routes read the dict."""
    q = getattr(blocks, "_queue", None)
    if not all(hasattr(q, a) for a in ("pending_event_ids_session", "pending_messages_per_session", "event_ids_to_events")):
        return 0  # a Gradio whose queue is built differently (requirements.txt pins the one this was written for)
    live, running = q.pending_messages_per_session, q.event_ids_to_events
    stale = [s for s, ids in q.pending_event_ids_session.items()
             if not ids or (s not in live and not any(i in running for i in ids))]
    for s in stale:
        del q.pending_event_ids_session[s]
    return len(stale)


def forget_finished_calls_from_worker(blocks) -> int | None:
    """forget_finished_calls, called from a handler's worker thread (Gradio runs sync handlers via anyio);
    None when not in such a thread (e.g. a handler called directly by a test)."""
    try:
        return anyio.from_thread.run_sync(forget_finished_calls, blocks)
    except RuntimeError:
        return None
