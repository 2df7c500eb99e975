// 隐患: the closure loop on the page, for a signed-in token — the list of
// the dangers in its scope (status, grade, deadline, overdue in red), a
// record with its history and the actions its role may take (with
// If-Match), "上报隐患" by tapping the map, the open dangers of a clicked
// unit, and the dangers drawn on the map from the list (a private layer).
import { ApiError, authHeaders, getJson, urlOf } from './api.js';
import { getToken, onTokenChange } from './auth.js';
import { byId, esc, toast } from './dom.js';
import { INDUSTRY_ZH } from './levels.js';

/** Statuses in loop order, with their words and map colours. */
export const STATUS = {
  reported: { zh: '已上报', color: '#7b3fb3' },
  rectifying: { zh: '整改中', color: '#e07b00' },
  rectified: { zh: '已整改待验收', color: '#1f78b4' },
  closed: { zh: '已销号', color: '#8a949e' },
};
const OPEN = 'reported,rectifying,rectified';

/** Categories that are not industries (DATA.md). */
const OTHER_CATEGORY_ZH = {
  road: '道路', pipeline: '管线', fire: '消防', building: '房屋建筑', special_equipment: '特种设备', other: '其他',
};
const SOURCE_ZH = { patrol: '网格巡查', self_check: '企业自查', inspection: '部门检查', report: '群众举报' };
const GRADE_ZH = { general: '一般隐患', major: '重大隐患' };
const ROLE_ZH = { planner: '规划管理', grid_manager: '网格员', admin: '管理员' };
const ACTION_ZH = {
  import: '建档', report: '上报', start: '开始整改', rectify: '整改完成', close: '验收销号', reject: '验收不通过', extend: '延期',
};
const FIELD_ZH = {
  category: '隐患类别', grade: '隐患等级', description: '隐患描述', deadline: '整改时限', responsible: '整改责任人',
  source: '发现方式', lon: '位置', lat: '位置', enterprise_id: '所属企业', note: '说明', action: '操作',
};
/** Which actions each status allows (CONTRACT v3). */
const NEXT = {
  reported: ['start', 'extend'],
  rectifying: ['rectify', 'extend'],
  rectified: ['close', 'reject'],
  closed: [],
};

const SOURCE_ID = 'hidden-dangers';
const LAYER_ID = 'hidden-dangers-point';
const LIST_LIMIT = 200;

const state = {
  map: null,
  hooks: { flyTo() {}, closeDrawer() {}, clearSelection() {}, showPanel() { return null; } },
  me: null,
  filter: 'open',
  inView: false,
  items: [],
  matched: 0,
  loading: 0,
  placing: false,
  marker: null,
  place: null,
  /** The record in the panel: { feature, etag }. */
  open: null,
  /** The id of the record this page is writing, while the request is out. */
  writing: null,
  /** The newest journal sequence an event named during that write. */
  heardDuring: 0,
};

/** The journal sequence in a data version (`<base>-<seq>`), 0 before any write. */
const seqOf = (v) => {
  const m = String(v ?? '').match(/-(\d+)$/);
  return m ? Number(m[1]) : 0;
};

// --- helpers --------------------------------------------------------------------

/** Today in Asia/Shanghai, YYYY-MM-DD. */
function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

const dayNumber = (d) => Math.floor(Date.parse(`${d}T00:00:00Z`) / 86_400_000);

/** "逾期 N 天" for an overdue record, else ''. */
function overdueText(p) {
  if (!p.overdue) return '';
  const n = p.deadline ? dayNumber(today()) - dayNumber(p.deadline) : 0;
  return n > 0 ? `逾期 ${n} 天` : '逾期';
}

function categoryZh(c) {
  return INDUSTRY_ZH[c] ?? OTHER_CATEGORY_ZH[c] ?? c;
}

function statusBadge(status) {
  const s = STATUS[status] ?? { zh: status, color: '#666' };
  return `<span class="hd-status" data-status="${esc(status)}" style="background:${s.color}">${esc(s.zh)}</span>`;
}

function gradeBadge(grade) {
  return grade === 'major' ? '<span class="hd-grade major">重大</span>' : '<span class="hd-grade">一般</span>';
}

