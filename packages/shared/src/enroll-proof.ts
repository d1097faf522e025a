// Proof of possession for enrollment: every `enroll.submit` carries a claim (the minion's name, the address
// and port it asks to be dialled at, the time) signed with the key its CSR certifies. A CSR alone proves
// nothing fresh (anyone who read it can replay it), so the service believes an address only with this.

import { createPrivateKey, sign, verify } from "node:crypto";
import { csrPublicKey } from "./pki.js";

/** How far the claim's time may be from the service's clock, ms: beyond it a claim is stale (or the clock wrong). */
export const ENROLL_PROOF_MAX_SKEW_MS = 10 * 60 * 1000;
/** Tag that makes the signed bytes mean "an enrollment claim, version 1" and nothing else. */
const CLAIM_TAG = "func-enroll-v1";

export interface EnrollClaim {
  /** canonical (lower case) */
  name: string;
  address: string;
  port: number;
  /** ISO 8601 time the minion signed it */
  at: string;
}

function claimBytes(c: EnrollClaim): Buffer {
  return Buffer.from([CLAIM_TAG, c.name, c.address, String(c.port), c.at].join("\n"), "utf8");
}

/** The minion's signature over `claim` (base64), with its private key. */
export function signEnrollClaim(keyPem: string, claim: EnrollClaim): string {
  return sign("sha256", claimBytes(claim), createPrivateKey(keyPem)).toString("base64");
}

/** Whether `signature` over `claim` was made with the key `csrPem` certifies; never throws. */
export function verifyEnrollClaim(csrPem: string, claim: EnrollClaim, signature: string): boolean {
  try {
    return verify("sha256", claimBytes(claim), csrPublicKey(csrPem), Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}
