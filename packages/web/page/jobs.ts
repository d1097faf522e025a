// The jobs view: history newest first (status, counts), a job's per-host drill-down from GET /api/jobs/{id},
// and a rerun of its failed hosts (the same method and arguments on the hosts that did not end `ok`).

import { api, type HostResult, type Session } from "./api.js";
import { badge, clear, h, show, when } from "./dom.js";
import { startCall } from "./run.js";

interface JobSummary {
  id: string;
  status: string;
  spec: string;
  module: string;
  method: string;
  created: string;
  total: number;
  done: number;
  summary: Record<string, number>;
}

interface JobStatus extends JobSummary {
  args: unknown[];
  hosts: Record<string, HostResult>;
}

const counts = (s: Record<string, number>) =>
  Object.entries(s)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(", ");

export async function jobsPage(main: HTMLElement, session: Session, id?: string): Promise<void> {
  if (id) return jobPage(main, session, id);
  const { jobs } = await api<{ jobs: JobSummary[] }>("/api/jobs?limit=100");
  clear(
    main,
    h("h2", {}, "Jobs"),
    jobs.length === 0
      ? h("p", { class: "muted" }, "No jobs yet: run something.")
      : h(
          "table",
          { id: "jobs-table" },
          h("thead", {}, h("tr", {}, ...["job", "created", "target", "method", "status", "hosts", "outcomes"].map((t) => h("th", {}, t)))),
          h(
            "tbody",
            {},
            ...jobs.map((j) => {
              const tr = h(
                "tr",
                { class: "clickable", "data-job": j.id },
                h("td", { class: "mono" }, j.id),
                h("td", {}, when(j.created)),
                h("td", { class: "mono" }, j.spec.length > 40 ? `${j.spec.slice(0, 40)}…` : j.spec),
                h("td", { class: "mono" }, `${j.module}.${j.method}`),
                h("td", {}, badge(j.status, `s-${j.status}`)),
                h("td", {}, `${j.done} / ${j.total}`),
                h("td", {}, counts(j.summary)),
              );
              tr.addEventListener("click", () => (location.hash = `#jobs/${j.id}`));
              return tr;
            }),
          ),
        ),
  );
}

async function jobPage(main: HTMLElement, session: Session, id: string): Promise<void> {
  const job = await api<JobStatus>(`/api/jobs/${encodeURIComponent(id)}?poll=1`);
  const failed = Object.entries(job.hosts)
    .filter(([, r]) => r.final !== false && r.outcome !== "ok")
    .map(([host]) => host);
  const live = h("div", { id: "rerun-live" });
  const rerun = h("button", { id: "job-rerun", type: "button", class: "primary" }, `Rerun the ${failed.length} failed host(s)`);
  rerun.disabled = failed.length === 0 || session.role === "viewer";
  rerun.addEventListener("click", async () => {
    rerun.disabled = true;
    try {
      await startCall(live, { spec: failed.join(","), module: job.module, method: job.method, args: job.args });
    } catch (err) {
      live.replaceChildren(h("div", { class: "error-box" }, (err as Error).message));
    }
  });
  const refresh = h("button", { type: "button" }, "Refresh");
  refresh.addEventListener("click", () => void jobPage(main, session, id));
  clear(
    main,
    h("h2", {}, "Job ", h("span", { class: "mono", id: "job-id" }, job.id)),
    h(
      "div",
      { class: "card" },
      h("div", {}, `${job.module}.${job.method}(${job.args.map((a) => JSON.stringify(a)).join(", ")}) on `, h("span", { class: "mono" }, job.spec)),
      h("div", { class: "row" }, badge(job.status, `s-${job.status}`), h("span", { id: "job-counts" }, `${job.done} / ${job.total} done: ${counts(job.summary)}`), h("span", { class: "muted" }, `created ${when(job.created)}`)),
      h("div", { class: "row" }, rerun, refresh, h("a", { href: "#jobs" }, "all jobs")),
    ),
    h(
      "table",
      { id: "job-hosts" },
      h("thead", {}, h("tr", {}, ...["host", "outcome", "latency", "result"].map((t) => h("th", {}, t)))),
      h(
        "tbody",
        {},
        ...Object.entries(job.hosts).map(([host, r]) =>
          h("tr", { "data-host": host }, h("td", { class: "mono" }, host), h("td", {}, badge(r.outcome, `o-${r.outcome}`)), h("td", {}, r.ms !== undefined ? `${Math.round(r.ms)} ms` : ""), h("td", { class: "value" }, r.outcome === "ok" ? show(r.value) : r.error ? `${r.error.type}: ${r.error.message}` : "")),
        ),
      ),
    ),
    live,
  );
}
