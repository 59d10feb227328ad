"""The engine: scenario files, the event stream, the loop that drives a scenario, and what a
scenario kind asks the faces to show (``presentation``).

Nothing in here (or in runtime/, rundir/, scenarios/, instruments/, analysis/, models/, data/)
imports textual or rich, or a face; the faces (headless/, tui/) consume the event stream.
tests/test_engine_boundary.py enforces the wall.
"""
