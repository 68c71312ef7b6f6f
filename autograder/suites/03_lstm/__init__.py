"""Hidden suites of notebook 03 (the LSTM: numpy cell forward and backward, the nn.Module, the
forget-gate bias), one per exercise, written with the suite kit (autograder/suites/kit); the
LSTM's declarations and numpy variants are in autograder/suites/cells/lstm.py."""
