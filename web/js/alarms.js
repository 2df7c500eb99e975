// 监测预警 on the page: active alarms on the map (HTML markers), pulsing by level
// (红橙黄蓝; an acknowledged one stays still), a list with 确认 / 派单 for
// the roles that may, and a toast when a new alarm arrives in the signed-in
// token's scope (the `alarm` events of /api/events carry only those).
import { authHeaders, getJson, urlOf } from './api.js';
import { getToken, onTokenChange } from './auth.js';
import { onLive } from './live.js';
import { byId, esc, toast } from './dom.js';

export const LEVEL = {
  1: { zh: '一级', colour: '红', color: '#d7191c' },
  2: { zh: '二级', colour: '橙', color: '#fd8d3c' },
  3: { zh: '三级', colour: '黄', color: '#fecc5c' },
  4: { zh: '四级', colour: '蓝', color: '#2c7bb6' },
};
const KIND_ZH = {
  gas: '可燃气体', pressure: '管网压力', settlement: '沉降', strain: '桥梁应变',
  electrical_fire: '电气火灾', dust: '粉尘', tank_level: '储罐液位', water_level: '积水',
};
const ACTORS = new Set(['grid_manager', 'planner', 'admin']);

const state = { map: null, items: [], role: null, known: new Set(), markers: [], gen: 0 };

async function loadList() {
  // A newer load (a sign-in, a sign-out) supersedes this one.
  const gen = ++state.gen;
  const card = byId('al-card');
  if (!getToken()) {
    state.items = [];
    state.role = null;
    card.hidden = true;
    draw();
    return;
  }
  try {
    const role = state.role ?? (await getJson('api/me')).role;
    // Signed out while asking: the list is not asked for without a token.
    if (gen !== state.gen || !getToken()) return;
    state.role = role;
    const fc = await getJson('api/alarms?active=true');
    if (gen !== state.gen) return;
    state.items = fc.features ?? [];
  } catch {
    if (gen !== state.gen) return;
    state.items = [];
  }
  for (const f of state.items) state.known.add(f.properties.id);
  card.hidden = !ACTORS.has(state.role);
  render();
  draw();
}

function itemHtml(f) {
  const p = f.properties;
  const lv = LEVEL[p.level] ?? LEVEL[4];
  const can = ACTORS.has(state.role);
  const ack = can && p.status === 'active'
    ? `<button type="button" data-act="ack" data-id="${esc(p.id)}">确认</button>` : '';
  const send = can && !p.hidden_danger_id
    ? `<button type="button" data-act="dispatch" data-id="${esc(p.id)}">派单</button>` : '';
  const state_ = p.status === 'acknowledged' ? '已确认' : '预警中';
  const hd = p.hidden_danger_id ? ` · 已派单 ${esc(p.hidden_danger_id)}` : '';
  return `<li data-alarm="${esc(p.id)}" data-level="${p.level}">
    <span class="al-level" style="background:${lv.color}">${lv.zh}${lv.colour}</span>
    <b>${esc(KIND_ZH[p.kind] ?? '监测预警')}</b> ${esc(p.id)}
    <small>${esc(state_)}${hd} · ${esc((p.started_at ?? '').replace('T', ' ').slice(0, 16))}</small>
    <span class="al-actions">${ack}${send}</span></li>`;
}

function render() {
  const list = byId('al-list');
  byId('al-count').textContent = String(state.items.length);
  list.innerHTML = state.items.length
    ? state.items.map(itemHtml).join('')
    : '<li class="msg">当前无活动预警</li>';
}

async function act(id, action) {
  let resp;
  try {
    resp = await fetch(urlOf(`api/alarms/${encodeURIComponent(id)}/${action}`), {
      method: 'POST', headers: authHeaders({}), credentials: 'omit',
    });
  } catch {
    toast('无法连接服务器，请检查网络');
    return;
  }
  if (resp.ok) {
    toast(action === 'ack' ? `预警 ${id} 已确认` : `预警 ${id} 已派单为隐患`, 'info');
  } else {
    let body = {};
    try { body = await resp.json(); } catch { /* empty */ }
    toast(`操作失败（${resp.status}）：${body.description ?? ''}`);
  }
  loadList();
}

function buildCard() {
  const card = document.createElement('section');
  card.className = 'card al-card';
  card.id = 'al-card';
  card.hidden = true;
  card.innerHTML = `
    <div class="card-head"><h2>监测预警</h2><span class="scope" id="al-count">–</span></div>
    <ul class="al-list" id="al-list" aria-live="polite"></ul>`;
  const sidebar = byId('sidebar');
  sidebar.insertBefore(card, sidebar.firstElementChild);
  card.querySelector('#al-list').addEventListener('click', (e) => {
    const b = e.target.closest('button[data-act]');
    if (b) {
      act(b.dataset.id, b.dataset.act);
      return;
    }
    const li = e.target.closest('li[data-alarm]');
    const f = li && state.items.find((x) => x.properties.id === li.dataset.alarm);
    if (f) state.map?.flyTo({ center: f.geometry.coordinates, zoom: Math.max(state.map.getZoom(), 15), duration: 800 });
  });
}

/**
 * One HTML marker per alarm, pulsing by CSS (faster for higher levels;
 * an acknowledged one stays still): a CSS animation never makes the map
 * repaint, so the map still settles ("idle") while alarms pulse.
 */
function draw() {
  const map = state.map;
  if (!map || !window.maplibregl) return;
  for (const m of state.markers) m.remove();
  state.markers = state.items.map((f) => {
    const p = f.properties;
    const lv = LEVEL[p.level] ?? LEVEL[4];
    const el = document.createElement('div');
    el.className = `al-marker al-l${p.level}${p.status === 'acknowledged' ? ' al-ack' : ''}`;
    el.style.setProperty('--al-color', lv.color);
    el.dataset.alarm = p.id;
    el.title = `${lv.zh}（${lv.colour}）${KIND_ZH[p.kind] ?? '监测预警'} ${p.id}`;
    return new window.maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map);
  });
}

function onAlarm(ev) {
  const id = ev?.id;
  if (id && ev.status === 'active' && !state.known.has(id)) {
    state.known.add(id);
    const lv = LEVEL[ev.level] ?? LEVEL[4];
    toast(`新预警：${lv.zh}（${lv.colour}）${KIND_ZH[ev.kind] ?? '监测预警'} ${id}`, 'info');
  }
  loadList();
}

/** Sets up the alarm list, the map layer and the live listener. */
export function initAlarms(map) {
  state.map = map;
  buildCard();
  onLive('alarm', onAlarm);
  onLive('resync', loadList);
  onTokenChange(() => { state.role = null; loadList(); });
  loadList();
}
