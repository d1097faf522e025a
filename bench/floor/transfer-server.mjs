// The floor's minion side for file transfer: a plain mutual-TLS server (the minion's own cert files) that
// stores what it is sent and sends a file back, no func code. One line of header, then raw bytes:
//   PUT <size> <path>\n<bytes>   -> OK\n once <path> holds them      GET <path>\n -> <size>\n<bytes>
// Usage: node transfer-server.mjs MINION_HOME ADDRESS PORT CA_CERT   (prints "listening" when ready)

import { createReadStream, createWriteStream, readFileSync, statSync } from "node:fs";
import { createServer } from "node:tls";

const [minionHome, address, port, caFile] = process.argv.slice(2);

const server = createServer(
  {
    key: readFileSync(`${minionHome}/pki/minion.key`),
    cert: readFileSync(`${minionHome}/pki/minion.crt`),
    ca: readFileSync(caFile),
    requestCert: true,
    rejectUnauthorized: true,
  },
  (socket) => {
    let head = Buffer.alloc(0);
    const onData = (chunk) => {
      head = Buffer.concat([head, chunk]);
      const nl = head.indexOf(10);
      if (nl === -1) return;
      socket.off("data", onData);
      socket.pause();
      const [verb, a, b] = head.subarray(0, nl).toString().split(" ");
      const rest = head.subarray(nl + 1);
      if (verb === "PUT") {
        const size = Number(a);
        const out = createWriteStream(b);
        let got = rest.length;
        if (rest.length) out.write(rest);
        const finish = () => out.end(() => socket.end("OK\n"));
        if (got >= size) return finish();
        socket.on("data", (c) => {
          got += c.length;
          if (!out.write(c)) {
            socket.pause();
            out.once("drain", () => socket.resume());
          }
          if (got >= size) finish();
        });
        socket.resume();
      } else if (verb === "GET") {
        socket.write(`${statSync(a).size}\n`);
        createReadStream(a).pipe(socket);
      } else socket.destroy();
    };
    socket.on("data", onData);
    socket.on("error", () => {});
  },
);
server.listen(Number(port), address, () => process.stdout.write("listening\n"));
// stdin is the harness's pipe: when the harness goes, so does this server
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
