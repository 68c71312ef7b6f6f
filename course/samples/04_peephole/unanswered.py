"""Sample submission "unanswered" for 04_peephole: the student handed in the release untouched.

It defines no answer function and no ANSWERS, so `python course/build.py samples` leaves every
answer cell as released (`raise NotImplementedError()`, in each method of the class PeepholeLSTM
too) and every written answer as "YOUR ANSWER HERE". Every hidden suite must give it 0 points with
a message saying so.
"""

# What the hidden suites give this sample (tests/test_suites.py): the score of every exercise
# that does not earn full marks (others: full marks), and words one of its failure
# messages must contain (an exercise scoring 0 without words must be unanswered).
EXPECT = {
    "peephole_step_forward": 0.0,
    "peephole_forward": 0.0,
    "peephole_step_backward": 0.0,
    "peephole_backward": 0.0,
    "PeepholeLSTM": 0.0,
}
NAMES = {}