function when(at) {
  if (!at) return '';
  if (/^\d{4}-\d{2}-\d{2}$/.test(at)) return at;
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at;
  const p = new Intl.DateTimeFormat('zh-CN', {
    timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  }).formatToParts(d);
  const v = Object.fromEntries(p.map((x) => [x.type, x.value]));
  return `${v.year}-${v.month}-${v.day} ${v.hour}:${v.minute}`;
}

/** A server message in Chinese where the wording is known. */
function messageZh(text) {
  const m = String(text ?? '');
  const zh = m.match(/[（(]([^（）()]*[\u4e00-\u9fff][^（）()]*)[）)]/);
  if (/^required/.test(m)) return zh ? zh[1] : '必填';
  if (/is not a date/.test(m)) return '日期格式应为 年-月-日';
  if (/before the day it was found/.test(m)) return '不能早于发现日期';
  if (/later than the current deadline/.test(m)) return '须晚于当前整改时限';
  if (/longer than/.test(m)) return '内容过长';
  if (/outside every grid cell/.test(m)) return '该位置不在任何单元网格内';
  return m;
}

/** POST JSON; resolves to { status, etag, body } (never throws for HTTP errors). */
async function post(path, data, extraHeaders = {}) {
  let resp;
  try {
    resp = await fetch(urlOf(path), {
      method: 'POST',
      headers: authHeaders({ 'Content-Type': 'application/json', ...extraHeaders }),
      credentials: 'omit',
      body: JSON.stringify(data),
    });
  } catch {
    return { status: 0, body: { description: '无法连接服务器，请检查网络' } };
  }
  let body = {};
  try { body = await resp.json(); } catch { /* empty */ }
  return { status: resp.status, etag: resp.headers.get('etag'), body };
}

/** Splits a 400's "field: message" into its parts. */
function fieldError(description) {
  const m = String(description ?? '').match(/^(?:body: )?([a-z_]+): (.*)$/s);
  return m && FIELD_ZH[m[1]] ? { field: m[1], message: m[2] } : null;
}

const canDo = (action) => Boolean(state.me?.actions?.includes(action));

// --- the list -------------------------------------------------------------------

function statusParam() {
  return state.filter === 'open' ? OPEN : state.filter;
}

/** Loads the dangers of the scope with the current filter (all pages, up to a bound). */
async function loadList() {
  if (!getToken() || !state.me) return;
  const id = ++state.loading;
  const items = [];
  let matched = 0;
  try {
    let offset = 0;
    for (let page = 0; page < 20; page++) {
      const body = await getJson('api/hidden-dangers', { status: statusParam(), limit: 100, offset });
      if (id !== state.loading) return;
      items.push(...(body.features ?? []));
      matched = body.numberMatched ?? items.length;
      offset = items.length;
      if (!(body.links ?? []).some((l) => l.rel === 'next') || !body.features?.length) break;
    }
  } catch (e) {
    if (id === state.loading) byId('hd-list').innerHTML = `<li class="msg">隐患加载失败：${esc(e.message)}</li>`;
    return;
  }
  if (id !== state.loading) return;
  const rank = (f) => [f.properties.overdue ? 0 : 1, f.properties.grade === 'major' ? 0 : 1, f.properties.deadline ?? '9999'];
  items.sort((a, b) => {
    const ra = rank(a);
    const rb = rank(b);
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] < rb[i] ? -1 : 1;
    return String(b.properties.found_at).localeCompare(String(a.properties.found_at));
  });
  state.items = items;
  state.matched = matched;
  renderList();
  drawLayer();
}

/**
 * Reloads the list now, and at most about three times a second however
 * many events come (those in between make one more reload at the end).
 */
let reloadTimer = null;
let reloadAgain = false;
function reloadList() {
  if (reloadTimer) { reloadAgain = true; return; }
  loadList();
  reloadTimer = setTimeout(() => {
    reloadTimer = null;
    if (reloadAgain) { reloadAgain = false; reloadList(); }
  }, 300);
}

function visibleItems() {
  if (!state.inView || !state.map) return state.items;
  const b = state.map.getBounds();
  return state.items.filter((f) => b.contains(f.geometry.coordinates));
}

