// Parameter types several modules share: absolute paths, unit and user names.

import { t } from "./schema.js";

/** An absolute path without NUL characters, as long as Linux allows. */
export const ABSOLUTE_PATH = t.string({ pattern: "/[^\\u0000]*", max_length: 4096 });
