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
  }
}

module.exports = JsonSummaryReporter;