function itemHtml(f) {
  const p = f.properties;
  const late = overdueText(p);
  return `<li data-hd="${esc(p.id)}" class="${p.overdue ? 'overdue' : ''}" tabindex="0">
    <div class="hd-line">${statusBadge(p.status)}${gradeBadge(p.grade)}<b>${esc(p.category_label ?? categoryZh(p.category))}</b>
      <span class="hd-id">${esc(p.id)}</span></div>
    <div class="hd-desc">${esc(p.description)}</div>
    <div class="hd-meta">${p.deadline ? `时限 ${esc(p.deadline)}` : '未定时限'}${late ? ` · <span class="late">${esc(late)}</span>` : ''}
      ${p.enterprise_name ? ` · ${esc(p.enterprise_name)}` : ''}</div></li>`;
}

function renderList() {
  const list = byId('hd-list');
  const shown = visibleItems();
  byId('hd-count').textContent = state.inView ? `视野内 ${shown.length} 条` : `共 ${state.matched} 条`;
  if (!shown.length) {
    list.innerHTML = '<li class="msg">没有符合条件的隐患</li>';
    return;
  }
  const head = shown.slice(0, LIST_LIMIT);
  list.innerHTML = head.map(itemHtml).join('') +
    (shown.length > head.length ? `<li class="msg">仅显示前 ${LIST_LIMIT} 条</li>` : '');
}

function buildCard() {
  const card = document.createElement('section');
  card.className = 'card hd-card';
  card.id = 'hd-card';
  card.hidden = true;
  card.setAttribute('aria-labelledby', 'hd-title');
  const chips = [['open', '未销号'], ...Object.entries(STATUS).map(([k, v]) => [k, v.zh])];
  card.innerHTML = `
    <div class="card-head"><h2 id="hd-title">隐患</h2><span class="scope" id="hd-count">–</span></div>
    <p class="hd-scope" id="hd-scope"></p>
    <div class="hd-filters" role="radiogroup" aria-label="按状态筛选" id="hd-filters">
      ${chips.map(([k, zh]) => `<button type="button" role="radio" data-filter="${k}" aria-checked="${k === 'open'}">${esc(zh)}</button>`).join('')}
    </div>
    <label class="hd-inview"><input type="checkbox" id="hd-inview"> 只看当前视野</label>
    <ul class="hd-list" id="hd-list" aria-live="polite"></ul>`;
  const sidebar = byId('sidebar');
  sidebar.insertBefore(card, sidebar.firstElementChild);
  const toggle = document.createElement('li');
  toggle.className = 'private';
  toggle.innerHTML = '<label><input type="checkbox" data-group="hidden_dangers" checked><span>隐患</span><em class="lock">登录后可见</em></label>';
  byId('layer-toggles').append(toggle);
  card.querySelector('#hd-filters').addEventListener('click', (e) => {
    const b = e.target.closest('[data-filter]');
    if (!b) return;
    state.filter = b.dataset.filter;
    for (const x of card.querySelectorAll('[data-filter]')) x.setAttribute('aria-checked', String(x === b));
    loadList();
  });
  card.querySelector('#hd-inview').addEventListener('change', (e) => { state.inView = e.target.checked; renderList(); });
  const pick = (e) => {
    const li = e.target.closest('li[data-hd]');
    if (!li) return;
    state.hooks.closeDrawer();
    const f = state.items.find((x) => x.properties.id === li.dataset.hd);
    if (f) state.map.flyTo({ center: f.geometry.coordinates, zoom: Math.max(state.map.getZoom(), 15), duration: 800 });
    showDanger(li.dataset.hd);
  };
  card.querySelector('#hd-list').addEventListener('click', pick);
  card.querySelector('#hd-list').addEventListener('keydown', (e) => { if (e.key === 'Enter') pick(e); });
}

// --- the map layer ----------------------------------------------------------------

function drawLayer() {
  const map = state.map;
  if (!map) return;
  const data = { type: 'FeatureCollection', features: getToken() ? state.items : [] };
  const source = map.getSource(SOURCE_ID);
  if (source) {
    source.setData(data);
    return;
  }
  const color = ['match', ['get', 'status'], ...Object.entries(STATUS).flatMap(([k, v]) => [k, v.color]), '#666'];
  try {
    map.addSource(SOURCE_ID, { type: 'geojson', data });
    map.addLayer({
      id: LAYER_ID,
      type: 'circle',
      source: SOURCE_ID,
      metadata: { 'riskmap:group': 'hidden_dangers' },
      layout: { visibility: document.querySelector('[data-group=hidden_dangers]')?.checked === false ? 'none' : 'visible' },
      paint: {
        'circle-color': color,
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 9, ['case', ['==', ['get', 'grade'], 'major'], 4, 2.5],
          15, ['case', ['==', ['get', 'grade'], 'major'], 9, 6]],
        'circle-stroke-color': ['case', ['get', 'overdue'], '#d7191c', '#ffffff'],
        'circle-stroke-width': ['case', ['get', 'overdue'], 3, 1.5],
      },
    });
  } catch {
    // The style is still loading: draw once it is.
    map.once('idle', drawLayer);
  }
}

