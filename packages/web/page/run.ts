// The run view: a target box that shows what it matches as you type, module and method from the method
// table with a typed field per parameter, and the live results of a run from its event stream: one row per
// host (outcome colour, latency), identical results folded, a latency histogram.

import { api, follow, type HostResult, type RunSummary, type Session } from "./api.js";
import { badge, clear, h, show } from "./dom.js";

/** A parameter as GET /api/modules gives it (the signature table's kinds: string, bytes, int, bool, enum, ...). */
interface ParamView {
  name: string;
  type: string;
  optional: boolean;
  rest: boolean;
  doc?: string;
  values?: string[];
}
interface MethodView {
  name: string;
  doc: string;
  example: string;
  params: ParamView[];
}
interface ModuleTable {
  source: string;
  modules: Array<{ module: string; methods: MethodView[] }>;
}

export interface CallBody {
  spec: string;
  module: string;
  method: string;
  args: unknown[];
  async?: boolean;
  batch?: number;
}

/** Histogram buckets of per-host latency. */
const BUCKETS = 12;

let table: ModuleTable | null = null;

/** The live results of job `job`, rendered into `box`. */
export function showRun(box: HTMLElement, job: string, total: number): void {
  const results = new Map<string, { result: HostResult; ms: number }>();
  const started = Date.now();
  const head = h("div", { class: "row" }, h("b", {}, "Job "), h("a", { class: "mono", href: `#jobs/${job}` }, job));
  const progressBar = h("div");
  const progressText = h("span", { id: "run-progress" }, `0 / ${total}`);
  const summaryLine = h("div", { id: "run-summary", class: "muted" });
  const hist = h("div", { class: "histogram", id: "run-histogram" });
  const axis = h("div", { class: "histogram-axis" });
  const fold = h("input", { type: "checkbox", id: "run-fold" });
  const tbody = h("tbody");
  const render = () => {
    progressText.textContent = `${results.size} / ${total}`;
    progressBar.style.width = `${total ? (100 * results.size) / total : 100}%`;
    const entries = [...results.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    if (fold.checked) {
      const groups = new Map<string, { outcome: string; text: string; hosts: string[]; ms: number[] }>();
      for (const [host, { result, ms }] of entries) {
        const text = result.outcome === "ok" ? show(result.value) : `${result.error?.type}: ${result.error?.message}`;
        const key = `${result.outcome}\u0000${text}`;
        const g = groups.get(key) ?? { outcome: result.outcome, text, hosts: [], ms: [] };
        g.hosts.push(host);
        g.ms.push(ms);
        groups.set(key, g);
      }
      clear(
        tbody,
        ...[...groups.values()].map((g) =>
          h("tr", { class: "folded" }, h("td", { class: "mono" }, `${g.hosts.length > 3 ? `${g.hosts.slice(0, 3).join(", ")}, …` : g.hosts.join(", ")} (${g.hosts.length})`), h("td", {}, badge(g.outcome, `o-${g.outcome}`)), h("td", {}, `${Math.round(Math.max(...g.ms))} ms max`), h("td", { class: "value" }, g.text)),
        ),
      );
    } else {
      clear(
        tbody,
        ...entries.map(([host, { result, ms }]) =>
          h("tr", { "data-host": host }, h("td", { class: "mono" }, host), h("td", {}, badge(result.outcome, `o-${result.outcome}`)), h("td", {}, `${Math.round(ms)} ms`), h("td", { class: "value" }, result.outcome === "ok" ? show(result.value) : `${result.error?.type}: ${result.error?.message}`)),
        ),
      );
    }
    const ms = entries.map(([, r]) => r.ms);
    const max = Math.max(1, ...ms);
    const counts = new Array<number>(BUCKETS).fill(0);
    for (const m of ms) counts[Math.min(BUCKETS - 1, Math.floor((m / max) * BUCKETS))]! += 1;
    const top = Math.max(1, ...counts);
    clear(hist, ...counts.map((n) => {
      const bar = h("div", { class: "bar", title: `${n} host(s)` });
      bar.style.height = `${(100 * n) / top}%`;
      return bar;
    }));
    clear(axis, ...counts.map((_n, i) => h("span", {}, `${Math.round(((i + 1) * max) / BUCKETS)}`)));
  };
  let pending = false;
  const soon = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };
  fold.addEventListener("change", render);
  follow(
    job,
    (host, result, at) => {
      results.set(host, { result, ms: result.ms ?? Math.max(0, at - started) });
      soon();
    },
    (s: RunSummary) => {
      render();
      const parts = Object.entries(s.summary).filter(([, n]) => n > 0).map(([o, n]) => `${n} ${o}`);
      summaryLine.textContent = `finished: ${parts.join(", ") || "no hosts"} in ${s.elapsedMs} ms`;
      summaryLine.dataset.done = "1";
    },
  );
  clear(
    box,
    head,
    h("div", { class: "progress" }, progressBar),
    h("div", { class: "row" }, progressText, summaryLine, h("label", {}, fold, "fold identical results")),
    h("h3", {}, "Latency (ms)"),
    hist,
    axis,
    h("h3", {}, "Results"),
    h("table", { id: "run-results" }, h("thead", {}, h("tr", {}, ...["host", "outcome", "latency", "result"].map((t) => h("th", {}, t)))), tbody),
  );
  render();
}

