"""The typical mistakes a hidden test named, recorded as data as well as in its message.

When the suite kit recognises a wrong answer by its fingerprint (it equals what a listed mistake
returns on the same inputs, :func:`autograder.suites.kit.checks.diagnose`), it calls :func:`note`
with that mistake's message. The hidden-suite session (:mod:`autograder.hidden`) clears the notes
before each test and, when the test fails, keeps the mistake whose message its failure shows.
The grading command stores it in the result file beside the failure (``mistakes``:
``{test: {"key": ..., "message": ...}}``), and the class report (:mod:`autograder.report`)
counts students by key.

A key is derived from the message alone, so it stays the same from one run, student and
machine to the next, and needs nothing from the suites' mistake tables: the words of the message
with every number replaced by ``#`` (messages of one family differ by a time step, say
"t=2" and "t=3", and count as one mistake), shortened to a slug, plus a hash of the whole.
Editing a message's words gives it a new key.
"""

from __future__ import annotations

import hashlib
import re

NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e[+-]?\d+)?")
_noted: list[str] = []


def mistake_key(message: str) -> str:
    """A stable key for a mistake's message, e.g. ``"dh-next-is-not-carried-3f9c2a1b"``."""
    pattern = NUMBER.sub("#", " ".join(message.split()))
    words = re.findall(r"[a-z]+", pattern.lower())[:6]
    digest = hashlib.sha256(pattern.encode()).hexdigest()[:8]
    return "-".join([*words, digest])


def note(message: str) -> None:
    """Record that the running test recognised the mistake with this message."""
    if message:
        _noted.append(message)


def clear() -> None:
    """Forget the notes (before each test)."""
    _noted.clear()


def named_in(failure: str) -> dict[str, str] | None:
    """``{"key", "message"}`` of the last noted mistake whose message the failure shows, if any.

    The last one is the mistake that made the test fail: the kit diagnoses only an answer that
    is wrong and then fails at once.
    """
    for message in reversed(_noted):
        if message in failure:
            return {"key": mistake_key(message), "message": message}
    return None
