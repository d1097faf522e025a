// The signature table (pure parts): checkArgs types and refuses values naming the argument, typeWords types
// CLI words by the parameter they land in, checkCall refuses a bad call once, inventories parse safely.

import assert from "node:assert/strict";
import {
  checkArgs,
  checkCall,
  findSignature,
  FuncError,
  formatSignature,
  inventoryValue,
  parseInventory,
  SIGNATURES,
  typeWords,
  type MethodSignature,
} from "@func/shared";
import { MODULES } from "@func/minion";

function sig(module: string, method: string): MethodSignature {
  const s = findSignature(module, method);
  assert.ok(s, `${module}.${method} is declared`);
  return s;
}

function refused(fn: () => unknown, type: string, re: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof FuncError && err.type === type && re.test(err.message));
}

describe("signature table", () => {
  it("declares exactly what the minion implements, module by module", () => {
    const declared = SIGNATURES.map((m) => `${m.name}: ${Object.keys(m.methods).sort().join(" ")}`).sort();
    const served = MODULES.map((m) => `${m.name}: ${Object.keys(m.methods).sort().join(" ")}`).sort();
    assert.deepEqual(served, declared);
    for (const m of MODULES) assert.equal(m.signature, SIGNATURES.find((s) => s.name === m.name), `${m.name} serves the shared table's object`);
  });

  it("every method has a doc and a CLI example that names it", () => {
    for (const m of SIGNATURES) {
      for (const [name, s] of Object.entries(m.methods)) {
        assert.ok(s.doc.length > 10, `${m.name}.${name} doc`);
        assert.ok(s.example.includes(`call ${m.name} ${name}`), `${m.name}.${name} example: ${s.example}`);
      }
    }
  });

  it("every example is a call its own signature takes, as the CLI types its words", () => {
    // the words a POSIX shell would hand func: quotes removed, backslashes kept (no example needs them)
    const shellWords = (line: string): string[] => {
      const out: string[] = [];
      const re = /'([^']*)'|"([^"]*)"|(\S+)/g;
      let word: string | null = null;
      let last = 0;
      for (let m = re.exec(line); m !== null; m = re.exec(line)) {
        const piece = m[1] ?? m[2] ?? m[3]!;
        word = m.index === last && word !== null ? word + piece : piece;
        if (m.index !== last || out.length === 0) out.push(word);
        else out[out.length - 1] = word;
        last = re.lastIndex;
      }
      return out;
    };
    let checked = 0;
    for (const m of SIGNATURES) {
      for (const [name, s] of Object.entries(m.methods)) {
        const words = shellWords(s.example);
        const at = words.indexOf("call");
        assert.deepEqual(words.slice(at + 1, at + 3), [m.name, name], s.example);
        const args = typeWords(`${m.name}.${name}`, s, words.slice(at + 3).filter((w) => !w.startsWith("--")));
        assert.doesNotThrow(() => checkCall(m.name, name, args), `${s.example} -> ${JSON.stringify(args)}`);
        checked++;
      }
    }
    assert.ok(checked > 50, `${checked} examples`);
  });

  it("formats signature lines with one word per type", () => {
    assert.equal(formatSignature("command.run", sig("command", "run")), "command.run(cmd: string, options?: struct)");
    assert.equal(formatSignature("process.kill", sig("process", "kill")), "process.kill(pid: int, signal?: string)");
  });
});

