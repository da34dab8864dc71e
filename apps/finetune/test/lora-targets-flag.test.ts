import { describe, expect, it } from 'vitest';
import { loraTargetsOf } from '../src/train/trainable-setup';

// --lora-targets: names, peft's all-linear shorthand, or re:PATTERN (peft's regex string).
describe('--lora-targets', () => {
  it('reads a list of names, all-linear, or a regular expression after re:', () => {
    expect(loraTargetsOf(undefined)).toBeUndefined();
    expect(loraTargetsOf('c_attn, c_fc')).toEqual(['c_attn', 'c_fc']);
    expect(loraTargetsOf('all-linear')).toBe('all-linear');
    expect(loraTargetsOf('re:transformer\\.h\\.0\\..*')).toBe('transformer\\.h\\.0\\..*');
  });
  it('refuses an empty name or an empty pattern, naming the flag', () => {
    expect(() => loraTargetsOf('c_attn,,c_fc')).toThrow(/--lora-targets 'c_attn,,c_fc': empty name in the list/);
    expect(() => loraTargetsOf('re:')).toThrow(/--lora-targets 're:': the regular expression after re: is empty/);
  });
});
