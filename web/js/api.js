// Requests to this server: every URL is resolved against the page's own
// address (so the page works behind any host or path prefix), and the
// signed-in token rides along as `Authorization: Bearer …`.
import { getToken } from './auth.js';

/** The base URL of this server, as the page was loaded. */
export const BASE = new URL('.', window.location.href);

/** `path` (no leading slash) resolved against the page's base. */
export const urlOf = (path) => new URL(path.replace(/^\//, ''), BASE).href;

/** Whether `url` points at this server. */
export const isOwn = (url) => url.startsWith(BASE.href) || url.startsWith(BASE.origin + '/');

/** An error from this server, with the HTTP status and a Chinese message. */
export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const STATUS_ZH = {
  400: '请求参数有误',
  401: '需要登录或令牌无效',
  403: '无权查看该区域',
  404: '未找到',
  413: '请求过大',
  429: '请求过于频繁，请稍后再试',
  503: '服务繁忙，请稍后再试',
};

/** Headers with the token, if signed in. */
export function authHeaders(extra = {}) {
  const token = getToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

/** GET `path` with query `params`; returns the Response or throws ApiError. */
export async function get(path, params = {}, { token } = {}) {
  const url = new URL(urlOf(path));
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = token ? { Authorization: `Bearer ${token}` } : authHeaders();
  let resp;
  try {
    // credentials: 'omit': the token travels in the header; without
    // cookies or stored credentials the browser never opens its own login
    // box on a 401 (whose challenge also offers Basic, for GIS clients).
    resp = await fetch(url, { headers, credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, '无法连接服务器，请检查网络');
  }
  if (!resp.ok) {
    let detail = '';
    let code;
    try {
      const body = await resp.json();
      detail = body.description || '';
      code = body.code;
    } catch { /* not JSON */ }
    const base = STATUS_ZH[resp.status] || `服务器错误（${resp.status}）`;
    throw new ApiError(resp.status, detail ? `${base}：${detail}` : base, code);
  }
  return resp;
}

/** GET `path` and parse JSON. */
export async function getJson(path, params, opts) {
  return (await get(path, params, opts)).json();
}
