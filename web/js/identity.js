// Who is signed in, in the header: role and area ("网格员 · 金山社区"),
// never the token; a grid manager's unit is framed and outlined.
import { getJson } from './api.js';
import { byId } from './dom.js';
import { labelName } from './labels.js';

/** Chinese names of the token roles. */
export const ROLE_ZH = { planner: '规划管理', grid_manager: '网格员', admin: '管理员' };

/** The `/api/me` of the signed-in token, or null. */
let me = null;

/** The signed-in token's `/api/me` body (null when signed out or unknown). */
export const currentMe = () => me;

/** The header text for an `/api/me` body. */
export function identityText(body) {
  const role = ROLE_ZH[body.role] ?? body.role;
  return `${role} · ${body.scope ? labelName(body.scope.name) : '全市'}`;
}

/**
 * Reads `/api/me` for the signed-in token and shows it in the header;
 * `onScope(scope)` with the token's unit (`{code, name, level, bbox}`)
 * when it has one.
 */
export async function showIdentity(token, onScope) {
  me = null;
  const who = byId('who');
  if (!token) return;
  who.textContent = '已登录';
  who.title = '已登录';
  try {
    me = await getJson('api/me');
  } catch {
    return;
  }
  who.textContent = identityText(me);
  who.title = me.scope ? `${me.name ?? ''} · 管辖 ${me.scope.name}（${me.scope.code}）` : `${me.name ?? ''} · 全市`;
  if (me.scope) onScope?.(me.scope);
}
