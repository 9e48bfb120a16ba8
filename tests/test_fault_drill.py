"""Short form of scripts/fault_drill.py: SIGKILL a run (once at a random moment, once mid-checkpoint-write),
resume, and end bit-identical to an uninterrupted run."""
from scripts.fault_drill import drill


def test_killed_and_resumed_run_matches_uninterrupted(tmp_path):
    report = drill(tmp_path, kills=2, epochs=2, seed=1)
    assert report["ok"], report["failures"]
    assert report["final_step"] == report["reference_step"] == 12  # 96 images / 16 × 2 epochs
    assert report["max_weight_diff"] == 0.0
    for e in report["events"]:
        assert e["step_after_kill"] >= e["step_seen_before_kill"]
