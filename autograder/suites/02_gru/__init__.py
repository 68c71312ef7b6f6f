"""Hidden suites of notebook 02 (the GRU in the paper's and PyTorch's forms), one per exercise,
written with the suite kit (autograder/suites/kit); the GRU's declarations and numpy variants
are in autograder/suites/cells/gru.py."""
