"""A clock for code that sleeps and reads time.monotonic: each sleep moves it on at once, and the
sleeps are recorded."""


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds
