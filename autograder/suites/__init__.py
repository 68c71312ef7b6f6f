"""Hidden pytest suites: one folder per assignment (``NN_name/``), one file per graded exercise.

``kit/`` is what every suite is written with (declared exercises, mistake tables, generated
tests with readable ids, the shortcut-refusing fixture; see its docstring); ``cells/`` holds the
declarations and numpy mistake variants that several suites of a notebook share (one module per
recurrent cell). The suites run in the grading process and reach student code only through the
``student`` fixture of :mod:`autograder.hidden`.
"""
