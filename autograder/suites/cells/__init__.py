"""Declarations several suites of a notebook share: each cell's step and sequence functions
(arguments, reference, typical mistakes) and the numpy variants its mistakes are computed with.
One module per cell; the suites in ``autograder/suites/<assignment>/`` import them by name."""
