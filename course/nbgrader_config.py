"""nbgrader settings for the course (run nbgrader commands from this folder)."""

from pathlib import Path

import zmq

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "gated-rnns"
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.db_url = "sqlite:///" + str(Path(__file__).resolve().parent / "gradebook.db")
# Only notebooks are released: nothing else may sit beside them in source/<assignment>/.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.py", "*.json"]

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.ExecutePreprocessor.timeout = 300
c.ExecutePreprocessor.kernel_name = "python3"
# Kernels talk to whoever runs them over TCP on loopback; encrypt that (CurveZMQ keys made by
# the kernel manager, as ipykernel's kernelspec allows) instead of letting every kernel warn
# "Kernel is running over TCP without encryption". course/build.py's execution reads this too.
if zmq.has("curve"):  # pyzmq's wheels and conda-forge's libzmq have it
    c.KernelManager.transport_encryption = "auto"
