// The soak's leak criterion (test/campaign/leak-trend.ts): a steady climb of the troughs is a leak; noise,
// a spike at the end or a collection that comes late are not.

import assert from "node:assert/strict";
import { leakTrend, type RssSample } from "./campaign/leak-trend.js";

/** A sawtooth: the heap grows by `saw` KiB between collections every `gcEveryMs`, on top of `base(t)`. */
function series(durationMs: number, base: (t: number) => number, saw = 4000, gcEveryMs = 7000, everyMs = 500): RssSample[] {
  const out: RssSample[] = [];
  for (let t = 0; t <= durationMs; t += everyMs) out.push({ t, kib: base(t) + ((t % gcEveryMs) / gcEveryMs) * saw });
  return out;
}

/** A fixed pseudo-random jitter, so the test is the same every run. */
function jitter(samples: RssSample[], amplitude: number): RssSample[] {
  let x = 12345;
  return samples.map((s) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return { t: s.t, kib: s.kib + ((x / 2 ** 31) * 2 - 1) * amplitude };
  });
}

describe("soak leak criterion (trend of RSS troughs)", () => {
  const TEN_MIN = 10 * 60_000;

  it("a flat, noisy sawtooth shows no growth", () => {
    const t = leakTrend(jitter(series(TEN_MIN, () => 80_000), 1500));
    assert.ok(Math.abs(t.growth) < 0.02, `growth ${t.growth}`);
  });

  it("a spike in the last minute (load, a late collection) is not a leak; first-vs-last peaks would call it one", () => {
    const spiky = series(TEN_MIN, (t) => 80_000 + (t > TEN_MIN - 60_000 && t < TEN_MIN - 20_000 ? 12_000 : 0));
    const t = leakTrend(spiky);
    assert.ok(t.growth < 0.03, `growth ${t.growth}`);
    const firstPeak = Math.max(...spiky.filter((s) => s.t < 60_000).map((s) => s.kib));
    const lastPeak = Math.max(...spiky.filter((s) => s.t > TEN_MIN - 60_000).map((s) => s.kib));
    assert.ok((lastPeak - firstPeak) / firstPeak > 0.1, "the old criterion would have failed it");
  });

  it("a steady leak of 1 MiB a minute under the same noise is found", () => {
    const leaking = jitter(series(TEN_MIN, (t) => 80_000 + (t / 60_000) * 1024), 1500);
    const t = leakTrend(leaking);
    assert.ok(t.growth > 0.1, `growth ${t.growth}`);
    assert.ok(Math.abs(t.slopeKibPerMin - 1024) < 200, `slope ${t.slopeKibPerMin} KiB/min`);
  });

  it("too few samples give no verdict rather than a wild one", () => {
    assert.equal(leakTrend([]).growth, 0);
    assert.equal(leakTrend([{ t: 0, kib: 100 }]).growth, 0);
  });
});
