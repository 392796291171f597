import { loadCollectorOptions } from './collector.config';

const required = {
  DANUBE_JOB_ID: '42',
  DANUBE_ATTEMPT: '2',
  DANUBE_JOB_TOKEN: 'tok',
  DANUBE_GRPC_ADDRESS: 'danube-api.danube.svc:9000',
};

it('reads the variables the kubernetes runtime sets, with the defaults for the rest', () => {
  expect(loadCollectorOptions(required)).toEqual({
    address: 'danube-api.danube.svc:9000',
    jobId: '42',
    attempt: 2,
    token: 'tok',
    outputDir: '/danube/outputs',
    resultFile: '/danube/result.json',
    deadlineMs: 25_000,
    readyFile: null,
    terminationLog: null,
  });
  expect(
    loadCollectorOptions({
      ...required,
      DANUBE_OUTPUT_DIR: '/x/out',
      DANUBE_RESULT_FILE: '/x/r.json',
      COLLECTOR_DEADLINE_MS: '55000',
    }),
  ).toMatchObject({ outputDir: '/x/out', resultFile: '/x/r.json', deadlineMs: 55_000 });
});

it('names every missing variable in one line', () => {
  expect(() => loadCollectorOptions({})).toThrow(
    /^invalid configuration: DANUBE_JOB_ID is required.*; DANUBE_ATTEMPT must be a whole number.*; DANUBE_JOB_TOKEN is required.*; DANUBE_GRPC_ADDRESS is required[^\n]*$/,
  );
});

it.each([
  ['DANUBE_ATTEMPT', '0', /DANUBE_ATTEMPT must not be less than 1 \(got "0"\)/],
  ['DANUBE_JOB_ID', 'abc', /DANUBE_JOB_ID must be a job id \(digits\) \(got "abc"\)/],
  ['DANUBE_GRPC_ADDRESS', 'http://x:9000', /DANUBE_GRPC_ADDRESS must be host:port/],
  ['DANUBE_OUTPUT_DIR', 'outputs', /DANUBE_OUTPUT_DIR must be an absolute path/],
  ['COLLECTOR_DEADLINE_MS', 'soon', /COLLECTOR_DEADLINE_MS must be a whole number of milliseconds/],
])('refuses %s=%s', (name, value, message) => {
  expect(() => loadCollectorOptions({ ...required, [name]: value })).toThrow(message);
});
