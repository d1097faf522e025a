// A structural check of an LMDB data file before it is opened. LMDB trusts its file: a damaged meta page
// makes the native module segfault and a truncated file makes it die of SIGBUS, which no try/catch can stop
// (for funcd: a crash loop). This reads the file with plain I/O and refuses it with an error that names the
// file and how to recover. Layout from lmdb-js's liblmdb (mdb.c: MDB_page_header, MDB_meta, MDB_db, MDB_node).

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { FuncError } from "./errors.js";

/** Page header: pgno u64, txnid u64, pad u16, flags u16, lower u16, upper u16 (overflow pages: page count u32). */
const PAGE_HEADER = 24;
const META_MAGIC = 0xbeefc0de;
const META_VERSION = 2;
/** Offsets inside a meta page: magic, version, the two MDB_db records, last page, txnid. */
const META = { magic: 24, version: 28, dbs: 48, lastPage: 144, txnid: 152, end: 160 } as const;
/** MDB_db: pad u32 (the page size, in the free DB of a meta), flags u16, depth u16, 4 counts u64, root u64. */
const DB = { pad: 0, depth: 6, root: 40, size: 48 } as const;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_LEAF2 = 0x20;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const F_DUPDATA = 0x04;
/** Node header: lo u16, hi u16, flags u16, key size u16. */
const NODE_HEADER = 8;
/** A root of ~0 means an empty tree. */
const NO_PAGE = 0xffff_ffff_ffff_ffffn;
/** Page sizes LMDB can use. */
const MIN_PAGE = 512;
const MAX_PAGE = 65536;
/** Deepest tree believed: LMDB trees of any real size are a handful of levels. */
const MAX_DEPTH = 64;
/** Above this size only the meta pages and tree roots are checked: a full walk would cost too much I/O. */
export const LMDB_FULL_CHECK_MAX_BYTES = 1024 * 1024 * 1024;

class Damaged extends Error {}

interface Meta {
  pageSize: number;
  lastPage: bigint;
  txnid: bigint;
  /** the free-page DB and the main DB */
  dbs: Buffer[];
}

/** Reads and checks the meta page at `offset`; null when it is not a valid meta. */
function readMeta(fd: number, offset: number, fileSize: number): Meta | null {
  if (offset + META.end > fileSize) return null;
  const b = Buffer.alloc(META.end);
  readSync(fd, b, 0, META.end, offset);
  if (b.readUInt32LE(META.magic) !== META_MAGIC || (b.readUInt32LE(META.version) & 0xffff) !== META_VERSION) return null;
  const pageSize = b.readUInt32LE(META.dbs + DB.pad);
  if (pageSize < MIN_PAGE || pageSize > MAX_PAGE || (pageSize & (pageSize - 1)) !== 0) return null;
  return {
    pageSize,
    lastPage: b.readBigUInt64LE(META.lastPage),
    txnid: b.readBigUInt64LE(META.txnid),
    dbs: [b.subarray(META.dbs, META.dbs + DB.size), b.subarray(META.dbs + DB.size, META.dbs + 2 * DB.size)],
  };
}

/** Walks the B-tree pages reachable from a root, checking each page's number, kind and bounds. */
class Walker {
  readonly #fd: number;
  readonly #pageSize: number;
  readonly #pages: bigint;
  readonly #full: boolean;
  readonly #seen = new Set<bigint>();

  constructor(fd: number, pageSize: number, fileSize: number, full: boolean) {
    this.#fd = fd;
    this.#pageSize = pageSize;
    this.#pages = BigInt(Math.floor(fileSize / pageSize));
    this.#full = full;
  }

