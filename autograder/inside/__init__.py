"""The code that runs inside the sandbox, copied there as this folder (autograder/isolation.py).

It imports nothing from the rest of the repository (only the standard library, numpy and, lazily,
torch), and the grading process imports it too: the channel's framing and codec, the privilege
drop and the module checks are written once, here.

* :mod:`.channel`: the framing of messages and the plain-data codec (never pickles);
* :mod:`.worker`: the worker that runs a student's notebook and answers requests;
* :mod:`.modules`: running a student's ``nn.Module`` with torch's fused recurrent kernels off;
* :mod:`.privileges`: becoming the unprivileged sandbox user;
* :mod:`.seccomp`: the system-call filter;
* :mod:`.zygote`: the warm zygote that forks an isolated worker per submission;
* ``__main__.py``: the entry point, ``python -I /worker/inside/__main__.py [--zygote] ...``.
"""
