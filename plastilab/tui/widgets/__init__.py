"""The lab's widgets, one a file."""
