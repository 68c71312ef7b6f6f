"""nbgrader settings for the course (run nbgrader commands from this folder)."""

from pathlib import Path

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
