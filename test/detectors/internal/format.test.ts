import { describe, expect, it } from 'vitest';
import { rarityInWords } from '../../../detectors/internal/format.ts';

describe('rarityInWords', () => {
  it('says how rare a value is in rounded words, not as a falsely precise "1 in 87,758 points"', () => {
    expect(rarityInWords(Math.log10(87_758))).toBe('seen less than once in 88,000 readings');
    expect(rarityInWords(4)).toBe('seen less than once in 10,000 readings');
    expect(rarityInWords(Math.log10(1_234_567))).toBe('seen less than once in 1.2 million readings');
    expect(rarityInWords(9.53)).toBe('seen less than once in 3.4 billion readings');
    expect(rarityInWords(40)).toBe('seen less than once in 1000 trillion readings');
    expect(rarityInWords(Math.log10(437))).toBe('seen less than once in 440 readings');
    expect(rarityInWords(0)).toBe('not unusual for this series');
  });
});
