"""The library's version, in the bottom layer so a run folder's writer can record it without
importing the root package (which sits above every layer as the library's doorway)."""

__version__ = "0.1.0"
