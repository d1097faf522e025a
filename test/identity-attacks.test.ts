// Regression tests for issue 10's identity holes (items 1, 2, 3, 9, 10): each attack of the campaign's identity
// group, run as a real script against its own world on 127.100.<block>.x (enrollment service over TLS, funcd
// processes, the func CLI), must hold. The same cases are rows of `npm run campaign`.

import assert from "node:assert/strict";
import { IDENTITY_CASES, runIdentityCase } from "./campaign/identity-cases.js";
import { formatTable } from "./campaign/campaign.js";

/** The second octet of this file's loopback addresses (sec-identity's range 127.100-109). */
const SUBNET = 100;

describe("identity attacks (issue 10)", function () {
  this.timeout(180_000);
  for (const c of IDENTITY_CASES) {
    it(`${c.name} (${c.rule})`, async () => {
      const row = await runIdentityCase(c, { subnet: SUBNET });
      assert.ok(row.held, `\n${formatTable([row])}`);
    });
  }
});
