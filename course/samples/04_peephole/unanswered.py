"""Sample submission "unanswered" for 04_peephole: the student handed in the release untouched.

It defines no answer function and no ANSWERS, so `python course/build.py samples` leaves every
answer cell as released (`raise NotImplementedError()`, in each method of the class PeepholeLSTM
too) and every written answer as "YOUR ANSWER HERE". Every hidden suite must give it 0 points with
a message saying so.
"""