describe("checkArgs", () => {
  it("a string parameter refuses bytes that could travel as a string, and an int", () => {
    refused(() => checkArgs("process.pkill", sig("process", "pkill"), [Buffer.from("nginx")]), "BadArguments", /argument 1 \(name\) must be a string, got bytes/);
    refused(() => checkArgs("command.run", sig("command", "run"), [5]), "BadArguments", /argument 1 \(cmd\) must be a string, got int/);
  });

  it("a string parameter takes the base64 form of a string holding XML-illegal characters, as that string", () => {
    const text = "printf '\x1b[31mred'";
    assert.deepEqual(checkArgs("command.run", sig("command", "run"), [Buffer.from(text)]), [text, undefined]);
    refused(() => checkArgs("command.run", sig("command", "run"), [Buffer.from([0xff, 0x01])]), "BadArguments", /must be a string/);
  });

  it("bytes parameters take strings as their UTF-8 and give Buffers", () => {
    const [, data] = checkArgs("file.write", sig("file", "write"), ["/tmp/x", "hi"]);
    assert.ok(Buffer.isBuffer(data) && data.toString() === "hi");
  });

  it("names the argument for a wrong count, a missing one, a range, a pattern, a struct field", () => {
    refused(() => checkArgs("test.ping", sig("test", "ping"), [1]), "BadArguments", /test\.ping takes 0 argument\(s\), got 1/);
    refused(() => checkArgs("command.run", sig("command", "run"), []), "BadArguments", /takes 1 to 2 argument\(s\), got 0: cmd is missing/);
    refused(() => checkArgs("process.kill", sig("process", "kill"), [1]), "BadArguments", /argument 1 \(pid\) must be an int >= 2, got int/);
    refused(() => checkArgs("process.kill", sig("process", "kill"), [1234, "BOGUS"]), "BadArguments", /argument 2 \(signal\) must be a string matching/);
    refused(() => checkArgs("service.start", sig("service", "start"), ["-rf"]), "BadArguments", /argument 1 \(name\)/);
    refused(() => checkArgs("command.run", sig("command", "run"), ["ls", { bogus: 1 }]), "BadArguments", /argument 2 \(options\) has no field "bogus"/);
    refused(() => checkArgs("command.run", sig("command", "run"), ["ls", { env: { "A=B": "x" } }]), "BadArguments", /key "A=B" must match/);
    refused(() => checkArgs("command.run", sig("command", "run"), ["ls", { timeout: "x" }]), "BadArguments", /argument 2 \(options\)\.timeout must be a number >= 0\.001, got "x"/);
    refused(() => checkArgs("test.sleep", sig("test", "sleep"), [-1]), "BadArguments", /argument 1 \(t\) must be a number 0\.\.86400/);
    refused(() => checkArgs("file.read", sig("file", "read"), ["relative"]), "BadArguments", /argument 1 \(path\) must be a string matching/);
  });

  it("the usage is part of every refusal", () => {
    refused(() => checkArgs("test.sleep", sig("test", "sleep"), ["x"]), "BadArguments", /\(usage: func "\*" call test sleep 2\)$/);
  });

  it("accepts good values and gives optional ones as undefined (nil too)", () => {
    assert.deepEqual(checkArgs("process.kill", sig("process", "kill"), [1234, "sighup"]), [1234, "sighup"]);
    assert.deepEqual(checkArgs("process.kill", sig("process", "kill"), [1234, null]), [1234, undefined]);
    assert.deepEqual(checkArgs("command.run", sig("command", "run"), ["ls", { timeout: 5, env: { A: "1" } }]), ["ls", { timeout: 5, env: { A: "1" } }]);
    assert.deepEqual(checkArgs("test.echo", sig("test", "echo"), [null]), [null]);
  });
});

