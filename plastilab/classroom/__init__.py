"""Teaching: the SSH classroom (``plastilab serve --ssh``) and presenter mode's leader file.

Nothing here imports textual: the SSH server starts each student's read-only lab as a child
process in a terminal of its own (``plastilab/tui/ssh_lab.py``).
"""
