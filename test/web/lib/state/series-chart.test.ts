/**
 * The chart data helpers and the chart state class: request slots queue instead of running at once,
 * a chart's refreshes never overlap, a 404 reads as "no history" and other failures keep the last answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SeriesPointsResponse } from '../../../../contract/series.ts';
import type * as ApiModule from '../../../../web/src/lib/api.ts';
import { RequestSlots } from '../../../../web/src/lib/request-slots.ts';
import { chartColumns, chartSummary } from '../../../../web/src/lib/series-chart-data.ts';
import type * as SeriesChartModule from '../../../../web/src/lib/state/series-chart.svelte.ts';
import { makeChange } from '../../support/fixtures.ts';
import { createRuneModuleLoader, type RuneModuleLoader } from '../../support/load-rune-module.ts';

const T = Date.UTC(2026, 2, 2, 12);

function response(values: number[]): SeriesPointsResponse {
  return {
    series: { key: 'k', service: 'checkout', metric: 'error_rate', kind: 'ratio' },
    from: T - 3 * 3_600_000,
    to: T,
    step: 180_000,
    points: values.map((value, i) => ({ time: T - (values.length - i) * 180_000, value, expected: 0.01, lower: 0, upper: i === 0 ? null : 0.02 })),
    versions: [{ version: 'v2', values: values.map((_, i) => (i === values.length - 1 ? 0.2 : null)) }],
    services: ['checkout', 'payments'],
    changes: [makeChange(T, 10)],
  };
}

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('RequestSlots', () => {
  it('runs at most `max` tasks at once, the others in arrival order, and never starts an aborted waiting one', async () => {
    const slots = new RequestSlots(2);
    const gates = [deferred<number>(), deferred<number>(), deferred<number>(), deferred<number>()];
    const started: number[] = [];
    const aborter = new AbortController();
    const runs = gates.map((gate, i) =>
      slots.run(
        () => {
          started.push(i);
          return gate.promise;
        },
        i === 2 ? aborter.signal : undefined,
      ),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    aborter.abort(new Error('gone'));
    gates[0]!.resolve(0);
    await expect(runs[2]).rejects.toThrow('gone');
    await flush();
    expect(started).toEqual([0, 1, 3]);
    gates[1]!.resolve(1);
    gates[3]!.resolve(3);
    expect(await Promise.all([runs[0], runs[1], runs[3]])).toEqual([0, 1, 3]);
    expect(slots.running).toBe(0);
  });
});

describe('chart data', () => {
  it('lays the points out as uPlot columns: time, value, band lower and upper, expected, then one per version', () => {
    expect(chartColumns(response([0.01, 0.05]))).toEqual([
      [T - 360_000, T - 180_000],
      [0.01, 0.05],
      [0, 0],
      [null, 0.02],
      [0.01, 0.01],
      [null, 0.2],
    ]);
  });

  it('summarises the chart in one sentence', () => {
    expect(chartSummary(response([0.01, 0.05]), T - 600_000)).toBe(
      'error_rate of checkout over 3 h; latest 0.05 against an expected 0.01, normal band 0 to 0.02; alert onset at 2026-03-02 11:50:00 UTC; 1 change marked; one line per version: v2.',
    );
    expect(chartSummary({ ...response([]), changes: [], versions: [] }, undefined)).toBe('error_rate of checkout over 3 h; no points yet; no changes on the service or its dependencies in this window.');
  });
});

describe('SeriesChart', () => {
  let loader: RuneModuleLoader;
  let SeriesChart: typeof SeriesChartModule.SeriesChart;
  let ApiError: typeof ApiModule.ApiError;

  beforeAll(async () => {
    loader = await createRuneModuleLoader();
    ({ SeriesChart } = await loader.load<typeof SeriesChartModule>('/src/lib/state/series-chart.svelte.ts'));
    ({ ApiError } = await loader.load<typeof ApiModule>('/src/lib/api.ts'));
  }, 60_000);
  afterAll(() => loader?.close());

  it('loads the alert\'s series, runs a refresh asked for during one after it (never two at once), and counts answers', async () => {
    const calls: Array<ReturnType<typeof deferred<SeriesPointsResponse>>> = [];
    const asked: string[] = [];
    const chart = new SeriesChart((alertId) => {
      asked.push(alertId);
      const call = deferred<SeriesPointsResponse>();
      calls.push(call);
      return call.promise;
    }, 'alrt-1', new RequestSlots(3));
    chart.refresh();
    chart.refresh();
    chart.refresh();
    await flush();
    expect(asked).toEqual(['alrt-1']);
    calls[0]!.resolve(response([1]));
    await flush();
    expect(chart.data?.points).toHaveLength(1);
    expect(chart.received).toBe(1);
    expect(asked).toHaveLength(2);
    calls[1]!.resolve(response([1, 2]));
    await flush();
    expect(chart.data?.points).toHaveLength(2);
    expect(chart.received).toBe(2);
    expect(asked).toHaveLength(2);
  });

  it('reads a 404 as no history, keeps the last answer through other failures, and stops asking once stopped', async () => {
    const answers: Array<() => Promise<SeriesPointsResponse>> = [
      () => Promise.reject(new ApiError(404, 'CW_NOT_FOUND', 'no history')),
      () => Promise.resolve(response([1])),
      () => Promise.reject(new ApiError(503, 'CW_STORE_UNAVAILABLE', 'the store is down')),
    ];
    let count = 0;
    const chart = new SeriesChart(() => answers[count++]!(), 'alrt-2', new RequestSlots(3));
    chart.refresh();
    await flush();
    expect([chart.missing, chart.data]).toEqual([true, undefined]);
    chart.refresh();
    await flush();
    expect([chart.missing, chart.data?.points.length, chart.problem]).toEqual([false, 1, undefined]);
    chart.refresh();
    await flush();
    expect(chart.data?.points.length).toBe(1);
    expect(chart.problem).toBe('The store is down.');
    chart.stop();
    chart.refresh();
    await flush();
    expect(count).toBe(3);
  });
});
