// Writes jest's aggregated results (the same object `jest --json` prints) to
// .jest-results.json, so .ci/run can print its closing "N passed, N failed" line
// while running exactly `npm test`.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

class JsonSummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  onRunComplete(_contexts, results) {
    writeFileSync(join(this.rootDir, '.jest-results.json'), JSON.stringify(results));
    // Jest prints nothing for a suite whose tests are all skipped; say which, and why
    // (suites that need a Docker engine carry the reason in their title).
    for (const file of results.testResults)
      for (const test of file.testResults ?? file.assertionResults ?? [])
        if (test.status === 'pending') process.stderr.write(`skipped: ${test.fullName}\n`);
  }
}

module.exports = JsonSummaryReporter;
