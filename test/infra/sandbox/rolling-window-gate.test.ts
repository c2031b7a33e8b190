import { describe, expect, it } from 'vitest';
import { rollingWindowGate } from '../../../infra/sandbox/index.js';

describe('Function: rollingWindowGate', () => {
  it('admits `requests` in any window, then answers the wait until the oldest leaves it', () => {
    const gate = rollingWindowGate({ requests: 3, windowMs: 1_000 });
    expect([gate.admit(0), gate.admit(100), gate.admit(200)]).toEqual([undefined, undefined, undefined]);
    expect(gate.admit(300)).toBe(700);
    // Refusals are not counted: waiting as told is enough.
    expect(gate.admit(999)).toBe(1);
    expect(gate.admit(1_000)).toBeUndefined();
    expect(gate.admit(1_050)).toBe(50);
  });

  it('rolls: a request leaves the window exactly `windowMs` after it was admitted', () => {
    const gate = rollingWindowGate({ requests: 1, windowMs: 500 });
    expect(gate.admit(10)).toBeUndefined();
    expect(gate.admit(509)).toBe(1);
    expect(gate.admit(510)).toBeUndefined();
  });

  it('forgets every admitted request on reset', () => {
    const gate = rollingWindowGate({ requests: 1, windowMs: 60_000 });
    gate.admit(0);
    expect(gate.admit(1)).toBe(59_999);
    gate.reset();
    expect(gate.admit(2)).toBeUndefined();
  });
});
