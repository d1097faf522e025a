// @func/web: func-web's service and its parts, for embedding and tests.
export { startWebServer, type WebServer, type WebServerOptions } from "./server/server.js";
export { loadWebConfig, parseWebConfig, webDir, WEB_PORT, WEB_DEFAULTS, type WebConfig, type AclRule } from "./config.js";
export { TokenStore, hashToken, checkTokenName, TOKEN_PREFIX, type TokenRecord, type TokenInfo } from "./auth/tokens.js";
export { ROLES, allows, isRole, type Role, type Right } from "./auth/roles.js";
export { checkCallAcl } from "./auth/acl.js";
export { RateLimiter } from "./auth/rate-limit.js";
export { SESSION_COOKIE, CSRF_HEADER } from "./auth/sessions.js";
export { CONTENT_SECURITY_POLICY } from "./server/http.js";
export { auditFile } from "./server/audit.js";
export { moduleTable, type ModuleTable } from "./server/modules.js";
export { parseCallBody } from "./server/api.js";
export { webMain, type Io } from "./cli/main.js";
