"""Hidden pytest suites, one folder per assignment and one file per graded exercise."""
