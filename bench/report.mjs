// Renders a results object (bench/harness.mjs) as a Markdown table with its machine description, and as an
// SVG chart of cold fan-out time vs N for func (--forks 1 and 2) and its floor. Pure: strings in, strings out.

const fmt = (x, digits = 0) => (x === null || x === undefined ? "n/a" : Number(x).toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const yesNo = (met) => (met === null || met === undefined ? "n/a" : met ? "yes" : "**no**");

/** One table line per row of the results. */
export function tableMarkdown(results) {
  const lines = [
    "| workload | N | variant | func (median) | floor (median) | ratio | target | met? |",
    "|---|---:|---|---:|---:|---:|---|:-:|",
  ];
  for (const r of results.rows) {
    switch (r.workload) {
      case "cold-fanout":
        lines.push(`| cold CLI fan-out | ${r.n} | \`${r.variant}\` | ${fmt(r.func.median)} ms | ${fmt(r.floor.median)} ms | ${fmt(r.ratio, 2)}x | ${r.target} | ${yesNo(r.met)} |`);
        break;
      case "repeat-cli":
        lines.push(`| repeat CLI run | ${r.n} | ${r.variant} | ${fmt(r.func.median)} ms | cold: ${fmt(r.cold.median)} ms | ${fmt(r.speedup, 2)}x faster | ${r.target} | ${yesNo(r.met)} |`);
        break;
      case "warm-api":
        lines.push(`| warm API | ${r.n} | ${r.variant} | ${fmt(r.func.median)} calls/s | ${fmt(r.floor.median)} calls/s | ${fmt(r.ratio, 2)}x | ${r.target} | ${yesNo(r.met)} |`);
        break;
      case "minion-footprint":
        lines.push(`| minion footprint | 1 | ${r.variant} | idle ${fmt(r.idleRssMb, 1)} MB RSS; ${fmt(r.afterCallsRssMb, 1)} MB after ${fmt(r.calls)} calls; ${fmt(r.afterEnrollRssMb, 1)} MB right after enrolling (before a restart) | | | ${r.target} | ${yesNo(r.met)} |`);
        lines.push(`| async runner start | 1 | funcd's RUNNING record to the runner's FINISHED one (\`test.sleep 0\`) | ${fmt(r.asyncRunnerStartMs)} ms | | | | n/a |`);
        break;
      case "async":
        lines.push(`| async job | ${r.n} | submit (\`Overlord.callAsync\`, job id back) | ${fmt(r.submit.median)} ms | | | | n/a |`);
        lines.push(`| async job | ${r.n} | submit from the CLI (\`call --async --nopoll\`, a fresh process) | ${fmt(r.cliSubmit.median)} ms | | | | n/a |`);
        lines.push(`| async job | ${r.n} | every result collected (\`waitJob\`, polling every 100 ms) | ${fmt(r.collect.median)} ms | | | | n/a |`);
        break;
      case "job-store":
        lines.push(`| job store | ${fmt(r.n)} | insert (synthetic finished jobs, 10,000 per transaction) | ${fmt(r.insertMs / 1000, 1)} s (${fmt(r.insertPerSec)} jobs/s, ${fmt(r.storeMb)} MB) | | | | n/a |`);
        lines.push(`| job store | ${fmt(r.n)} | newest 50 (\`func job list\`'s read) | ${fmt(r.listMs, 2)} ms (first: ${fmt(r.firstListMs, 1)} ms) | | | < ${results.targets.jobListMs} ms | ${yesNo(r.listMs < results.targets.jobListMs)} |`);
        lines.push(`| job store | ${fmt(r.n)} | \`func job list\`, a fresh process | ${fmt(r.cliListMs)} ms | \`node -e ""\`: ${fmt(r.nodeStartMs)} ms | | < ${results.targets.jobListMs} ms | ${yesNo(r.cliListMs < results.targets.jobListMs)} |`);
        lines.push(`| job store | ${fmt(r.n)} | status lookup of one job (record, bookkeeping, hosts) | ${fmt(r.lookupMs, 3)} ms (first: ${fmt(r.firstLookupMs, 2)} ms) | | | < ${results.targets.statusLookupMs} ms | ${yesNo(r.lookupMs < results.targets.statusLookupMs)} |`);
        lines.push(`| job store | ${fmt(r.n)} | \`func job status ID\`, a fresh process | ${fmt(r.cliStatusMs)} ms | \`node -e ""\`: ${fmt(r.nodeStartMs)} ms | | | n/a |`);
        lines.push(`| job store | ${fmt(r.n)} | purge the ${fmt(r.purged)} oldest | ${fmt(r.purgeMs)} ms | | | | n/a |`);
        break;
      case "web-api":
        lines.push(`| func-web | ${r.n} | ${r.variant} | ${fmt(r.func.median)} ms | cold CLI: ${fmt(r.cold.median)} ms | ${fmt(r.speedup, 2)}x faster | ${r.target} | ${yesNo(r.met)} |`);
        break;
      default:
        if (r.status) lines.push(`| ${r.workload} | ${fmt(r.n)} | ${r.variant} | ${r.status} | | | | n/a |`);
    }
  }
  return lines.join("\n");
}

/**
 * CPU time beside the wall times: the process measured (with its forked buckets) and the fleet's funcd
 * processes meanwhile. On a shared machine these move less than wall time does.
 */
export function cpuMarkdown(results) {
  const lines = [
    "| workload | N | variant | func: own CPU | func: fleet CPU | floor: own CPU | floor: fleet CPU | own CPU ratio |",
    "|---|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of results.rows) {
    if (r.workload === "cold-fanout") {
      const ratio = r.func.cpuMs && r.floor.cpuMs ? r.func.cpuMs / r.floor.cpuMs : null;
      lines.push(`| cold CLI fan-out | ${r.n} | \`${r.variant}\` | ${fmt(r.func.cpuMs)} ms | ${fmt(r.func.serverCpuMs)} ms | ${fmt(r.floor.cpuMs)} ms | ${fmt(r.floor.serverCpuMs)} ms | ${fmt(ratio, 2)}x |`);
    } else if (r.workload === "repeat-cli") {
      const ratio = r.func.cpuMs && r.cold.cpuMs ? r.func.cpuMs / r.cold.cpuMs : null;
      lines.push(`| repeat CLI run (vs cold) | ${r.n} | resumed | ${fmt(r.func.cpuMs)} ms | ${fmt(r.func.serverCpuMs)} ms | cold: ${fmt(r.cold.cpuMs)} ms | cold: ${fmt(r.cold.serverCpuMs)} ms | ${fmt(ratio, 2)}x |`);
    } else if (r.workload === "warm-api") {
      const ratio = r.func.cpuMsPerCall && r.floor.cpuMsPerCall ? r.func.cpuMsPerCall / r.floor.cpuMsPerCall : null;
      lines.push(`| warm API, per call | ${r.n} | | ${fmt(r.func.cpuMsPerCall, 3)} ms | ${fmt(r.func.serverCpuMsPerCall, 3)} ms | ${fmt(r.floor.cpuMsPerCall, 3)} ms | ${fmt(r.floor.serverCpuMsPerCall, 3)} ms | ${fmt(ratio, 2)}x |`);
    }
  }
  return lines.join("\n");
}

export function machineMarkdown(results) {
  const m = results.machine;
  return [
    `- Machine: ${m.nproc} cores (\`nproc\`), ${m.cpu}, ${fmt(m.memTotalMb / 1024, 1)} GiB RAM, Linux ${m.kernel}`,
    `- Node ${m.node}, OpenSSL ${m.openssl}; fleet of ${results.fleet.minions} minions in ${results.fleet.funcdProcesses} funcd processes on the same cores`,
    `- Load average (1/5/15 min) at start ${m.loadAvgStart.join(" / ")}, at end ${m.loadAvgEnd.join(" / ")} (other jobs shared the machine)`,
    `- ${results.settings.runs} runs per cold measurement (${results.settings.runsLarge} at N = 1000), ${results.settings.warmRuns} per warm one, medians shown; concurrency ${results.settings.concurrency} per bucket; run took ${fmt(results.durationS)} s (${results.date})`,
  ].join("\n");
}

/** Time vs N, log-scaled N axis, one polyline per series, min-max whiskers. */
export function chartSvg(results) {
  const cold = results.rows.filter((r) => r.workload === "cold-fanout");
  const sizes = [...new Set(cold.map((r) => r.n))].sort((a, b) => a - b);
  const series = [];
  const byVariant = new Map();
  for (const r of cold) {
    if (!byVariant.has(r.variant)) byVariant.set(r.variant, []);
    byVariant.get(r.variant).push({ n: r.n, ...r.func });
  }
  for (const [variant, points] of byVariant) series.push({ label: `func ${variant}`, points });
  series.push({ label: "floor (plain node:https)", points: sizes.map((n) => ({ n, ...cold.find((r) => r.n === n).floor })) });
  const repeat = results.rows.filter((r) => r.workload === "repeat-cli").map((r) => ({ n: r.n, ...r.func }));
  if (repeat.length) series.push({ label: "func repeat run (resumed TLS)", points: repeat });
  const colors = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e"];
  const dashes = ["", "6 3", "2 2", "8 3 2 3", ""];

  const W = 720;
  const H = 420;
  const pad = { l: 70, r: 60, t: 40, b: 60 };
  const target = results.targets?.cold1000Ms;
  const maxY = Math.max(1, target ?? 0, ...series.flatMap((s) => s.points.map((p) => p.max ?? p.median ?? 0))) * 1.08;
  const logMin = Math.log10(Math.min(...sizes) / 1.5);
  const logMax = Math.log10(Math.max(...sizes) * 1.5);
  const x = (n) => pad.l + ((Math.log10(n) - logMin) / (logMax - logMin)) * (W - pad.l - pad.r);
  const y = (ms) => H - pad.b - (ms / maxY) * (H - pad.t - pad.b);
  const step = niceStep(maxY / 6);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">Cold CLI fan-out: func "@N" call test ping vs its floor (median, min-max)</text>`,
  ];
  for (let v = 0; v <= maxY; v += step) {
    out.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${pad.l - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`);
  }
  for (const n of sizes) {
    out.push(`<line x1="${x(n).toFixed(1)}" x2="${x(n).toFixed(1)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${x(n).toFixed(1)}" y="${H - pad.b + 18}" text-anchor="middle">${n}</text>`);
  }
  if (target) {
    out.push(`<line x1="${x(1000 / 1.3).toFixed(1)}" x2="${(x(1000) + 12).toFixed(1)}" y1="${y(target).toFixed(1)}" y2="${y(target).toFixed(1)}" stroke="#888" stroke-dasharray="4 4"/>`);
    out.push(`<text x="${(x(1000) + 16).toFixed(1)}" y="${(y(target) + 4).toFixed(1)}" fill="#666">target</text>`);
  }
  out.push(`<line x1="${pad.l}" x2="${W - pad.r}" y1="${H - pad.b}" y2="${H - pad.b}" stroke="black"/>`);
  out.push(`<line x1="${pad.l}" x2="${pad.l}" y1="${pad.t}" y2="${H - pad.b}" stroke="black"/>`);
  out.push(`<text x="${(pad.l + W - pad.r) / 2}" y="${H - 18}" text-anchor="middle">minions (N, log scale)</text>`);
  out.push(`<text transform="translate(18 ${(pad.t + H - pad.b) / 2}) rotate(-90)" text-anchor="middle">wall time, ms (fresh process, spawn to exit)</text>`);
  series.forEach((s, i) => {
    const pts = s.points.filter((p) => p.median !== null);
    const color = colors[i % colors.length];
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" ${dashes[i] ? `stroke-dasharray="${dashes[i]}"` : ""} points="${pts.map((p) => `${x(p.n).toFixed(1)},${y(p.median).toFixed(1)}`).join(" ")}"/>`);
    for (const p of pts) {
      const dx = (i - (series.length - 1) / 2) * 3;
      if (p.min !== null && p.max !== null) out.push(`<line x1="${(x(p.n) + dx).toFixed(1)}" x2="${(x(p.n) + dx).toFixed(1)}" y1="${y(p.min).toFixed(1)}" y2="${y(p.max).toFixed(1)}" stroke="${color}" stroke-opacity="0.5"/>`);
      out.push(`<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.median).toFixed(1)}" r="3.5" fill="${color}"/>`);
    }
    out.push(`<line x1="${pad.l + 14}" x2="${pad.l + 40}" y1="${pad.t + 12 + i * 18}" y2="${pad.t + 12 + i * 18}" stroke="${color}" stroke-width="2" ${dashes[i] ? `stroke-dasharray="${dashes[i]}"` : ""}/>`);
    out.push(`<text x="${pad.l + 46}" y="${pad.t + 16 + i * 18}">${escapeXml(s.label)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function niceStep(raw) {
  const mag = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

function escapeXml(s) {
  return s.replace(/[<>&"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;" })[c]);
}
