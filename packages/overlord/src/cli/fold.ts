// Folding for large fleets (as clush -b and dshbak -c do): hosts with identical results are printed once,
// under a compact node set such as `web[01-07,09],db1`.

/** Splits `web07.example.com` into prefix `web`, number `07`, suffix `.example.com` (the last digit run). */
function split(name: string): { prefix: string; num: string; suffix: string } | null {
  const m = /^(.*?)(\d+)(\D*)$/.exec(name);
  return m ? { prefix: m[1]!, num: m[2]!, suffix: m[3]! } : null;
}

/** Folds names into node-set syntax: runs of numbers with the same prefix, suffix and width become ranges. */
export function foldNames(names: readonly string[]): string {
  const groups = new Map<string, { prefix: string; suffix: string; width: number; nums: number[] }>();
  const plain: string[] = [];
  for (const name of names) {
    const s = split(name);
    if (!s) {
      plain.push(name);
      continue;
    }
    const width = s.num.startsWith("0") ? s.num.length : 0;
    const key = `${s.prefix}\0${s.suffix}\0${width}`;
    const g = groups.get(key) ?? { prefix: s.prefix, suffix: s.suffix, width, nums: [] };
    g.nums.push(Number(s.num));
    groups.set(key, g);
  }
  const parts: string[] = [...plain];
  for (const g of groups.values()) {
    const nums = [...new Set(g.nums)].sort((a, b) => a - b);
    const pad = (n: number) => String(n).padStart(g.width, "0");
    if (nums.length === 1) {
      parts.push(`${g.prefix}${pad(nums[0]!)}${g.suffix}`);
      continue;
    }
    const ranges: string[] = [];
    for (let i = 0; i < nums.length; ) {
      let j = i;
      while (j + 1 < nums.length && nums[j + 1] === nums[j]! + 1) j++;
      ranges.push(i === j ? pad(nums[i]!) : `${pad(nums[i]!)}-${pad(nums[j]!)}`);
      i = j + 1;
    }
    parts.push(`${g.prefix}[${ranges.join(",")}]${g.suffix}`);
  }
  return parts.sort().join(",");
}
