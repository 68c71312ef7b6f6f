"""Sample submission "unanswered" for 06_choosing: the student handed in the release untouched.

It defines no answer function and no ANSWERS, so every answer cell stays as released
(`raise NotImplementedError()`) and every written answer "YOUR ANSWER HERE". Every hidden suite
must give it 0 points with a message saying so.
"""

EXPECT = {
    "cell_cost": 0,
    "count_probe": 0,
    "bits_per_char": 0,
    "temperature_softmax": 0,
    "sample_next": 0,
}
NAMES = {}
