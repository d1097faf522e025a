// The HTTP side shared by our two XML-RPC servers (funcd and the enrollment service): which paths answer,
// an XML-RPC answer, and a bodiless error status that closes the connection.

import type { ServerResponse } from "node:http";

/** Request paths an XML-RPC server of ours answers on (Python's ServerProxy posts to /RPC2). */
export const RPC_PATHS: ReadonlySet<string> = new Set(["/", "/RPC2"]);

/** Sends an XML-RPC answer (a response or a fault). */
export function replyXml(res: ServerResponse, xml: string | Buffer): void {
  const body = typeof xml === "string" ? Buffer.from(xml, "utf8") : xml;
  res.writeHead(200, { "Content-Type": "text/xml; charset=utf-8", "Content-Length": body.length });
  res.end(body);
}

/** Answers with an HTTP error and no body, then closes: the rest of an oversized or bad request is not read. */
export function httpError(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { ...headers, Connection: "close", "Content-Length": 0 });
  res.end();
  res.once("finish", () => res.socket?.destroy());
}
