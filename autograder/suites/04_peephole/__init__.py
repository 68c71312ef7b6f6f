"""Hidden suites of notebook 04 (the peephole LSTM: numpy cell forward and backward, the
nn.Module), one per exercise, written with the suite kit (autograder/suites/kit); the peephole
cell's declarations and numpy variants are in autograder/suites/cells/peephole.py."""
