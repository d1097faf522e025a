// func-web's page: logs in (token or client cert), then routes #fleet, #run, #jobs[/id] and #admin to their
// views. Served by func-web with every other asset; the CSP allows only these same-origin scripts.

import { ApiError, api, setCsrf, type Session } from "./api.js";
import { adminPage } from "./admin.js";
import { clear, h } from "./dom.js";
import { fleetPage } from "./fleet.js";
import { jobsPage } from "./jobs.js";
import { runPage } from "./run.js";

const main = document.getElementById("main")!;
const nav = document.getElementById("nav")!;
const who = document.getElementById("who")!;
const logout = document.getElementById("logout") as HTMLButtonElement;
let session: Session | null = null;

function loginPage(reason?: string): void {
  nav.hidden = true;
  logout.hidden = true;
  who.textContent = "";
  const token = h("input", { id: "login-token", type: "password", placeholder: "fw_…", autocomplete: "off" });
  const error = h("div", { id: "login-error" });
  const go = async (body: Record<string, string>) => {
    error.replaceChildren();
    try {
      const s = await api<Session>("/api/login", { method: "POST", body });
      setCsrf(s.csrf);
      session = { ...s, via: "session" };
      start();
    } catch (err) {
      error.append(h("div", { class: "error-box" }, (err as Error).message));
    }
  };
  const form = h("form", { class: "card login", id: "login-form" }, h("h2", {}, "Log in to func-web"), h("label", { for: "login-token" }, "Token (from func-web token create)"), token, h("button", { class: "primary", type: "submit", id: "login-go" }, "Log in"), " ", h("button", { type: "button", id: "login-cert" }, "Use my client certificate"), error, reason ? h("p", { class: "muted" }, reason) : null);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void go({ token: token.value.trim() });
  });
  form.querySelector("#login-cert")!.addEventListener("click", () => void go({}));
  clear(main, form);
}

async function route(): Promise<void> {
  if (!session) return;
  const [view = "fleet", arg] = location.hash.replace(/^#/, "").split("/");
  for (const a of nav.querySelectorAll("a")) a.classList.toggle("active", a.dataset.view === view);
  try {
    if (view === "run") await runPage(main, session);
    else if (view === "jobs") await jobsPage(main, session, arg);
    else if (view === "admin") await adminPage(main, session);
    else await fleetPage(main, session);
    main.dataset.view = view;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return loginPage(err.message);
    clear(main, h("div", { class: "error-box" }, (err as Error).message));
  }
}

function start(): void {
  if (!session) return;
  nav.hidden = false;
  logout.hidden = false;
  who.textContent = `${session.identity} (${session.role})`;
  void route();
}

logout.addEventListener("click", async () => {
  await api("/api/logout", { method: "POST" }).catch(() => undefined);
  session = null;
  setCsrf(null);
  loginPage();
});
window.addEventListener("hashchange", () => void route());

api<Session>("/api/session").then(
  (s) => {
    session = s;
    setCsrf(s.csrf);
    start();
  },
  () => loginPage(),
);
