// The overlord-side ACL of func-web (like Salt's publisher_acl): an operator may call a method only if some
// rule for its identity matches the method and covers every host the spec resolved to. Admins are not
// limited; viewers never call. Pure: the caller passes how to resolve a target spec.

import { FuncError, globMatch } from "@func/shared";
import type { AclRule } from "../config.js";
import type { Role } from "./roles.js";

/**
 * Throws AccessDenied unless `identity` (with `role`) may call `method` (`module.method`) on every one of
 * `hosts`. `resolve(spec)` gives the hosts a rule's target spec covers (none when it matches nothing).
 */
export function checkCallAcl(rules: readonly AclRule[], identity: string, role: Role, method: string, hosts: readonly string[], resolve: (spec: string) => readonly string[]): void {
  if (role === "admin") return;
  if (role !== "operator") throw new FuncError("AccessDenied", `${identity} is a ${role}: calls need the operator or admin role`);
  const mine = rules.filter((r) => globMatch(r.identity, identity));
  if (mine.length === 0) throw new FuncError("AccessDenied", `no [web_acl] rule in overlord.conf for ${identity}: an admin must grant it methods and targets`);
  let methodOk = false;
  for (const rule of mine) {
    if (!rule.methods.some((g) => globMatch(g, method))) continue;
    methodOk = true;
    const allowed = new Set(rule.targets.flatMap((t) => resolve(t)));
    if (hosts.every((h) => allowed.has(h))) return;
  }
  if (!methodOk) throw new FuncError("AccessDenied", `${identity} may not call ${method} (see [web_acl] in overlord.conf)`);
  throw new FuncError("AccessDenied", `${identity} may call ${method} only on its [web_acl] targets, and this spec reaches others`);
}
