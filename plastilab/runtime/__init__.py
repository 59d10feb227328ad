"""Running a scenario: preflight, a run folder, the writer and the driver, in one call."""
