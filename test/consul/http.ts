/** Plain HTTP calls to the real Consul agent, for setting up and checking what Pilotfish did. */
export function consulUrl(addr: string): string {
  return /^https?:\/\//.test(addr) ? addr : `http://${addr}`;
}

export async function consulGet<T = unknown>(addr: string, path: string): Promise<{ status: number; body: T | undefined }> {
  const res = await fetch(`${consulUrl(addr)}/v1${path}`, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: T | undefined;
  try {
    body = text ? (JSON.parse(text) as T) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

export async function consulPut(addr: string, path: string, body?: string | object): Promise<number> {
  const res = await fetch(`${consulUrl(addr)}/v1${path}`, {
    method: 'PUT',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  await res.text();
  return res.status;
}

export async function consulDelete(addr: string, path: string): Promise<number> {
  const res = await fetch(`${consulUrl(addr)}/v1${path}`, { method: 'DELETE', signal: AbortSignal.timeout(5000) });
  await res.text();
  return res.status;
}

export interface CheckInfo {
  CheckID: string;
  Status: string;
  Output: string;
  ServiceID: string;
}

/** The agent's view of one check, or undefined. */
export async function agentCheck(addr: string, checkId: string): Promise<CheckInfo | undefined> {
  const { body } = await consulGet<Record<string, CheckInfo>>(addr, '/agent/checks');
  return body?.[checkId];
}

export async function catalogService(addr: string, name: string): Promise<Array<Record<string, unknown>>> {
  const { body } = await consulGet<Array<Record<string, unknown>>>(addr, `/catalog/service/${name}`);
  return body ?? [];
}

/** The X-Consul-Index of a read now: a watch that has answered at this index has seen every earlier write. */
export async function consulIndex(addr: string, path: string): Promise<number> {
  const res = await fetch(`${consulUrl(addr)}/v1${path}`, { signal: AbortSignal.timeout(5000) });
  await res.text();
  return Number(res.headers.get('x-consul-index') ?? 0);
}
