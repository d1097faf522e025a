// func-web's roles and what each may do: viewer reads, operator also calls (within the web ACL), admin also
// signs and revokes minions and calls anything. One table, checked by every route.

export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export type Right = "read" | "call" | "admin";

const RIGHTS: Record<Role, readonly Right[]> = {
  viewer: ["read"],
  operator: ["read", "call"],
  admin: ["read", "call", "admin"],
};

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function allows(role: Role, right: Right): boolean {
  return RIGHTS[role].includes(right);
}
