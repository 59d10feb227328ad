"""Studies: many runs of one base scenario over axes and seeds, run in parallel, then aggregated.

``study_file`` reads and resolves a study file; ``folder`` and ``ledger`` keep a study on disk;
``executors`` run trials on a local process pool or on Ray; ``runner`` schedules them;
``aggregate`` and ``stats`` turn the trials' run folders into tables that answer the paper's
population questions; ``report`` prints them.
"""
