"""Runs the SDK's unit tests and prints one JSON document: every test's id, outcome and
failure text. ``--list`` prints the ids only. Used by the jest suite that reports each
Python test as a test of its own (test/python-sdk.e2e-spec.ts), and usable by hand:

    /usr/bin/python3 sdks/python/tests/run_tests.py
"""

import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]


def tests_of(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from tests_of(item)
        else:
            yield item


class Recorder(unittest.TestResult):
    def __init__(self):
        super().__init__()
        self.outcomes = {}

    def addSuccess(self, test):
        self.outcomes.setdefault(test.id(), ("passed", ""))

    def addFailure(self, test, err):
        self.outcomes[test.id()] = ("failed", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        self.outcomes[test.id()] = ("failed", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        self.outcomes[test.id()] = ("skipped", reason)

    def addSubTest(self, test, subtest, err):
        if err is not None:
            self.outcomes[test.id()] = ("failed", f"{subtest.id()}\n{self._exc_info_to_string(err, test)}")


def main():
    suite = unittest.defaultTestLoader.discover(HERE, top_level_dir=HERE)
    tests = list(tests_of(suite))
    # A module that failed to import shows up as a test named unittest.loader._FailedTest.
    if "--list" in sys.argv:
        print(json.dumps([test.id() for test in tests]))
        return 0
    result = Recorder()
    suite.run(result)
    outcomes = [
        {"id": test.id(), "status": result.outcomes.get(test.id(), ("failed", "did not run"))[0],
         "message": result.outcomes.get(test.id(), ("", "did not run"))[1]}
        for test in tests
    ]
    print(json.dumps(outcomes))
    return 0 if all(o["status"] != "failed" for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
