// CLI argument typing: Func passed raw strings ("12" for add 1 2); func types them deliberately.

import assert from "node:assert/strict";
import { coerceArg, coerceArgs } from "@func/overlord/cli";

describe("CLI argument coercion", () => {
  it("types integers, floats, booleans, null and JSON", () => {
    assert.equal(coerceArg("1"), 1);
    assert.equal(coerceArg("-42"), -42);
    assert.equal(coerceArg("2.5"), 2.5);
    assert.equal(coerceArg("1e3"), 1000);
    assert.equal(coerceArg("true"), true);
    assert.equal(coerceArg("false"), false);
    assert.equal(coerceArg("null"), null);
    assert.deepEqual(coerceArg('[1, "a", {"b": null}]'), [1, "a", { b: null }]);
    assert.deepEqual(coerceArg('{"x": 1}'), { x: 1 });
  });

  it("keeps strings: words, JSON string literals, broken JSON, unsafe integers", () => {
    assert.equal(coerceArg("uname -r"), "uname -r");
    assert.equal(coerceArg('"12"'), "12");
    assert.equal(coerceArg("[not json"), "[not json");
    assert.equal(coerceArg("12345678901234567890"), "12345678901234567890");
    assert.equal(coerceArg("-la"), "-la");
    assert.equal(coerceArg("0x10"), "0x10");
    assert.equal(coerceArg(""), "");
  });

  it("--str keeps everything a string", () => {
    assert.deepEqual(coerceArgs(["1", "true", "[1]"], true), ["1", "true", "[1]"]);
    assert.deepEqual(coerceArgs(["1", "true", "[1]"], false), [1, true, [1]]);
  });
});
