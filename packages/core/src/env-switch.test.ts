import { afterEach, describe, expect, it } from 'vitest';
import { envSwitch } from './env-switch';

describe('envSwitch', () => {
  afterEach(() => {
    delete process.env['CLIPWISE_TEST_SWITCH'];
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
});
