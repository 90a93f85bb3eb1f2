import { describe, expect, it } from 'vitest';
import { AlertBook } from '../../server/alert-book.ts';
import { anAlert } from './alerts/stages/fixtures.ts';

describe('AlertBook', () => {
  it('keeps the newest emission of each alert', () => {
    const book = new AlertBook();
    book.upsert(anAlert({ updatedAt: '2026-03-02T10:01:00.000Z', observed: 2 }));
    book.upsert(anAlert({ observed: 1 }));
    expect(book.get('alrt-1')?.observed).toBe(2);
  });

  it('gives a connecting dashboard every open alert even beyond the limit, topped up with the newest resolved ones', () => {
    const book = new AlertBook();
    for (let i = 0; i < 5; i++) book.upsert(anAlert({ id: `resolved-${i}`, status: 'resolved' }));
    for (let i = 0; i < 3; i++) book.upsert(anAlert({ id: `open-${i}` }));
    expect(book.forDashboard(5).map((a) => a.id)).toEqual(['open-2', 'open-1', 'open-0', 'resolved-4', 'resolved-3']);
    expect(book.forDashboard(2).map((a) => a.id)).toEqual(['open-2', 'open-1', 'open-0']);
  });
});
