"""The lab's screens, one a file: picker, dashboard, runs, and the series filter."""
