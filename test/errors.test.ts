// The error table: codes are unique, fault codes survive the trip through an XML-RPC fault, and exit codes
// OR the outcome bits as DESIGN section 7 says.

import assert from "node:assert/strict";
import {
  ERRORS,
  EXIT,
  FAULT,
  FuncError,
  XmlRpcFault,
  decodeResponse,
  encodeFault,
  errorTypeForFault,
  exitCodeFor,
  parseFaultString,
  type ErrorType,
} from "@func/shared";

describe("errors and exit codes", () => {
  it("every error type has a unique code", () => {
    const codes = Object.values(ERRORS);
    assert.equal(new Set(codes).size, codes.length);
  });

  it("fault codes survive the trip through an XML-RPC fault", async () => {
    for (const [type, code] of Object.entries(ERRORS)) {
      if (code >= 100) continue;
      const err = new FuncError(type as ErrorType, "boom: with a colon");
      const wire = encodeFault(err.code, err.faultString);
      const back = await decodeResponse(wire).then(
        () => assert.fail("expected a fault"),
        (e: unknown) => e as XmlRpcFault,
      );
      assert.ok(back instanceof XmlRpcFault);
      assert.equal(back.faultCode, code);
      assert.equal(errorTypeForFault(back.faultCode), type);
      assert.deepEqual(parseFaultString(back.faultString), { type, message: "boom: with a colon" });
    }
  });

  it("the fault table is DESIGN's", () => {
    assert.deepEqual(FAULT, { METHOD_RAISED: 1, NO_SUCH_METHOD: 2, ACCESS_DENIED: 3, BAD_ARGUMENTS: 4, LIMIT_EXCEEDED: 5, NOT_XMLRPC: -32700 });
  });

  it("exit codes OR the outcome bits", () => {
    assert.equal(exitCodeFor([]), EXIT.OK);
    assert.equal(exitCodeFor(["ok", "ok"]), 0);
    assert.equal(exitCodeFor(["ok", "error"]), 2);
    assert.equal(exitCodeFor(["denied"]), 2);
    assert.equal(exitCodeFor(["unreachable", "error"]), 6);
    assert.equal(exitCodeFor(["timeout"]), 8);
    assert.equal(exitCodeFor(["lost", "unreachable", "denied"]), 14);
  });
});
