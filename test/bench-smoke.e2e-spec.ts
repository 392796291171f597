import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked } from './support/processes';

const MAIN = join(__dirname, '..', 'dist', 'bench', 'src', 'main.js');

/**
 * `npm run bench -- --quick` runs every scenario for every system and writes its reports.
 * It proves the benchmark works; the figures themselves are not judged here.
 */
it('npm run bench -- --quick runs every scenario and writes latest.json and latest.md', async () => {
  const out = mkdtempSync(join(tmpdir(), 'danube-bench-'));
  const env = { ...process.env };
  delete env.DATABASE_URL; // its own embedded Postgres, as a user gets it
  const bench = spawnTracked(process.execPath, [MAIN, '--quick', '--out', out], { env });
  const code = await bench.exited;
  expect({ code, output: code === 0 ? '' : bench.output() }).toEqual({ code: 0, output: '' });

  const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
  expect(report.results.map((r: { scenario: string }) => r.scenario)).toEqual([
    'drain',
    'enqueue',
    'latency',
    'depth',
    'fleet',
    'memory',
  ]);
  const systems = (scenario: string) =>
    report.results
      .find((r: { scenario: string }) => r.scenario === scenario)
      .cases.map((c: { system: string }) => c.system);
  const peers = [
    'danube',
    'graphile-worker-localqueue',
    'graphile-worker-history',
    'graphile-worker-default',
    'pg-boss',
  ];
  expect(systems('drain')).toEqual(peers);
  expect(systems('latency')).toEqual(peers);
  for (const result of report.results) {
    for (const c of result.cases) {
      const figure = c.jobsPerSecond?.median ?? c.p99 ?? c.peakRssMb?.median;
      expect(figure).toBeGreaterThan(0);
    }
  }
  expect(report.failures).toEqual([]);
  // The machine's facts travel with the figures.
  expect(report.machine).toMatchObject({
    cpus: expect.any(Number),
    node: process.version,
    loadAverage: { start: expect.any(Array), end: expect.any(Array) },
  });
  const markdown = readFileSync(join(out, 'latest.md'), 'utf8');
  expect(markdown).toMatch(/^Machine: \d+ CPUs .* load average/m);
  expect(markdown).toContain('## Drain');
  expect(markdown).toContain('Index Scan using jobs_claim');
}, 600_000);