  #page(pgno: bigint, what: string): Buffer {
    if (pgno >= this.#pages) throw new Damaged(`${what} is page ${pgno}, past the end of the file (${this.#pages} pages): truncated`);
    const b = Buffer.alloc(this.#pageSize);
    readSync(this.#fd, b, 0, this.#pageSize, Number(pgno) * this.#pageSize);
    if (b.readBigUInt64LE(0) !== pgno) throw new Damaged(`page ${pgno} does not carry its own number`);
    return b;
  }

  db(record: Buffer, what: string): void {
    const root = record.readBigUInt64LE(DB.root);
    if (root === NO_PAGE) return;
    if (record.readUInt16LE(DB.depth) > MAX_DEPTH) throw new Damaged(`${what} claims a depth of ${record.readUInt16LE(DB.depth)}`);
    this.#tree(root, 0, what);
  }

  #tree(pgno: bigint, depth: number, what: string): void {
    if (depth > MAX_DEPTH) throw new Damaged(`${what} nests deeper than ${MAX_DEPTH} pages`);
    if (this.#seen.has(pgno)) throw new Damaged(`page ${pgno} is reached twice`);
    this.#seen.add(pgno);
    const p = this.#page(pgno, `a page of ${what}`);
    const flags = p.readUInt16LE(18);
    const lower = p.readUInt16LE(20);
    const upper = p.readUInt16LE(22);
    const branch = (flags & P_BRANCH) !== 0;
    const leaf = (flags & P_LEAF) !== 0;
    if (branch === leaf) throw new Damaged(`page ${pgno} of ${what} is neither a branch nor a leaf (flags 0x${flags.toString(16)})`);
    if (lower > upper || PAGE_HEADER + upper > this.#pageSize || lower % 2 !== 0) throw new Damaged(`page ${pgno} has bad bounds`);
    if (!this.#full && depth > 0) return;
    if (flags & P_LEAF2) return; // fixed-size keys, no nodes to follow
    for (let i = 0; i < lower / 2; i++) {
      const at = PAGE_HEADER + p.readUInt16LE(PAGE_HEADER + 2 * i);
      if (at < PAGE_HEADER + lower || at + NODE_HEADER > this.#pageSize) throw new Damaged(`page ${pgno} has a node outside the page`);
      const lo = p.readUInt16LE(at);
      const hi = p.readUInt16LE(at + 2);
      const nodeFlags = p.readUInt16LE(at + 4);
      const keySize = p.readUInt16LE(at + 6);
      const data = at + NODE_HEADER + keySize;
      if (branch) {
        if (!this.#full) continue;
        this.#tree(BigInt(lo) | (BigInt(hi) << 16n) | (BigInt(nodeFlags) << 32n), depth + 1, what);
        continue;
      }
      const size = lo | (hi << 16);
      if (nodeFlags & F_BIGDATA) {
        if (data + 8 > this.#pageSize) throw new Damaged(`page ${pgno} has a node outside the page`);
        this.#overflow(p.readBigUInt64LE(data), what);
      } else if (nodeFlags & F_SUBDATA) {
        if (data + DB.size > this.#pageSize) throw new Damaged(`page ${pgno} has a node outside the page`);
        this.db(Buffer.from(p.subarray(data, data + DB.size)), `a sub-database of ${what}`);
      } else if (!(nodeFlags & F_DUPDATA) && data + size > this.#pageSize) {
        throw new Damaged(`page ${pgno} has a value running past the page`);
      }
    }
  }

  #overflow(pgno: bigint, what: string): void {
    const p = this.#page(pgno, `an overflow page of ${what}`);
    if ((p.readUInt16LE(18) & P_OVERFLOW) === 0) throw new Damaged(`page ${pgno} should be an overflow page`);
    const count = BigInt(p.readUInt32LE(20));
    if (pgno + count > this.#pages) throw new Damaged(`overflow pages ${pgno}..${pgno + count - 1n} run past the end of the file: truncated`);
  }
}

/**
 * Throws FuncError("StoreError") naming `file`, what is wrong and how to recover when it is not an LMDB data
 * file LMDB can open safely. A missing or empty file passes (LMDB creates it).
 */
export function checkLmdbFile(file: string, fullCheckMaxBytes: number = LMDB_FULL_CHECK_MAX_BYTES): void {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw new FuncError("StoreError", `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return;
    // LMDB writes both meta pages when it creates a file, so a sound file always has two valid ones
    const first = readMeta(fd, 0, size);
    if (!first) throw new Damaged("no valid meta page at the start (not an LMDB file, or its first page is overwritten)");
    const second = readMeta(fd, first.pageSize, size);
    if (!second) throw new Damaged("the second meta page is not valid (overwritten, or the file is truncated)");
    const metas = [first, second];
    // LMDB uses the meta of the newest transaction
    const meta = metas.reduce((a, b) => (b.txnid > a.txnid ? b : a));
    if (size < 2 * meta.pageSize) throw new Damaged(`shorter than its two meta pages: truncated`);
    const walker = new Walker(fd, meta.pageSize, size, size <= fullCheckMaxBytes);
    walker.db(meta.dbs[0]!, "the free-page list");
    walker.db(meta.dbs[1]!, "the main database");
  } catch (err) {
    if (err instanceof Damaged) {
      throw new FuncError(
        "StoreError",
        `${file} is damaged (${err.message}). To recover, move it aside: mv ${file} ${file}.damaged ` +
          `(a new, empty store is created on next use; the records it held are lost)`,
      );
    }
    throw err;
  } finally {
    closeSync(fd);
  }
}
