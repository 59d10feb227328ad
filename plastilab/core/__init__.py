"""The engine: scenario files, the event stream, and the loop that drives a scenario.

Nothing in here (or in scenarios/, instruments/, models/, data/, rundir/) imports textual or
rich; the faces (headless/, tui/) consume the event stream. tests/test_engine_boundary.py
enforces the wall.
"""
