"""Hidden suites of notebook 03 (the LSTM: numpy cell forward and backward, the nn.Module, the
forget-gate bias), one per exercise.

The suites import their shared helpers as ``autograder.suites.03_lstm._helpers`` (with
importlib, since "03_lstm" is not an identifier), a name no other assignment's helpers can take.
"""
