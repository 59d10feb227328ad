"""Starting and following runs, engine side (no Textual, no rich).

* ``launcher`` - ``launch``: the one way to start a run (preflight, run folder, writer, drive);
* ``signals`` - Ctrl-C, SIGTERM and SIGHUP end a run as ``interrupted``; held while a folder is made;
* ``training_process`` - the lab's spawned training child and the app's handle on it;
* ``sources`` - where a dashboard's events come from: the child, or run folders on disk;
* ``run_state`` - what a dashboard knows about a run, folded from its events;
* ``history`` - bounded, decimated histories of scalars;
* ``session`` - one source with the state folded from it;
* ``final_losses`` - each iteration's final loss per series, for rankings.
"""
