"""Hidden suites of notebook 01 (vanilla RNN, BPTT, gradient norms, clipping), one per exercise.

The suites import their shared helpers as ``autograder.suites.01_rnn._helpers`` (with
importlib, since "01_rnn" is not an identifier), a name no other assignment's helpers can take.
"""
