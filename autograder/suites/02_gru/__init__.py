"""Hidden suites of notebook 02 (GRU in the paper and the PyTorch form), one per exercise.

The suites import their shared helpers as ``autograder.suites.02_gru._helpers`` (with
importlib, since "02_gru" is not an identifier), a name no other assignment's helpers can take.
"""
