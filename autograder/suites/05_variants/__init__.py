"""Hidden suites of notebook 05 (CIFG forward and backward, the two parameterisations, parameter
counts, the switches of the configurable LSTM), one per exercise, written with the suite kit
(autograder/suites/kit); the CIFG cell's declarations are in autograder/suites/cells/cifg.py."""
