import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';
import { loadConfig } from './config';

class SampleEnv {
  @Type(() => Number)
  @IsInt({ message: 'SAMPLE_SIZE must be a whole number' })
  @Min(1)
  SAMPLE_SIZE = 5;

  @IsOptional()
  @IsString()
  SAMPLE_NAME?: string;
}

describe('loadConfig', () => {
  it('uses defaults for unset variables and reads set ones, optional ones included', () => {
    expect(loadConfig(SampleEnv, {})).toMatchObject({ SAMPLE_SIZE: 5 });
    expect(
      loadConfig(SampleEnv, { SAMPLE_SIZE: '7', SAMPLE_NAME: 'x', OTHER: 'ignored' }),
    ).toMatchObject({ SAMPLE_SIZE: 7, SAMPLE_NAME: 'x' });
  });

  it('names the bad variable and its value in one line', () => {
    expect(() => loadConfig(SampleEnv, { SAMPLE_SIZE: 'lots' })).toThrow(
      'invalid configuration: SAMPLE_SIZE must be a whole number (got "lots")',
    );
    expect(() => loadConfig(SampleEnv, { SAMPLE_SIZE: '0' })).toThrow(
      /SAMPLE_SIZE must not be less than 1 \(got "0"\)/,
    );
  });
});