describe("typeWords", () => {
  const run = sig("command", "run");
  it("a word landing in a string parameter stays the string typed", () => {
    for (const w of ["false", "true", "null", "007", "1e3", '"quoted"']) assert.deepEqual(typeWords("command.run", run, [w]), [w]);
  });

  it("extra words join into command run's cmd, like ssh; a trailing options struct is still options", () => {
    assert.deepEqual(typeWords("command.run", run, ["ls", "-la"]), ["ls -la"]);
    assert.deepEqual(typeWords("command.run", run, ["ls", "-la", "/tmp"]), ["ls -la /tmp"]);
    assert.deepEqual(typeWords("command.run", run, ["ls -la", '{"timeout": 5}']), ["ls -la", { timeout: 5 }]);
    // a JSON object that is not a valid options struct is part of the command
    assert.deepEqual(typeWords("command.run", run, ["echo", '{"a": 1}']), ['echo {"a": 1}']);
  });

  it("int, number and bool words parse; a word that cannot be one is a usage error naming it", () => {
    assert.deepEqual(typeWords("process.kill", sig("process", "kill"), ["1234", "HUP"]), [1234, "HUP"]);
    assert.deepEqual(typeWords("test.sleep", sig("test", "sleep"), ["0.5"]), [0.5]);
    refused(() => typeWords("process.kill", sig("process", "kill"), ["12x"]), "UsageError", /argument 1 \(pid\) must be a whole number, got "12x"/);
    refused(() => typeWords("file.write", sig("file", "write"), ["/tmp/x", "hi", "{not json"]), "UsageError", /argument 3 \(options\) must be a JSON object/);
    assert.deepEqual(typeWords("command.run", run, ["ls", "{not json"]), ["ls {not json"]);
  });

  it("a trailing list takes the remaining plain words as its items, as Func's CLI did; one JSON list is the list", () => {
    const track = sig("filetracker", "track");
    assert.deepEqual(typeWords("filetracker.track", track, ["/etc/hosts"]), [["/etc/hosts"]]);
    assert.deepEqual(typeWords("filetracker.track", track, ["/etc/hosts", "/etc/*.conf"]), [["/etc/hosts", "/etc/*.conf"]]);
    assert.deepEqual(typeWords("filetracker.track", track, ['["/etc/hosts", "/etc/motd"]']), [["/etc/hosts", "/etc/motd"]]);
    refused(() => typeWords("filetracker.track", track, ["[not json"]), "UsageError", /argument 1 \(globs\) must be a JSON array/);
    // the items are still checked by checkCall: a relative glob is refused before fan-out
    refused(() => checkCall("filetracker", "track", typeWords("filetracker.track", track, ["etc/hosts"])), "UsageError", /globs/);
  });

  it("methods without a signature keep the generic typing; --str keeps strings", () => {
    assert.deepEqual(typeWords("x.y", undefined, ["1", "true", "[1]", "a"]), [1, true, [1], "a"]);
    assert.deepEqual(typeWords("test.add", sig("test", "add"), ["1", "2"]), [1, 2]);
    assert.deepEqual(typeWords("process.kill", sig("process", "kill"), ["1", "2"], true), ["1", "2"]);
  });
});

describe("checkCall", () => {
  it("refuses a bad call with one usage error; unknown methods pass", () => {
    refused(() => checkCall("test", "ping", [1]), "UsageError", /test\.ping takes 0 argument\(s\), got 1/);
    refused(() => checkCall("process", "kill", ["x"]), "UsageError", /argument 1 \(pid\) must be an int/);
    assert.doesNotThrow(() => checkCall("mymod", "anything", [1, 2, 3]));
    assert.doesNotThrow(() => checkCall("command", "run", ["ls -la"]));
  });
});

describe("inventory on the wire", () => {
  it("round-trips the built-in table", () => {
    const inv = parseInventory(inventoryValue("9.9.9", SIGNATURES));
    assert.equal(inv.funcd_version, "9.9.9");
    assert.deepEqual(JSON.parse(JSON.stringify(inv.modules)), JSON.parse(JSON.stringify(SIGNATURES)));
    assert.deepEqual(typeWords("command.run", findSignature("command", "run", inv.modules), ["ls", "-la"]), ["ls -la"]);
  });

  it("refuses malformed answers: bad kinds, bad names, bad patterns, too deep", () => {
    const mod = (methods: unknown) => ({ funcd_version: "1", modules: [{ name: "m", description: "", methods }] });
    const bad = [
      null,
      { modules: "x" },
      mod({ f: { params: [{ name: "a", type: { kind: "date" } }] } }),
      mod({ "f;rm": { params: [] } }),
      mod({ f: { params: [{ name: "a", type: { kind: "string", pattern: "(" } }] } }),
      mod({ f: { params: [{ name: "a", type: JSON.parse("{" + '"kind":"array","items":{'.repeat(12) + '"kind":"int"' + "}".repeat(13)) }] } }),
    ];
    for (const b of bad) assert.throws(() => parseInventory(b), FuncError, JSON.stringify(b)?.slice(0, 80));
  });
});
