"""Background jobs: commands on Job aggregates, the runner that executes an attempt, job types."""
