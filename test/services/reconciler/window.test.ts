import { describe, expect, it } from 'vitest';
import {
  defaultReconcilerSettings,
  maxReconcileDays,
  windowOf,
  type ReconcilerSettings,
} from '../../../services/reconciler/reconcile.js';
import { InvalidRecordError } from '../../../shared/errors.js';

const settings: ReconcilerSettings = {
  ...defaultReconcilerSettings,
  tracksGoneAfterMs: 0,
  missingTracks: 'lost',
  quietLockMs: 0,
};
/** Noon on 2026-11-20: "today" for every request here. */
const deps = {
  clock: { now: () => new Date('2026-11-20T12:00:00.000Z'), sleep: async () => undefined },
  settings,
};

describe('windowOf: the days and chart a reconcile request names', () => {
  it('is the last defaultDays days up to today, repaired, every chart, when the request names nothing', () => {
    expect(windowOf({}, deps)).toEqual({ from: '2026-11-14', to: '2026-11-20', dryRun: false });
  });

  it('runs from a past day up to today when only from is given', () => {
    expect(windowOf({ from: '2026-11-01' }, deps)).toEqual({
      from: '2026-11-01',
      to: '2026-11-20',
      dryRun: false,
    });
  });

  it('is the one day from names when that day is after today and no to is given', () => {
    expect(windowOf({ from: '2026-11-25' }, deps)).toEqual({
      from: '2026-11-25',
      to: '2026-11-25',
      dryRun: false,
    });
  });

  it('ends at to and starts defaultDays before it when only to is given', () => {
    expect(windowOf({ to: '2026-10-31' }, deps)).toEqual({
      from: '2026-10-25',
      to: '2026-10-31',
      dryRun: false,
    });
  });

  it('keeps the chart and the dry run a request names', () => {
    expect(windowOf({ from: '2026-11-20', to: '2026-11-20', chartId: 'global', dryRun: true }, deps)).toEqual(
      {
        from: '2026-11-20',
        to: '2026-11-20',
        chartId: 'global',
        dryRun: true,
      },
    );
  });

  it('refuses a window whose from is after its to, naming both', () => {
    expect(() => windowOf({ from: '2026-11-21', to: '2026-11-20' }, deps)).toThrow(
      new InvalidRecordError('reconcile request: from (2026-11-21) is after to (2026-11-20)'),
    );
  });

  it(`takes a window of ${maxReconcileDays} days, and refuses one a day longer, saying how long it is`, () => {
    expect(windowOf({ from: '2025-11-20', to: '2026-11-20' }, deps)).toMatchObject({ from: '2025-11-20' });
    expect(() => windowOf({ from: '2025-11-19', to: '2026-11-20' }, deps)).toThrow(
      new InvalidRecordError('reconcile request: 367 days from 2025-11-19 to 2026-11-20, more than 366'),
    );
  });

  it('refuses a request with a field it does not know, saying it is the reconcile request', () => {
    expect(() => windowOf({ chart: 'global' } as never, deps)).toThrow(/^reconcile request: .*chart/);
  });
});