// --- a record ---------------------------------------------------------------------

/**
 * Shows record `id` in the detail panel (its history and the allowed
 * actions); with `refresh`, only if the panel still shows it, without a
 * placeholder in between.
 */
export async function showDanger(id, { message, refresh = false } = {}) {
  if (!refresh) {
    state.hooks.clearSelection();
    state.hooks.showPanel(`<div data-hd-loading="${esc(id)}"><h3>隐患 ${esc(id)}</h3>
      <div class="skeleton"></div><div class="skeleton"></div></div>`);
  }
  const still = () => !byId('detail').hidden && (refresh ? panelShows(id)
    : document.querySelector('#detail-body [data-hd-loading]')?.dataset.hdLoading === id);
  let resp;
  try {
    resp = await fetch(urlOf(`api/hidden-dangers/${encodeURIComponent(id)}`),
      { headers: authHeaders(), credentials: 'omit', cache: 'no-store' });
    if (!resp.ok) {
      let d = '';
      try { d = (await resp.json()).description; } catch { /* not JSON */ }
      throw new ApiError(resp.status, d || `服务器返回 ${resp.status}`);
    }
  } catch (e) {
    if (still()) state.hooks.showPanel(`<h3>隐患 ${esc(id)}</h3><div class="note">隐患加载失败：${esc(e.message)}</div>`);
    return;
  }
  const feature = await resp.json();
  if (!still()) return;
  state.open = { feature, etag: resp.headers.get('etag') };
  renderRecord(message);
}

/** Whether the panel shows record `id`. */
function panelShows(id) {
  const el = document.querySelector('#detail-body [data-hd-record]');
  return Boolean(el) && !byId('detail').hidden && el.dataset.hdRecord === id;
}

function actionsHtml(p) {
  const hist = p.history ?? [];
  const rectifier = [...hist].reverse().find((h) => h.action === 'rectify')?.actor;
  const verifier = (a) => a === 'close' || a === 'reject';
  const allowed = (NEXT[p.status] ?? []).filter((a) => canDo(a) && !(verifier(a) && rectifier && rectifier === state.me?.name));
  const sameHand = (NEXT[p.status] ?? []).some((a) => verifier(a) && canDo(a)) && rectifier === state.me?.name;
  if (!allowed.length) {
    const why = p.status === 'closed' ? '该隐患已销号，闭环完成。'
      : sameHand ? '整改与验收须由不同人员完成：请由其他规划管理人员验收。'
        : p.status === 'rectified' ? '已整改，等待规划管理人员验收销号。' : '';
    return why ? `<div class="note">${why}</div>` : '';
  }
  const buttons = allowed.map((a) => `<button type="button" class="btn ${a === 'reject' || a === 'extend' ? 'outline' : 'primary'} small"
    data-hd-action="${a}">${ACTION_ZH[a]}</button>`).join('');
  return `<h4>办理</h4><form class="hd-act" id="hd-act" novalidate>
    <label class="field"><span>说明（可选）</span><textarea name="note" rows="2" maxlength="500" placeholder="整改措施、验收意见等"></textarea>
      <em class="field-error" data-error-for="note" hidden></em></label>
    ${allowed.includes('extend') ? `<label class="field"><span>延期至</span><input type="date" name="deadline" min="${esc(today())}">
      <em class="field-error" data-error-for="deadline" hidden></em></label>` : ''}
    <p class="form-error" id="hd-act-error" role="alert" hidden></p>
    <div class="hd-buttons">${buttons}</div></form>`;
}

