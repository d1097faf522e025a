// The admin view: enrollment requests waiting for a signature (with their key fingerprints) and the signed
// minions, each signed or revoked after a confirmation. Admins only: the API refuses anyone else.

import { api, type Session } from "./api.js";
import { clear, h, when } from "./dom.js";
import type { FleetView } from "./fleet.js";

export async function adminPage(main: HTMLElement, session: Session): Promise<void> {
  if (session.role !== "admin") {
    clear(main, h("h2", {}, "Admin"), h("p", { class: "muted" }, `${session.identity} is a ${session.role}: signing and revoking need the admin role.`));
    return;
  }
  const fleet = await api<FleetView>("/api/minions");
  const message = h("div", { id: "admin-message" });
  const act = async (name: string, action: "sign" | "revoke", detail: string) => {
    if (!window.confirm(`${action === "sign" ? "Sign" : "Revoke"} ${name}?\n${detail}`)) return;
    try {
      await api(`/api/minions/${encodeURIComponent(name)}/${action}`, { method: "POST" });
      await adminPage(main, session);
      const m = document.getElementById("admin-message");
      if (m) m.textContent = `${action === "sign" ? "signed" : "revoked"} ${name}`;
    } catch (err) {
      message.replaceChildren(h("div", { class: "error-box" }, (err as Error).message));
    }
  };
  const button = (label: string, cls: string, id: string, fn: () => void) => {
    const b = h("button", { type: "button", class: cls, id }, label);
    b.addEventListener("click", fn);
    return b;
  };
  clear(
    main,
    h("h2", {}, "Admin"),
    message,
    h("h3", {}, `Waiting for a signature (${fleet.waiting.length})`),
    fleet.waiting.length === 0
      ? h("p", { class: "muted" }, "No requests are waiting.")
      : h(
          "table",
          { id: "admin-waiting" },
          h("thead", {}, h("tr", {}, ...["minion", "key fingerprint", "address", "requested", ""].map((t) => h("th", {}, t)))),
          h(
            "tbody",
            {},
            ...fleet.waiting.map((w) =>
              h(
                "tr",
                { "data-minion": w.name },
                h("td", { class: "mono" }, w.name),
                h("td", { class: "mono" }, w.fingerprint),
                h("td", { class: "mono" }, w.address ?? ""),
                h("td", {}, when(w.requested)),
                h("td", {}, button("Sign", "primary", `sign-${w.name}`, () => void act(w.name, "sign", `key fingerprint ${w.fingerprint}`))),
              ),
            ),
          ),
        ),
    h("h3", {}, `Signed (${fleet.signed.length})`),
    h(
      "table",
      { id: "admin-signed" },
      h("thead", {}, h("tr", {}, ...["minion", "cert fingerprint", "cert expires", ""].map((t) => h("th", {}, t)))),
      h(
        "tbody",
        {},
        ...fleet.signed.map((m) =>
          h(
            "tr",
            { "data-minion": m.name },
            h("td", { class: "mono" }, m.name),
            h("td", { class: "mono" }, m.fingerprint),
            h("td", {}, when(m.certExpires)),
            h("td", {}, button("Revoke", "danger", `revoke-${m.name}`, () => void act(m.name, "revoke", "its cert goes into the CRL: it can no longer be called or call in"))),
          ),
        ),
      ),
    ),
  );
}
