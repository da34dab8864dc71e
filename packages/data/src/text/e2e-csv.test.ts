import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasSharedData, sharedDataDir } from '../__fixtures__/shared-data.js';
import { readE2ECsv } from '../node/read-e2e-csv.js';
import { parseE2ECsv } from './e2e-csv.js';
import { groupReferencesByMr } from './e2e-format.js';

describe('parseE2ECsv', () => {
  it('reads mr/ref pairs in either column order, trimming fields', () => {
    const text = 'ref,MR\n"X serves Thai food. ","name[X], food[Thai]"\nPlain ref,"name[Y]"\n';
    expect(parseE2ECsv(text, 'x.csv')).toEqual([
      { mr: 'name[X], food[Thai]', ref: 'X serves Thai food.' },
      { mr: 'name[Y]', ref: 'Plain ref' },
    ]);
  });

  it('explains a missing header column or a wrong field count', () => {
    expect(() => parseE2ECsv('meaning,text\na,b\n', 'x.csv')).toThrow(/x.csv:1: header .* lacks an "mr" or "ref" column/);
    expect(() => parseE2ECsv('mr,ref\nname[X], food[Thai],X\n', 'x.csv')).toThrow(/x.csv:2: row has 3 fields but the header has 2; quote fields/);
    expect(() => parseE2ECsv('', 'x.csv')).toThrow(/empty file/);
  });
});

describe.skipIf(!hasSharedData)('E2E files in the shared data folder', () => {
  // Reference counts from Python's csv module: dev 4672 pairs / 547 MRs, test 4693 pairs / 630 MRs.
  it('reads devset.csv and testset_w_refs.csv and groups refs by mr', async () => {
    const dev = await readE2ECsv(path.join(sharedDataDir, 'e2e/devset.csv'));
    const test = await readE2ECsv(path.join(sharedDataDir, 'e2e/testset_w_refs.csv'));
    expect(dev).toHaveLength(4672);
    expect(test).toHaveLength(4693);
    expect(dev[0]).toEqual({
      mr: 'name[Alimentum], area[city centre], familyFriendly[no]',
      ref: 'There is a place in the city centre, Alimentum, that is not family-friendly.',
    });
    expect(dev[3].ref).toBe('Alimentum is not a family-friendly arena and is located in the city centre.');
    const groups = groupReferencesByMr(test);
    expect(groups.size).toBe(630);
    expect([...groups.values()].reduce((a, r) => a + r.length, 0)).toBe(4693);
    expect(groupReferencesByMr(dev).size).toBe(547);
    expect(groups.get('name[Blue Spice], eatType[coffee shop], area[city centre]')?.[1]).toBe('Blue Spice is a coffee shop in city centre.');
  });
});
