// Test helper: the XML-RPC fault in a raw HTTP answer (status 200, a <fault> body), or a failed assertion.

import assert from "node:assert/strict";
import { decodeResponse, XmlRpcFault } from "@func/shared";

export async function faultOf(raw: { status: number; body: string }): Promise<XmlRpcFault> {
  assert.equal(raw.status, 200);
  try {
    await decodeResponse(raw.body);
  } catch (err) {
    if (err instanceof XmlRpcFault) return err;
    throw err;
  }
  assert.fail("expected a fault");
}