function renderRecord(message) {
  const { feature } = state.open;
  const p = feature.properties;
  // What the reader was typing survives a refresh of the same record.
  const typed = panelShows(p.id) ? byId('hd-act') : null;
  const kept = typed ? { note: typed.elements.note?.value, deadline: typed.elements.deadline?.value } : null;
  const late = overdueText(p);
  const hist = (p.history ?? []).slice().reverse();
  const html = `<div data-hd-record="${esc(p.id)}" data-status="${esc(p.status)}">
    <h3>${esc(p.category_label ?? categoryZh(p.category))}隐患</h3>
    <p class="meta">隐患编号 ${esc(p.id)}</p>
    <div class="hd-head">${statusBadge(p.status)}${gradeBadge(p.grade)}${late ? `<span class="late">${esc(late)}</span>` : ''}</div>
    ${message ? `<div class="note" data-hd-message>${esc(message)}</div>` : ''}
    <p class="hd-text">${esc(p.description)}</p>
    <dl class="facts">
      <div><dt>隐患等级</dt><dd>${esc(GRADE_ZH[p.grade] ?? p.grade)}</dd></div>
      <div><dt>发现方式</dt><dd>${esc(p.source_label ?? p.source)}</dd></div>
      <div><dt>发现日期</dt><dd>${esc(p.found_at)}</dd></div>
      <div><dt>整改时限</dt><dd class="${p.overdue ? 'late' : ''}">${esc(p.deadline ?? '未定')}</dd></div>
      <div><dt>整改责任人</dt><dd>${esc(p.responsible ?? '–')}</dd></div>
      <div><dt>销号日期</dt><dd>${esc(p.closed_at ?? '–')}</dd></div>
      ${p.enterprise_name ? `<div style="grid-column:1/-1"><dt>生产经营单位</dt><dd>${esc(p.enterprise_name)}</dd></div>` : ''}
      ${p.cell ? `<div style="grid-column:1/-1"><dt>所在网格</dt><dd><a href="#" data-unit="${esc(p.cell)}">${esc(p.cell)}</a></dd></div>` : ''}
    </dl>
    ${actionsHtml(p)}
    <h4>办理记录</h4>
    <ol class="hd-history">${hist.map((h) => `<li data-action="${esc(h.action)}">
      <div><b>${esc(ACTION_ZH[h.action] ?? h.action)}</b> ${statusBadge(h.status)}</div>
      <div class="hd-meta">${esc(when(h.at))}${h.actor ? ` · ${esc(h.actor)}` : ''}${h.role ? `（${esc(ROLE_ZH[h.role] ?? h.role)}）` : ''}</div>
      ${h.note ? `<div class="hd-note">${esc(h.note)}</div>` : ''}</li>`).join('')}</ol></div>`;
  const body = state.hooks.showPanel(html, { keepScroll: panelShows(p.id) });
  const form = body?.querySelector('#hd-act');
  if (form && kept) {
    if (form.elements.note && kept.note) form.elements.note.value = kept.note;
    if (form.elements.deadline && kept.deadline) form.elements.deadline.value = kept.deadline;
  }
  body?.querySelector('#hd-act')?.addEventListener('click', (e) => {
    const b = e.target.closest('[data-hd-action]');
    if (b) act(b.dataset.hdAction, b.form ?? byId('hd-act'));
  });
}

/** Sends an event with If-Match; 412 → reload, 409 → the server's word. */
async function act(action, form) {
  const id = state.open.feature.properties.id;
  const error = byId('hd-act-error');
  for (const el of form.querySelectorAll('[data-error-for]')) el.hidden = true;
  error.hidden = true;
  const note = form.elements.note?.value.trim();
  const deadline = form.elements.deadline?.value;
  if (action === 'extend' && !deadline) {
    const el = form.querySelector('[data-error-for=deadline]');
    el.textContent = '请选择新的整改时限';
    el.hidden = false;
    return;
  }
  const data = { action };
  if (note) data.note = note;
  if (action === 'extend') data.deadline = deadline;
  for (const b of form.querySelectorAll('button')) b.disabled = true;
  state.writing = id;
  state.heardDuring = 0;
  const r = await post(`api/hidden-dangers/${encodeURIComponent(id)}/events`, data, { 'If-Match': state.open.etag ?? '' });
  state.writing = null;
  for (const b of form.querySelectorAll('button')) b.disabled = false;
  if (r.status === 200) {
    state.open = { feature: r.body, etag: r.etag };
    if (form.elements.note) form.elements.note.value = '';
    renderRecord();
    // Someone else wrote it after us while our answer was on its way.
    if (state.heardDuring > seqOf(r.body.data_version)) showDanger(id, { refresh: true, message: '该隐患刚被他人更新，已显示最新状态。' });
    toast(`已${ACTION_ZH[action]}：${id}`, 'info');
    reloadList();
    return;
  }
  if (r.status === 412 || r.status === 428) {
    await showDanger(id, { refresh: true, message: '该隐患刚被他人更新，已刷新为最新状态，请确认后重试。' });
    return;
  }
  const fe = r.status === 400 ? fieldError(r.body.description) : null;
  const slot = fe && form.querySelector(`[data-error-for=${fe.field}]`);
  if (slot) {
    slot.textContent = `${FIELD_ZH[fe.field]}：${messageZh(fe.message)}`;
    slot.hidden = false;
    return;
  }
  const prefix = { 409: '当前状态不允许该操作', 403: '无权办理', 404: '隐患不存在' }[r.status] ?? `办理失败（${r.status}）`;
  error.textContent = r.body.description ? `${prefix}：${messageZh(r.body.description)}` : prefix;
  error.hidden = false;
}

