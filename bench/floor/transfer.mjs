// The floor for file transfer: the same bytes to (or from) every minion over plain mutual-TLS streams, all
// hosts at once, no func code (see transfer-server.mjs for the other side). What any Node program pays to
// move a file over TLS on this machine: the ratio func's copyfile/getfile is held to.
// Usage: node transfer.mjs push HOME LIST.json FILE REMOTE_DIR | pull HOME LIST.json REMOTE_DIR LOCAL_DIR PORT

import { createReadStream, createWriteStream, mkdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { connect } from "node:tls";

const [mode, home, listFile, a, b, portArg = "51240"] = process.argv.slice(2);
const port = Number(portArg);
const tls = { key: readFileSync(`${home}/pki/overlord.key`), cert: readFileSync(`${home}/pki/overlord.crt`), ca: readFileSync(`${home}/pki/ca/ca.crt`) };
const minions = JSON.parse(readFileSync(listFile, "utf8"));

function push(m, file, remoteDir) {
  return new Promise((resolve, reject) => {
    const size = statSync(file).size;
    const socket = connect({ host: m.address, port, servername: m.name, ...tls }, () => {
      socket.write(`PUT ${size} ${join(remoteDir, `floor-${m.name}`)}\n`);
      createReadStream(file).pipe(socket, { end: false });
    });
    let reply = "";
    socket.on("data", (c) => (reply += c));
    socket.on("end", () => (reply.startsWith("OK") ? resolve() : reject(new Error(`${m.name}: ${reply}`))));
    socket.on("error", reject);
  });
}

function pull(m, remoteFile, localDir) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: m.address, port, servername: m.name, ...tls }, () => socket.write(`GET ${remoteFile}\n`));
    mkdirSync(join(localDir, m.name), { recursive: true });
    const out = createWriteStream(join(localDir, m.name, basename(remoteFile)));
    let head = Buffer.alloc(0);
    let size = -1;
    let got = 0;
    socket.on("data", (c) => {
      if (size < 0) {
        head = Buffer.concat([head, c]);
        const nl = head.indexOf(10);
        if (nl === -1) return;
        size = Number(head.subarray(0, nl).toString());
        c = head.subarray(nl + 1);
      }
      got += c.length;
      if (!out.write(c)) {
        socket.pause();
        out.once("drain", () => socket.resume());
      }
    });
    socket.on("end", () => out.end(() => (got === size ? resolve() : reject(new Error(`${m.name}: ${got} of ${size} bytes`)))));
    socket.on("error", reject);
  });
}

const started = performance.now();
await Promise.all(minions.map((m) => (mode === "push" ? push(m, a, b) : pull(m, a, b))));
process.stdout.write(JSON.stringify({ ms: performance.now() - started, hosts: minions.length }) + "\n");
