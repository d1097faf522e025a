// Folding node sets for --fold output: ranges keep zero padding, different prefixes and suffixes stay apart.

import assert from "node:assert/strict";
import { foldNames } from "@func/shared";

describe("foldNames", () => {
  it("folds numeric runs into ranges, keeping zero padding", () => {
    assert.equal(foldNames(["web01", "web02", "web03", "web05", "web07", "web06"]), "web[01-03,05-07]");
    assert.equal(foldNames(["n1", "n2", "n10"]), "n[1-2,10]");
    assert.equal(foldNames(["web1.example.com", "web2.example.com", "db1.example.com"]), "db1.example.com,web[1-2].example.com");
  });

  it("keeps names without digits and single members as they are", () => {
    assert.equal(foldNames(["alpha", "beta", "web3"]), "alpha,beta,web3");
    assert.equal(foldNames([]), "");
  });

  it("does not mix widths: web1 and web01 are different hosts", () => {
    assert.equal(foldNames(["web1", "web01", "web02"]), "web1,web[01-02]");
  });
});
