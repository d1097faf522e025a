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
  failure,
  faultHostError,
  gotNoAnswer,
  hostError,
  parseFaultString,
  HOST_ERROR_MESSAGE_MAX,
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

  describe("per-host errors: one vocabulary", () => {
    it("the overlord's own per-host failure types are in the table, with codes of their own", () => {
      for (const type of ["ProtocolError", "ConnectTimeout", "BucketDied", "DispatchLost", "DispatchTimeout", "StillRunning", "JobDeadline", "LostInSpace", "Timeout", "TransportError"] as const) {
        assert.ok(ERRORS[type] >= 100, `${type} is a local code`);
        const r = failure("error", type, "why");
        assert.deepEqual(r, { outcome: "error", error: { code: ERRORS[type], type, message: "why" } });
      }
    });

    it("one constructor: messages become one clipped line", () => {
      const e = hostError("ProtocolError", "line one\r\n  line two\n" + "x".repeat(HOST_ERROR_MESSAGE_MAX * 2));
      assert.doesNotMatch(e.message, /[\r\n]/);
      assert.ok(e.message.startsWith("line one line two x"));
      assert.ok(e.message.length <= HOST_ERROR_MESSAGE_MAX + 3);
    });

    it("a peer's fault maps to a table type: its own when it is a wire type, else the one its code names", () => {
      assert.deepEqual(faultHostError(4, "BadArguments: no"), { code: 4, type: "BadArguments", message: "no" });
      assert.deepEqual(faultHostError(1, "ZeroDivisionError: division by zero"), { code: 1, type: "MethodError", message: "ZeroDivisionError: division by zero" });
      assert.deepEqual(faultHostError(3, "no prefix at all"), { code: 3, type: "AccessDenied", message: "no prefix at all" });
      // a peer cannot claim one of the overlord's local types (a BucketDied would be retried)
      assert.equal(faultHostError(1, "BucketDied: x").type, "MethodError");
      assert.equal(faultHostError(203, "x").type, "MethodError");
      assert.equal(faultHostError(-32700, "x").type, "NotXmlRpc");
    });

    it("retry decisions: no answer at all (unreachable, timeout, a dead bucket) and nothing else", () => {
      assert.ok(gotNoAnswer(failure("unreachable", "TransportError", "refused")));
      assert.ok(gotNoAnswer(failure("timeout", "Timeout", "slow")));
      assert.ok(gotNoAnswer(failure("error", "BucketDied", "worker exited")));
      assert.ok(!gotNoAnswer(failure("error", "ProtocolError", "garbage")));
      assert.ok(!gotNoAnswer(failure("denied", "AccessDenied", "no")));
      assert.ok(!gotNoAnswer({ outcome: "ok", value: 1 }));
    });
  });
});
