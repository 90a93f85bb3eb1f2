import { describe, expect, it } from 'vitest';
import {
  confidenceLevel,
  formatAbsoluteTime,
  formatCalendarDate,
  formatCount,
  formatDuration,
  formatExpiry,
  formatMetricValue,
  formatPercent,
  formatRelativeTime,
  formatUtcDate,
  safeHttpUrl,
  timeZoneLabel,
} from '../../../web/src/lib/format.ts';

const now = Date.parse('2026-11-23T03:30:00Z');

describe('format', () => {
  it('words relative times coarsely, and never in the future', () => {
    expect(formatRelativeTime(now + 5_000, now)).toBe('just now');
    expect(formatRelativeTime(now - 9_000, now)).toBe('just now');
    expect(formatRelativeTime(now - 42_000, now)).toBe('42 s ago');
    expect(formatRelativeTime(now - 3 * 60_000 - 59_000, now)).toBe('3 min ago');
    expect(formatRelativeTime(now - 2 * 3_600_000, now)).toBe('2 h ago');
    expect(formatRelativeTime(now - 3 * 86_400_000, now)).toBe('3 d ago');
  });

  it('gives absolute times and dates in UTC', () => {
    expect(formatAbsoluteTime(now)).toBe('2026-11-23 03:30:00 UTC');
    expect(formatUtcDate(Date.parse('2026-11-23T23:59:00-02:00'))).toBe('2026-11-24');
  });

  it('gives absolute times and dates in local time on request, always naming the zone', () => {
    expect(formatAbsoluteTime(now, 'utc')).toBe('2026-11-23 03:30:00 UTC');
    expect(formatAbsoluteTime(now, 'local', 'Europe/Berlin')).toBe('2026-11-23 04:30:00 GMT+1');
    expect(formatAbsoluteTime(now, 'local', 'America/New_York')).toBe('2026-11-22 22:30:00 EST');
    expect(formatAbsoluteTime(Date.parse('2026-11-23T23:00:00Z'), 'local', 'Asia/Kolkata')).toBe('2026-11-24 04:30:00 GMT+5:30');
    expect(formatCalendarDate(now, 'local', 'America/New_York')).toBe('2026-11-22');
    expect(formatCalendarDate(now, 'utc')).toBe('2026-11-23');
    expect(timeZoneLabel('utc')).toBe('UTC');
    expect(timeZoneLabel('local', now, 'Europe/Berlin')).toBe('GMT+1');
  });

  it('formats durations', () => {
    expect(formatDuration(40_000)).toBe('40 s');
    expect(formatDuration(-5 * 60_000)).toBe('5 min');
    expect(formatDuration(80 * 60_000)).toBe('1 h 20 min');
    expect(formatDuration(2 * 3_600_000)).toBe('2 h');
    // Rounded as a whole: never "60 s", "60 min" or "3 h 60 min".
    expect(formatDuration(59_700)).toBe('1 min');
    expect(formatDuration(59 * 60_000 + 50_000)).toBe('1 h');
    expect(formatDuration(4 * 3_600_000 - 1_000)).toBe('4 h');
  });

  it('never rounds a non-zero or non-certain probability to 0% or 100%', () => {
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.004)).toBe('<1%');
    expect(formatPercent(0.125)).toBe('13%');
    expect(formatPercent(0.997)).toBe('>99%');
    expect(formatPercent(1)).toBe('100%');
  });

  it('formats metric values and counters compactly', () => {
    expect(formatMetricValue(0.052345)).toBe('0.0523');
    expect(formatMetricValue(1234.5)).toBe('1,230');
    expect(formatCount(950)).toBe('950');
    expect(formatCount(1_284_553)).toBe('1.3M');
  });

  it('words confidence levels', () => {
    expect(confidenceLevel(0.82)).toBe('High');
    expect(confidenceLevel(0.7)).toBe('High');
    expect(confidenceLevel(0.5)).toBe('Medium');
    expect(confidenceLevel(0.1)).toBe('Low');
  });

  it('lets only absolute http(s) links through', () => {
    expect(safeHttpUrl('https://git.example.com/shop/checkout/pull/812')).toBe('https://git.example.com/shop/checkout/pull/812');
    expect(safeHttpUrl('http://ci.internal/pr/3')).toBe('http://ci.internal/pr/3');
    expect(safeHttpUrl('javascript:alert(1)')).toBeUndefined();
    expect(safeHttpUrl('/relative/pr/3')).toBeUndefined();
    expect(safeHttpUrl(undefined)).toBeUndefined();
  });

  it('counts down to an approval deadline, rounding up', () => {
    expect(formatExpiry(now + 12 * 60_000, now)).toBe('expires in 12 min');
    expect(formatExpiry(now + 11 * 60_000 + 1, now)).toBe('expires in 12 min');
    expect(formatExpiry(now + 40_500, now)).toBe('expires in 41 s');
    expect(formatExpiry(now + 90 * 60_000, now)).toBe('expires in 1 h 30 min');
    expect(formatExpiry(now, now)).toBe('approval window passed');
    expect(formatExpiry(now - 5_000, now)).toBe('approval window passed');
  });
});