// --- reporting ------------------------------------------------------------------------

function buildDialog() {
  const dialog = document.createElement('dialog');
  dialog.className = 'modal hd-dialog';
  dialog.id = 'report-dialog';
  dialog.setAttribute('aria-labelledby', 'report-title');
  const options = (obj) => Object.entries(obj).map(([k, v]) => `<option value="${esc(k)}">${esc(v)}</option>`).join('');
  dialog.innerHTML = `<form id="report-form" novalidate>
    <h2 id="report-title">上报隐患</h2>
    <p class="hint" id="report-place"></p>
    <label class="field"><span>隐患类别</span>
      <select name="category" id="report-category"><option value="">请选择</option>
        <optgroup label="行业领域">${options(INDUSTRY_ZH)}</optgroup>
        <optgroup label="公共安全">${options(OTHER_CATEGORY_ZH)}</optgroup></select>
      <em class="field-error" data-error-for="category" hidden></em></label>
    <fieldset class="field hd-grades"><legend>隐患等级</legend>
      <label><input type="radio" name="grade" value="general" checked> 一般隐患</label>
      <label><input type="radio" name="grade" value="major"> <b class="major-word">重大隐患</b></label>
      <em class="field-error" data-error-for="grade" hidden></em></fieldset>
    <label class="field"><span>隐患描述</span>
      <textarea name="description" id="report-description" rows="3" maxlength="500" placeholder="位置、现象、可能后果"></textarea>
      <em class="field-error" data-error-for="description" hidden></em></label>
    <label class="field"><span>整改时限 <small id="report-deadline-hint">（重大隐患必填）</small></span>
      <input type="date" name="deadline" id="report-deadline" min="${esc(today())}">
      <em class="field-error" data-error-for="deadline" hidden></em></label>
    <label class="field"><span>整改责任人/单位（可选）</span>
      <input type="text" name="responsible" id="report-responsible" maxlength="100" autocomplete="off">
      <em class="field-error" data-error-for="responsible" hidden></em></label>
    <label class="field"><span>发现方式</span><select name="source" id="report-source">${options(SOURCE_ZH)}</select>
      <em class="field-error" data-error-for="source" hidden></em></label>
    <em class="field-error" data-error-for="lon" hidden></em>
    <p class="form-error" id="report-error" role="alert" hidden></p>
    <div class="modal-actions">
      <button class="btn ghost" type="button" id="report-replace">重新选点</button>
      <button class="btn ghost" type="button" id="report-cancel">取消</button>
      <button class="btn primary" type="submit" id="report-submit">提交</button>
    </div></form>`;
  document.body.append(dialog);
  const form = dialog.querySelector('form');
  form.elements.deadline.min = today();
  dialog.querySelector('#report-cancel').addEventListener('click', () => { dialog.close(); endPlacing(); });
  dialog.querySelector('#report-replace').addEventListener('click', () => { dialog.close(); startPlacing(); });
  dialog.addEventListener('cancel', () => endPlacing());
  form.addEventListener('submit', (e) => { e.preventDefault(); submitReport(form); });
}