/** Starts a call and shows its live results in `box`. */
export async function startCall(box: HTMLElement, body: CallBody): Promise<string> {
  const r = await api<{ job: string; hosts: number }>("/api/calls", { method: "POST", body });
  showRun(box, r.job, r.hosts);
  return r.job;
}

function parseField(p: ParamView, el: HTMLInputElement | HTMLTextAreaElement): unknown {
  const raw = el.value;
  if (p.type === "bool" || p.type === "boolean") return (el as HTMLInputElement).checked;
  if (raw.trim() === "") return undefined;
  if (p.type === "int") {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new Error(`${p.name} must be a whole number`);
    return n;
  }
  if (p.type === "number") {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`${p.name} must be a number`);
    return n;
  }
  if (p.type === "string" || p.type === "bytes") return raw;
  if (p.type === "enum") {
    if (p.values && !p.values.includes(raw.trim())) throw new Error(`${p.name} must be one of ${p.values.join(", ")}`);
    return raw.trim();
  }
  try {
    return JSON.parse(raw);
  } catch {
    if (p.type === "any") return raw;
    throw new Error(`${p.name} must be JSON (${p.type})`);
  }
}

export async function runPage(main: HTMLElement, session: Session, preset?: CallBody): Promise<void> {
  const spec = h("input", { id: "run-spec", placeholder: 'target, e.g. "web*;@db"', size: "40", value: preset?.spec ?? "*" });
  const matches = h("div", { class: "matches", id: "run-matches" });
  const moduleSel = h("select", { id: "run-module" });
  const methodSel = h("select", { id: "run-method" });
  const fields = h("div", { class: "fields", id: "run-fields" });
  const doc = h("div", { class: "muted", id: "run-doc" });
  const asyncBox = h("input", { type: "checkbox", id: "run-async" });
  const batch = h("input", { type: "number", id: "run-batch", min: "1", placeholder: "all", size: "6" });
  const runBtn = h("button", { class: "primary", id: "run-go", type: "button" }, "Run");
  const error = h("div", { id: "run-error" });
  const live = h("div", { id: "run-live" });
  let inputs: Array<{ p: ParamView; el: HTMLInputElement | HTMLTextAreaElement }> = [];

  let timer = 0;
  let asked = 0;
  const preview = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const mine = ++asked;
      const s = spec.value.trim();
      if (!s) return void (matches.textContent = "");
      try {
        const r = await api<{ count: number; hosts: string[] }>(`/api/targets?spec=${encodeURIComponent(s)}`);
        if (mine !== asked) return;
        matches.textContent = r.count === 0 ? "matches no minion" : `matches ${r.count}: ${r.hosts.slice(0, 12).join(", ")}${r.count > 12 ? ", …" : ""}`;
        matches.dataset.count = String(r.count);
      } catch (err) {
        if (mine === asked) matches.textContent = (err as Error).message;
      }
    }, 150);
  };
  spec.addEventListener("input", preview);

  const methodFields = () => {
    const mod = table?.modules.find((m) => m.module === moduleSel.value);
    const m = mod?.methods.find((x) => x.name === methodSel.value);
    inputs = [];
    fields.replaceChildren();
    doc.textContent = m ? `${m.doc}${m.example ? `  e.g. ${m.example}` : ""}` : "";
    for (const p of m?.params ?? []) {
      let el: HTMLInputElement | HTMLTextAreaElement;
      if (p.type === "bool" || p.type === "boolean") el = h("input", { type: "checkbox" });
      else if (p.type === "int" || p.type === "number") el = h("input", { type: "number", step: p.type === "int" ? "1" : "any" });
      else if (p.type === "string" || p.type === "bytes") el = h("input", { type: "text", placeholder: p.doc ?? "" });
      else if (p.type === "enum") el = h("input", { type: "text", placeholder: (p.values ?? []).join(" | ") });
      else el = h("textarea", { rows: "2", placeholder: `JSON ${p.type}` });
      el.id = `arg-${p.name}`;
      const preset_ = preset && preset.module === moduleSel.value && preset.method === methodSel.value ? preset.args[inputs.length] : undefined;
      if (preset_ !== undefined) {
        if (el instanceof HTMLInputElement && el.type === "checkbox") el.checked = preset_ === true;
        else el.value = typeof preset_ === "string" ? preset_ : JSON.stringify(preset_);
      }
      inputs.push({ p, el });
      fields.append(h("label", { for: el.id }, `${p.rest ? "..." : ""}${p.name}${p.optional ? "?" : ""}: ${p.type}`), el);
    }
  };
  const methods = () => {
    const mod = table?.modules.find((m) => m.module === moduleSel.value);
    clear(methodSel, ...(mod?.methods ?? []).map((m) => h("option", { value: m.name }, m.name)));
    if (preset && preset.module === moduleSel.value) methodSel.value = preset.method;
    methodFields();
  };
  moduleSel.addEventListener("change", methods);
  methodSel.addEventListener("change", methodFields);

  runBtn.addEventListener("click", async () => {
    error.replaceChildren();
    try {
      const args: unknown[] = [];
      for (const { p, el } of inputs) {
        const v = parseField(p, el);
        if (v === undefined) {
          if (!p.optional) throw new Error(`${p.name} is required`);
          break;
        }
        args.push(v);
      }
      const body: CallBody = { spec: spec.value.trim(), module: moduleSel.value, method: methodSel.value, args, async: asyncBox.checked };
      if (batch.value) body.batch = Number(batch.value);
      runBtn.disabled = true;
      await startCall(live, body);
    } catch (err) {
      error.append(h("div", { class: "error-box" }, (err as Error).message));
    } finally {
      runBtn.disabled = false;
    }
  });

  const canCall = session.role !== "viewer";
  clear(
    main,
    h("h2", {}, "Run"),
    h(
      "div",
      { class: "card" },
      h("div", { class: "row" }, h("label", { for: "run-spec" }, "Target"), spec),
      matches,
      h("div", { class: "row" }, h("label", {}, "Module", moduleSel), h("label", {}, "Method", methodSel)),
      doc,
      fields,
      h("div", { class: "row" }, h("label", {}, asyncBox, "async job"), h("label", {}, "batch", batch), canCall ? runBtn : h("span", { class: "muted" }, "viewers cannot run calls")),
      error,
    ),
    live,
  );
  preview();
  try {
    table ??= await api<ModuleTable>("/api/modules");
    clear(moduleSel, ...table.modules.map((m) => h("option", { value: m.module }, m.module)));
    moduleSel.value = preset?.module ?? (table.modules.some((m) => m.module === "test") ? "test" : (table.modules[0]?.module ?? ""));
    methods();
    if (!preset) {
      methodSel.value = methodSel.querySelector('option[value="ping"]') ? "ping" : methodSel.value;
      methodFields();
    }
  } catch (err) {
    error.append(h("div", { class: "error-box" }, `method table: ${(err as Error).message}`));
  }
}
