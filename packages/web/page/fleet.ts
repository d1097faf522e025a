// The fleet view: counts at the top, every signed minion with its state (answers, unreachable, unknown),
// address, cert expiry and last seen, waiting and revoked names below; a glob filter and a fact filter; "Check now" pings all.

import { api, follow, type Session } from "./api.js";
import { badge, clear, h, when } from "./dom.js";

export interface MinionView {
  name: string;
  state: string;
  address: string | null;
  port: number | null;
  certExpires: string;
  fingerprint: string;
  lastSeen: string | null;
  lastOutcome: string | null;
}

export interface FleetView {
  signed: MinionView[];
  waiting: Array<{ name: string; fingerprint: string; address: string | null; requested: string | null; lastSeen: string | null }>;
  revoked: Array<{ name: string; serial: string | null }>;
  counts: Record<string, number>;
}

export async function fleetPage(main: HTMLElement, _session: Session): Promise<void> {
  const fleet = await api<FleetView>("/api/minions");
  const filter = h("input", { id: "fleet-filter", placeholder: "filter: web*, web[01-05], @db", size: "30" });
  const tbody = h("tbody");
  const shown = h("span", { class: "muted" });
  const status = h("span", { class: "muted", id: "fleet-status" });
  // the filter is a target spec, matched by the service as `func` matches it (globs, node sets, @groups)
  let picked: Set<string> | null = null;
  let asked = 0;
  let timer = 0;
  const pick = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(async () => {
      const mine = ++asked;
      const spec = filter.value.trim();
      if (spec === "") picked = null;
      else {
        try {
          const r = await api<{ hosts: string[] }>(`/api/targets?limit=${fleet.signed.length + 1}&spec=${encodeURIComponent(spec)}`);
          if (mine !== asked) return;
          picked = new Set(r.hosts);
        } catch (err) {
          status.textContent = (err as Error).message;
          return;
        }
      }
      status.textContent = "";
      render();
    }, 150);
  };
  // the fact filter (Func's --filter / --filteror): asked on Enter or Apply, since it asks every host
  const facts = h("input", { id: "fleet-facts", placeholder: "facts: os=debian,cpus>=4", size: "30" });
  const anyBox = h("input", { type: "checkbox", id: "fleet-facts-any" });
  const apply = h("button", { id: "fleet-facts-apply", type: "button" }, "Apply");
  const factStatus = h("span", { class: "muted", id: "fleet-facts-status" });
  let factPicked: Set<string> | null = null;
  const applyFacts = async () => {
    const text = facts.value.trim();
    factStatus.textContent = "";
    if (text === "") {
      factPicked = null;
      render();
      return;
    }
    apply.disabled = true;
    try {
      const mode = anyBox.checked ? "any" : "all";
      const r = await api<{ matched: string[]; unknown: Array<{ host: string; outcome: string }>; asked: number }>(
        `/api/facts?filter=${encodeURIComponent(text)}&mode=${mode}`,
      );
      factPicked = new Set(r.matched);
      factStatus.textContent = `facts: ${r.matched.length} matched of ${r.asked}${r.unknown.length ? `; unreadable: ${r.unknown.map((u) => `${u.host} (${u.outcome})`).join(", ")}` : ""}`;
      render();
    } catch (err) {
      factStatus.textContent = (err as Error).message;
    } finally {
      apply.disabled = false;
    }
  };
  apply.addEventListener("click", () => void applyFacts());
  facts.addEventListener("keydown", (e) => {
    if (e.key === "Enter") void applyFacts();
  });
  const render = () => {
    const rows = fleet.signed.filter((m) => (picked === null || picked.has(m.name)) && (factPicked === null || factPicked.has(m.name)));
    shown.textContent = `${rows.length} of ${fleet.signed.length} shown`;
    clear(
      tbody,
      ...rows.map((m) =>
        h(
          "tr",
          { "data-minion": m.name },
          h("td", { class: "mono" }, m.name),
          h("td", {}, badge(m.state, `s-${m.state}`)),
          h("td", { class: "mono" }, m.address ? `${m.address}:${m.port ?? ""}` : "DNS"),
          h("td", {}, when(m.certExpires)),
          h("td", {}, when(m.lastSeen)),
          h("td", {}, m.lastOutcome ?? ""),
        ),
      ),
    );
  };
  filter.addEventListener("input", pick);
  const check = h("button", { id: "fleet-check", type: "button" }, "Check now");
  check.addEventListener("click", async () => {
    check.disabled = true;
    try {
      const { job } = await api<{ job: string }>("/api/minions/ping", { method: "POST" });
      let n = 0;
      follow(
        job,
        () => (status.textContent = `pinged ${++n} of ${fleet.signed.length}`),
        () => void fleetPage(main, _session),
      );
    } catch (err) {
      status.textContent = (err as Error).message;
      check.disabled = false;
    }
  });
  const c = fleet.counts;
  const count = (label: string, n: number | undefined, id: string) => h("div", { class: "count", id }, h("b", {}, String(n ?? 0)), label);
  clear(
    main,
    h("h2", {}, "Fleet"),
    h(
      "div",
      { class: "counts" },
      count("signed", c.signed, "count-signed"),
      count("answer", c.answers, "count-answers"),
      count("unreachable", c.unreachable, "count-unreachable"),
      count("not checked", c.unknown, "count-unknown"),
      count("waiting", c.waiting, "count-waiting"),
      count("revoked", c.revoked, "count-revoked"),
    ),
    h("div", { class: "row" }, filter, shown, check, status),
    h("div", { class: "row" }, facts, h("label", {}, anyBox, "any clause"), apply, factStatus),
    h("table", { id: "fleet-table" }, h("thead", {}, h("tr", {}, ...["minion", "state", "address", "cert expires", "last seen", "last outcome"].map((t) => h("th", {}, t)))), tbody),
    fleet.waiting.length > 0 && h("h3", {}, `Waiting for a signature (${fleet.waiting.length})`),
    fleet.waiting.length > 0 && h("p", {}, ...fleet.waiting.map((w) => h("span", { class: "mono" }, `${w.name} `))),
    fleet.revoked.length > 0 && h("h3", {}, `Revoked (${fleet.revoked.length})`),
    fleet.revoked.length > 0 && h("p", { class: "muted" }, fleet.revoked.map((r) => r.name).join(", ")),
  );
  render();
}
