"""Hidden suites of notebook 01 (vanilla RNN, BPTT, gradient norms, clipping), one per exercise,
written with the suite kit (autograder/suites/kit); the RNN cell's declarations are in
autograder/suites/cells/rnn.py."""
