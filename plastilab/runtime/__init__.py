"""Starting and following runs, engine side (no Textual, no rich).

* ``launcher`` - ``launch``: the one way to start a run (preflight, run folder, writer, drive);
* ``signals`` - Ctrl-C, SIGTERM and SIGHUP end a run as ``interrupted``; held while a folder is made;
* ``preflight`` - the checks before a run folder exists (device, memory, dataset);
* ``training_child`` - the lab's spawned training child: its main, the queue consumer, the launch spec;
* ``training_process`` - the app's handle on that child;
* ``child_process`` - what every spawned child shares: output, session, the parent watchdog;
* ``live_source`` - a dashboard's events from the training child;
* ``replay_sources`` - a dashboard's events from run folders on disk (replayed or followed);
* ``run_state`` - what a dashboard knows about a run, folded from its events;
* ``history`` - bounded, decimated histories of scalars;
* ``session`` - one source with the state folded from it;
* ``final_losses`` - each iteration's final loss per series, for rankings.
"""
