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

  describe('a renamed variable', () => {
    let warnings: string[];
    const spy = jest.spyOn(process, 'emitWarning');
    beforeEach(() => {
      spy.mockReset();
      spy.mockImplementation(((message: string) => void warnings.push(message)) as never);
      warnings = [];
    });
    afterAll(() => spy.mockRestore());

    it('works under its old name, with a warning that names the new one', () => {
      expect(loadConfig(SampleEnv, { OLD_SIZE: '9' }, { OLD_SIZE: 'SAMPLE_SIZE' })).toMatchObject({
        SAMPLE_SIZE: 9,
      });
      expect(warnings).toEqual([
        'OLD_SIZE is renamed SAMPLE_SIZE: set SAMPLE_SIZE instead (OLD_SIZE still works for now)',
      ]);
    });

    it('gives way to the new name when both are set, and says the old one is ignored', () => {
      expect(
        loadConfig(SampleEnv, { OLD_SIZE: '9', SAMPLE_SIZE: '3' }, { OLD_SIZE: 'SAMPLE_SIZE' }),
      ).toMatchObject({ SAMPLE_SIZE: 3 });
      expect(warnings).toEqual([
        'OLD_SIZE is renamed SAMPLE_SIZE, which is set too: OLD_SIZE is ignored; unset it',
      ]);
    });

    it('says nothing when only the new name is used', () => {
      loadConfig(SampleEnv, { SAMPLE_SIZE: '3' }, { OLD_SIZE: 'SAMPLE_SIZE' });
      expect(warnings).toEqual([]);
    });
  });
});
