import { describe, expect, it } from 'vitest';
import { withoutLoaders } from '../../../server/threaded-engine';

describe('the engine thread’s flags', () => {
  it('are this process’s, less its loaders', () => {
    expect(
      withoutLoaders([
        '--import',
        'tsx',
        '--expose-gc',
        '--import=tsx/esm',
        '--loader',
        'x',
        '--max-old-space-size=64',
      ]),
    ).toEqual(['--expose-gc', '--max-old-space-size=64']);
  });
});
