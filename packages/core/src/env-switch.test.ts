import { afterEach, describe, expect, it } from 'vitest';
import { envSetting, envSwitch } from './env-switch';

describe('envSwitch', () => {
  afterEach(() => {
    delete process.env['CLIPWISE_TEST_SWITCH'];
  });

  it('defaultOn: on unless the variable says "off"; set and null as without', () => {
    expect(envSwitch('CLIPWISE_TEST_SWITCH_UNSET', true).enabled()).toBe(true);
    process.env['CLIPWISE_TEST_SWITCH'] = 'off';
    const s = envSwitch('CLIPWISE_TEST_SWITCH', true);
    expect(s.enabled()).toBe(false);
    s.set(true);
    expect(s.enabled()).toBe(true);
    process.env['CLIPWISE_TEST_SWITCH'] = 'no'; // only 'off' turns a default-on switch off
    s.set(null);
    expect(s.enabled()).toBe(true);
  });

  it('defaults to the variable (on only for "on"), read once; set overrides it and null goes back', () => {
    process.env['CLIPWISE_TEST_SWITCH'] = 'on';
    const s = envSwitch('CLIPWISE_TEST_SWITCH');
    expect(s.enabled()).toBe(true);
    process.env['CLIPWISE_TEST_SWITCH'] = 'off'; // read once: no change until set(null)
    expect(s.enabled()).toBe(true);
    s.set(false);
    expect(s.enabled()).toBe(false);
    s.set(null);
    expect(s.enabled()).toBe(false); // the variable again, now 'off'
    process.env['CLIPWISE_TEST_SWITCH'] = 'yes';
    expect(envSwitch('CLIPWISE_TEST_SWITCH').enabled()).toBe(false); // only 'on' turns it on
    expect(envSwitch('CLIPWISE_TEST_SWITCH_UNSET').enabled()).toBe(false);
  });

  it('envSetting parses the variable once, set overrides it, null parses it again; a parse error reaches the caller', () => {
    process.env['CLIPWISE_TEST_SWITCH'] = '3';
    let parses = 0;
    const s = envSetting('CLIPWISE_TEST_SWITCH', (v) => {
      parses++;
      if (v !== undefined && !/^\d+$/.test(v)) throw new RangeError(`CLIPWISE_TEST_SWITCH must be a whole number, got '${v}'`);
      return Number(v ?? 1);
    });
    expect([s.get(), s.get(), parses]).toEqual([3, 3, 1]);
    s.set(7);
    expect(s.get()).toBe(7);
    process.env['CLIPWISE_TEST_SWITCH'] = 'many';
    s.set(null);
    expect(() => s.get()).toThrow(/CLIPWISE_TEST_SWITCH must be a whole number, got 'many'/);
    delete process.env['CLIPWISE_TEST_SWITCH'];
    expect(s.get()).toBe(1);
  });
});
