"""The interventions scenario (paper §5.2): which changes keep a network able to fit the next task."""
