import { describe, expect, it } from 'vitest';
import { nextLeaseStep, observe, releasedRecord, type LeaseObservation, type LeaseRecord } from './lease.js';

const me = { identity: 'gate-a', leaseDurationSeconds: 15 };
const held = (holder: string, over: Partial<LeaseRecord> = {}): LeaseRecord => ({
  holder,
  leaseDurationSeconds: 15,
  acquireTimeMs: 1_000,
  renewTimeMs: 1_000,
  transitions: 3,
  ...over,
});
const seen = (record: LeaseRecord, observedAtMs: number): LeaseObservation => ({
  record,
  resourceVersion: '7',
  observedAtMs,
});

describe('nextLeaseStep', () => {
  it.each<[string, LeaseObservation | null, number, string]>([
    ['no Lease yet: create it', null, 5_000, 'create gate-a'],
    ['held by me: renew', seen(held('gate-a'), 0), 5_000, 'renew gate-a'],
    ['held by another, fresh: wait', seen(held('gate-b'), 0), 5_000, 'wait gate-b 10000'],
    [
      'held by another, last change seen 15 s ago: take over',
      seen(held('gate-b'), 0),
      15_000,
      'acquire gate-a from gate-b',
    ],
    ['released (no holder): take over at once', seen(held(''), 4_999), 5_000, 'acquire gate-a from '],
    [
      // The holder's clock says it renewed long ago; what counts is how long this process has seen no change.
      'renewTime far in the past but version just seen: wait (clock skew safe)',
      seen(held('gate-b', { renewTimeMs: -1_000_000 }), 5_000),
      5_000,
      'wait gate-b 15000',
    ],
    [
      'short lease of the holder is honoured',
      seen(held('gate-b', { leaseDurationSeconds: 2 }), 0),
      2_001,
      'acquire gate-a from gate-b',
    ],
  ])('%s', (_name, current, now, expected) => {
    const step = nextLeaseStep(current, me, now);
    const text =
      step.kind === 'wait'
        ? `wait ${step.holder} ${step.expiresInMs}`
        : step.kind === 'acquire'
          ? `acquire ${step.record.holder} from ${step.previousHolder}`
          : `${step.kind} ${step.record.holder}`;
    expect(text).toBe(expected);
  });

  it('counts transitions and stamps acquire and renew times on a take-over', () => {
    const step = nextLeaseStep(seen(held('gate-b'), 0), me, 20_000);
    expect(step).toMatchObject({
      kind: 'acquire',
      record: { holder: 'gate-a', transitions: 4, acquireTimeMs: 20_000, renewTimeMs: 20_000 },
    });
  });

  it('keeps acquireTime and transitions on renew', () => {
    const step = nextLeaseStep(seen(held('gate-a'), 0), me, 9_000);
    expect(step).toMatchObject({
      kind: 'renew',
      record: { acquireTimeMs: 1_000, renewTimeMs: 9_000, transitions: 3 },
    });
  });
});

describe('observe', () => {
  const read = (rv: string) => ({ record: held('gate-b'), resourceVersion: rv });
  it.each<[string, LeaseObservation | null, string, number]>([
    ['first sight', null, '1', 900],
    ['same version keeps its first time', { ...read('1'), observedAtMs: 100 }, '1', 100],
    ['a new version restarts the clock', { ...read('1'), observedAtMs: 100 }, '2', 900],
  ])('%s', (_name, previous, rv, expected) => {
    expect(observe(previous, read(rv), 900).observedAtMs).toBe(expected);
  });
});

it('a released Lease has no holder', () => {
  expect(releasedRecord(held('gate-a'), 50)).toMatchObject({ holder: '', renewTimeMs: 50, transitions: 3 });
});
