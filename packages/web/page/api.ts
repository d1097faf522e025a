// The page's client of func-web's JSON API: same-origin fetches with the session cookie, the CSRF token in
// a header on every change, errors as one line from the server's {"error": {type, message}}.

let csrf: string | null = null;

export interface Session {
  identity: string;
  role: "viewer" | "operator" | "admin";
  via: string;
  csrf: string | null;
}

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function setCsrf(token: string | null): void {
  csrf = token;
}

export async function api<T>(path: string, opts: { method?: "GET" | "POST"; body?: unknown } = {}): Promise<T> {
  const method = opts.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") {
    headers["content-type"] = "application/json";
    if (csrf) headers["x-csrf-token"] = csrf;
  }
  const res = await fetch(path, { method, headers, credentials: "same-origin", ...(method !== "GET" ? { body: JSON.stringify(opts.body ?? {}) } : {}) });
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported by status below
  }
  if (!res.ok) {
    const err = (data as { error?: { message?: string } } | null)?.error?.message;
    throw new ApiError(res.status, err ?? `${res.status} ${res.statusText}`);
  }
  return data as T;
}

export interface HostResult {
  outcome: string;
  value?: unknown;
  error?: { code: number; type: string; message: string };
  ms?: number;
  final?: boolean;
}

export interface RunSummary {
  id: string;
  status: string;
  total: number;
  done: number;
  summary: Record<string, number>;
  elapsedMs: number;
}

/** Follows a job's event stream: each host once, then the summary; EventSource reconnects by itself. */
export function follow(job: string, onHost: (host: string, result: HostResult, at: number) => void, onSummary: (s: RunSummary) => void): () => void {
  const source = new EventSource(`/api/jobs/${encodeURIComponent(job)}/events`);
  source.addEventListener("host", (e) => {
    const d = JSON.parse((e as MessageEvent<string>).data) as { host: string; result: HostResult; at: number };
    onHost(d.host, d.result, d.at);
  });
  source.addEventListener("summary", (e) => {
    source.close();
    onSummary(JSON.parse((e as MessageEvent<string>).data) as RunSummary);
  });
  return () => source.close();
}
