"""The course's grading command, hidden suites and sandbox (README's "Repository" maps them)."""
