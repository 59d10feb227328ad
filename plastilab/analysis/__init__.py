"""Reading results: plain-python summaries over what runs wrote (no torch, no face libraries).

* ``ranking`` - series (grouped over seeds) ranked by their mean final loss over the last iterations.
"""