function buildPlacing() {
  const btn = document.createElement('button');
  btn.type = 'button';
  btn.className = 'btn primary hd-fab';
  btn.id = 'report-btn';
  btn.hidden = true;
  btn.innerHTML = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 5v14M5 12h14"/></svg><span>上报隐患</span>';
  btn.addEventListener('click', () => startPlacing());
  const banner = document.createElement('div');
  banner.className = 'hd-banner';
  banner.id = 'place-banner';
  banner.hidden = true;
  banner.innerHTML = '<span>点击地图选择隐患位置（点企业可关联该企业）</span><button type="button" class="btn ghost small" id="place-cancel">取消</button>';
  banner.querySelector('button').addEventListener('click', () => endPlacing());
  const wrap = document.querySelector('.map-wrap');
  wrap.append(btn, banner);
}

function startPlacing() {
  state.placing = true;
  byId('place-banner').hidden = false;
  document.body.classList.add('hd-placing');
  state.hooks.closeDrawer();
}

function endPlacing() {
  state.placing = false;
  byId('place-banner').hidden = true;
  document.body.classList.remove('hd-placing');
  state.marker?.remove();
  state.marker = null;
}

function openForm(place) {
  state.place = place;
  byId('place-banner').hidden = true;
  state.placing = false;
  document.body.classList.remove('hd-placing');
  state.marker?.remove();
  state.marker = new window.maplibregl.Marker({ color: '#d7191c' }).setLngLat([place.lon, place.lat]).addTo(state.map);
  const dialog = byId('report-dialog');
  const form = byId('report-form');
  for (const el of form.querySelectorAll('[data-error-for]')) el.hidden = true;
  byId('report-error').hidden = true;
  byId('report-place').textContent = place.enterprise
    ? `位置：${place.enterprise.name}（${place.enterprise.id}）`
    : `位置：东经 ${place.lon.toFixed(5)}，北纬 ${place.lat.toFixed(5)}`;
  if (place.enterprise?.industry && INDUSTRY_ZH[place.enterprise.industry]) form.elements.category.value = place.enterprise.industry;
  dialog.showModal();
}

async function submitReport(form) {
  const f = form.elements;
  const place = state.place;
  for (const el of form.querySelectorAll('[data-error-for]')) el.hidden = true;
  const error = byId('report-error');
  error.hidden = true;
  const data = {
    grade: f.grade.value,
    description: f.description.value,
    source: f.source.value,
  };
  if (f.category.value) data.category = f.category.value;
  if (f.deadline.value) data.deadline = f.deadline.value;
  if (f.responsible.value.trim()) data.responsible = f.responsible.value.trim();
  if (place.enterprise) data.enterprise_id = place.enterprise.id;
  else { data.lon = place.lon; data.lat = place.lat; }
  const submit = byId('report-submit');
  submit.disabled = true;
  const r = await post('api/hidden-dangers', data);
  submit.disabled = false;
  if (r.status === 201) {
    byId('report-dialog').close();
    endPlacing();
    form.reset();
    const p = r.body.properties ?? {};
    const cell = (r.body.rescored ?? []).find((u) => u.level === 'cell');
    toast(`已上报隐患 ${p.id}${cell ? `，所在网格风险 ${Number(cell.risk_score).toFixed(1)} 分` : ''}`, 'info');
    state.open = { feature: r.body, etag: r.etag };
    state.hooks.clearSelection();
    renderRecord();
    reloadList();
    return;
  }
  const fe = r.status === 400 ? fieldError(r.body.description) : null;
  const slot = fe && form.querySelector(`[data-error-for=${fe.field}]`);
  if (slot) {
    slot.textContent = `${FIELD_ZH[fe.field]}：${messageZh(fe.message)}`;
    slot.hidden = false;
    slot.closest('.field')?.scrollIntoView({ block: 'nearest' });
    return;
  }
  const prefix = { 403: '无权在此上报（该位置不在您的管辖范围内）', 401: '登录已失效，请重新登录' }[r.status] ?? `上报失败（${r.status}）`;
  error.textContent = r.status === 403 ? prefix : `${prefix}${r.body.description ? `：${messageZh(r.body.description)}` : ''}`;
  error.hidden = false;
}

// --- map clicks, the unit panel, live events ---------------------------------------------

/**
 * The page's map click, first: places a report while placing, opens a
 * danger drawn on the map; true if it took the click.
 */
