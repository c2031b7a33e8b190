import { describe, expect, it } from 'vitest';
import { lakeKeys, legacyLakeKeys } from '../../../shared/lake/keys.js';
import {
  chartCsvOfManifest,
  chartCsvSuperseded,
  isAttributesCsv,
  listedPartCsvs,
  newestChartCsv,
  partCsvs,
  partOfKey,
} from '../../../shared/lake/layouts.js';
import type { ObjectInfo } from '../../../shared/ports/object-store.js';

const day = { chartDate: '2026-03-01', chartId: 'global' };
const { chartDate, chartId } = day;
const part = 'part-0123456789abcdef';
const current = { chart: lakeKeys.chartCsv(chartDate, chartId) };
const legacy = { chart: legacyLakeKeys.chartCsv(chartDate, chartId) };
const listing = (...keys: string[]): ObjectInfo[] =>
  keys.map((key) => ({ key, etag: 'e', size: 1, lastModified: new Date(0) }));

describe('Module: layouts, a file in whichever layout the listing has it', () => {
  it('takes the chart CSV in tables/ when listed, else the legacy one', () => {
    expect(newestChartCsv(day, new Set([current.chart, legacy.chart]))).toBe(current.chart);
    expect(newestChartCsv(day, new Set([legacy.chart]))).toBe(legacy.chart);
    expect(newestChartCsv(day, new Set())).toBe(legacy.chart);
  });

  it("takes a manifest's chart CSV from its files, else the newest listed", () => {
    const both = new Set([current.chart, legacy.chart]);
    expect(
      chartCsvOfManifest(day, [{ key: 'raw/x/source-response.json' }, { key: legacy.chart }], both),
    ).toBe(legacy.chart);
    expect(chartCsvOfManifest(day, [{ key: current.chart }], new Set())).toBe(current.chart);
    expect(chartCsvOfManifest(day, undefined, both)).toBe(current.chart);
  });

  it('says a legacy chart CSV is superseded only when a tables/ one is listed beside it', () => {
    expect(chartCsvSuperseded(day, legacy.chart, new Set([legacy.chart, current.chart]))).toBe(true);
    expect(chartCsvSuperseded(day, legacy.chart, new Set([legacy.chart]))).toBe(false);
    expect(chartCsvSuperseded(day, current.chart, new Set([legacy.chart]))).toBe(false);
  });

  it("takes a part's CSVs in tables/ when either is listed there, else the legacy pair", () => {
    const tables = {
      attributesKey: lakeKeys.attributesCsv(chartDate, chartId, part),
      artistsKey: lakeKeys.artistsCsv(chartDate, chartId, part),
    };
    const old = {
      attributesKey: legacyLakeKeys.attributesCsv(chartDate, chartId, part),
      artistsKey: legacyLakeKeys.artistsCsv(chartDate, chartId, part),
    };
    expect(partCsvs(day, part, new Set([tables.artistsKey, old.attributesKey]))).toEqual(tables);
    expect(partCsvs(day, part, new Set([old.artistsKey]))).toEqual(old);
    expect(partCsvs(day, part, new Set())).toEqual(tables);
  });

  it('tells the part of a raw answer or a CSV in either layout, and of nothing else', () => {
    expect(partOfKey(day, lakeKeys.attributesCsv(chartDate, chartId, part))).toBe(part);
    expect(partOfKey(day, lakeKeys.artistsCsv(chartDate, chartId, part))).toBe(part);
    expect(partOfKey(day, lakeKeys.attributesRaw(chartDate, chartId, part))).toBe(part);
    expect(partOfKey(day, legacyLakeKeys.artistsCsv(chartDate, chartId, part))).toBe(part);
    expect(partOfKey(day, lakeKeys.partMarker(chartDate, chartId, 'run-1', part, part.slice(5), '3'))).toBe(
      undefined,
    );
    expect(partOfKey(day, `${lakeKeys.attributesCsv(chartDate, chartId, part)}.bak`)).toBeUndefined();
    expect(partOfKey(day, lakeKeys.attributesCsv(chartDate, 'other', part))).toBeUndefined();
    expect(isAttributesCsv(day, lakeKeys.attributesCsv(chartDate, chartId, part))).toBe(true);
    expect(isAttributesCsv(day, legacyLakeKeys.attributesCsv(chartDate, chartId, part))).toBe(true);
    expect(isAttributesCsv(day, lakeKeys.artistsCsv(chartDate, chartId, part))).toBe(false);
    expect(isAttributesCsv(day, lakeKeys.attributesRaw(chartDate, chartId, part))).toBe(false);
  });

  it('lists the parts whose two CSVs are both there, in either layout, each once, in key order', () => {
    const other = 'part-00000000000000ff';
    const lone = 'part-0000000000000001';
    expect(
      listedPartCsvs(
        day,
        // Listed out of key order: the part under tables/ first, the legacy one (raw/ sorts first) after.
        listing(
          lakeKeys.attributesRaw(chartDate, chartId, part),
          lakeKeys.attributesCsv(chartDate, chartId, part),
          lakeKeys.artistsCsv(chartDate, chartId, part),
          legacyLakeKeys.attributesCsv(chartDate, chartId, part),
          legacyLakeKeys.artistsCsv(chartDate, chartId, part),
          legacyLakeKeys.attributesCsv(chartDate, chartId, other),
          legacyLakeKeys.artistsCsv(chartDate, chartId, other),
          lakeKeys.attributesCsv(chartDate, chartId, lone),
        ),
      ),
    ).toEqual([
      {
        part: other,
        attributesKey: legacyLakeKeys.attributesCsv(chartDate, chartId, other),
        artistsKey: legacyLakeKeys.artistsCsv(chartDate, chartId, other),
      },
      {
        part,
        attributesKey: lakeKeys.attributesCsv(chartDate, chartId, part),
        artistsKey: lakeKeys.artistsCsv(chartDate, chartId, part),
      },
    ]);
  });
});