export function handleMapClick(e) {
  const map = state.map;
  if (state.placing) {
    const { x, y } = e.point;
    const ent = map.getLayer('enterprises-point')
      ? map.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]], { layers: ['enterprises-point'] })[0] : null;
    if (ent) {
      const [lon, lat] = ent.geometry.coordinates;
      openForm({ lon, lat, enterprise: { id: ent.properties.id, name: ent.properties.name, industry: ent.properties.industry } });
    } else {
      openForm({ lon: e.lngLat.lng, lat: e.lngLat.lat });
    }
    return true;
  }
  if (!getToken() || !map.getLayer(LAYER_ID) || map.getLayoutProperty(LAYER_ID, 'visibility') === 'none') return false;
  const { x, y } = e.point;
  const hit = map.queryRenderedFeatures([[x - 5, y - 5], [x + 5, y + 5]], { layers: [LAYER_ID] })[0];
  if (!hit) return false;
  showDanger(hit.properties.id);
  return true;
}

/** Adds the open dangers of unit `s` (an /api/cells answer) to its panel `body`. */
export async function addUnitDangers(s, body) {
  if (!getToken() || !state.me) return;
  const box = document.createElement('section');
  box.className = 'hd-unit';
  box.dataset.unitDangers = s.code;
  box.innerHTML = '<h4>未销号隐患</h4><div class="skeleton"></div>';
  const anchor = body.querySelector('.actions-row');
  if (anchor) anchor.before(box); else body.append(box);
  let fc;
  try {
    fc = await getJson('api/hidden-dangers', { within: s.code, status: OPEN, limit: 100 });
  } catch (e) {
    box.innerHTML = `<h4>未销号隐患</h4><p class="muted">隐患加载失败：${esc(e.message)}</p>`;
    return;
  }
  const items = fc.features ?? [];
  box.innerHTML = `<h4>未销号隐患（${fc.numberMatched ?? items.length}）</h4>${items.length
    ? `<ul class="hd-list compact">${items.map(itemHtml).join('')}</ul>` : '<p class="muted">暂无未销号隐患。</p>'}`;
  box.addEventListener('click', (e) => {
    const li = e.target.closest('li[data-hd]');
    if (li) showDanger(li.dataset.hd);
  });
}

function onDangerEvent(ev) {
  reloadList();
  const id = ev?.id;
  if (!id || state.open?.feature.properties.id !== id || !panelShows(id)) return;
  const seq = seqOf(ev.data_version);
  // While this page writes the record, its answer decides (see act()).
  if (state.writing === id) {
    state.heardDuring = Math.max(state.heardDuring, seq);
    return;
  }
  // Our own write (or an older one) shows already; a newer one reloads it.
  const shown = state.open.feature.data_version;
  if (shown !== undefined && seq <= seqOf(shown)) return;
  showDanger(id, { refresh: true, message: '该隐患刚被他人更新，已显示最新状态。' });
}

async function loadMe() {
  state.me = null;
  const card = byId('hd-card');
  if (!getToken()) {
    // A list still paging in stops: its next page would go without a token.
    state.loading++;
    card.hidden = true;
    byId('report-btn').hidden = true;
    state.items = [];
    drawLayer();
    return;
  }
  try {
    state.me = await getJson('api/me');
  } catch {
    card.hidden = true;
    byId('report-btn').hidden = true;
    return;
  }
  card.hidden = false;
  byId('report-btn').hidden = !canDo('report');
  const sc = state.me.scope;
  byId('hd-scope').textContent = sc ? `${ROLE_ZH[state.me.role] ?? state.me.role} · 管辖 ${sc.name}（${sc.code}）`
    : `${ROLE_ZH[state.me.role] ?? state.me.role} · 全市`;
  await loadList();
}

/**
 * Sets up the 隐患 panel, the report form and the map layer. `hooks`:
 * closeDrawer(), clearSelection(), showPanel(html) → the panel's body.
 */
export function initDangers(map, hooks) {
  state.map = map;
  state.hooks = { ...state.hooks, ...hooks };
  buildCard();
  buildDialog();
  buildPlacing();
  map.once('load', drawLayer);
  map.on('moveend', () => { if (state.inView) renderList(); });
  onTokenChange(() => { endPlacing(); state.open = null; loadMe(); });
  loadMe();
}

/** What `/api/events` said about a hidden danger or a lost stream. */
export const dangerListeners = {
  hidden_danger: onDangerEvent,
  resync: () => {
    reloadList();
    const id = state.open?.feature.properties.id;
    if (id && panelShows(id)) showDanger(id, { refresh: true });
  },
};
