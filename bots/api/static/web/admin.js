// The admin console: asks the server who we are (always 200) and shows either a refusal
// or the console, whose sections are addressed by the URL's hash (#users, #user/42,
// #usage, #system, #access) so Back, links and the keyboard work as on any page. Every text from
// the server or the database reaches the page through textContent.
import { getJSON, SignedOut } from './api.js';
import { formatNumber, stackedChart } from './admin-charts.js';

const $ = (id) => document.getElementById(id);
const VIEWS = ['users-view', 'user-view', 'usage-view', 'system-view', 'access-view'];
let words = {};
let language = 'en';
let usersOffset = 0;
let grantKey = null;

class Failure extends Error {}

function say(key, params = {}) {
  return (words[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? ''));
}

function applyWords() {
  for (const node of document.querySelectorAll('[data-word]')) node.textContent = words[node.dataset.word];
  for (const node of document.querySelectorAll('[data-word-label]')) {
    node.setAttribute('aria-label', words[node.dataset.wordLabel]);
  }
  document.title = words.title;
}

function when(iso) {
  if (!iso) return say('never');
  return new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso));
}

function cell(row, text, tag = 'td') {
  const node = document.createElement(tag);
  if (text instanceof Node) node.append(text);
  else node.textContent = text;
  row.append(node);
  return node;
}

function facts(list, pairs) {
  list.replaceChildren();
  for (const [term, value, id] of pairs) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    if (id) dd.id = id;
    list.append(dt, dd);
  }
}

async function send(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status === 401) throw new SignedOut();
  const answer = await response.json();
  // A refused change comes as 200 with an error (see bots/api/web/admin.py).
  if (!response.ok || answer.error) throw new Failure(answer.error?.message ?? say('failed'));
  return answer;
}

function status(text) {
  $('status').textContent = text;
}

// ---- users ----------------------------------------------------------------------------

async function showUsers() {
  const query = $('search').value.trim();
  const params = new URLSearchParams({ offset: String(usersOffset) });
  if (query) params.set('q', query);
  const page = await getJSON(`/web/api/admin/users?${params}`);
  const body = $('users-table').tBodies[0];
  body.replaceChildren();
  for (const user of page.items) {
    const row = body.insertRow();
    row.dataset.id = user.id;
    const link = document.createElement('a');
    link.href = `#user/${user.id}`;
    link.textContent = user.username;
    const who = cell(row, link, 'th');
    who.scope = 'row';
    const ids = document.createElement('span');
    ids.className = 'hint';
    ids.textContent = ` #${user.id}`;
    who.append(ids);
    cell(row, user.platforms.join(', '));
    cell(row, user.role);
    cell(row, user.balance).className = 'num';
    cell(row, user.banned ? say('yes') : say('no'));
    cell(row, when(user.last_active));
  }
  $('users-count').textContent = say('found', { count: page.total });
  $('previous').disabled = page.offset === 0;
  $('next').disabled = page.offset + page.items.length >= page.total;
}

// ---- one user -------------------------------------------------------------------------

function newGrantKey() {
  // One key per filled-in grant: a double click sends the same key, granted once.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  grantKey = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function renderUser(page) {
  const { user } = page;
  const view = $('user-view');
  view.dataset.id = user.id;
  view.dataset.banned = user.banned;
  $('user-name').textContent = `${user.username} (#${user.id})`;
  facts($('user-facts'), [
    [words.identities, user.identities.join(', ') || '—'],
    [words.col_role, user.role, 'user-role'],
    [words.col_balance, user.balance, 'user-balance'],
    [words.col_banned, user.banned ? say('yes') : say('no'), 'user-banned'],
    [words.col_last_active, when(user.last_active)],
  ]);
  $('role').value = user.role;
  $('ban').textContent = user.banned ? words.unban : words.ban;
  const ledger = $('ledger-table').tBodies[0];
  ledger.replaceChildren();
  for (const entry of page.ledger) {
    const row = ledger.insertRow();
    cell(row, when(entry.created_at));
    cell(row, entry.kind);
    cell(row, entry.amount).className = 'num';
    cell(row, entry.reason);
  }
  if (!page.ledger.length) cell(ledger.insertRow(), words.nothing).colSpan = 4;
  const questions = $('questions');
  questions.replaceChildren();
  for (const item of page.questions) {
    const li = document.createElement('li');
    const time = document.createElement('time');
    time.dateTime = item.created_at ?? '';
    time.textContent = when(item.created_at);
    const q = document.createElement('p');
    q.className = 'question';
    q.textContent = item.question;
    const a = document.createElement('p');
    a.className = 'answer';
    a.textContent = item.answer;
    li.append(time, q, a);
    questions.append(li);
  }
  if (!page.questions.length) questions.append(Object.assign(document.createElement('li'), { textContent: words.nothing }));
}

function revokeButton(key) {
  // Two clicks revoke: the first only asks "Really revoke?", so a stray click does not
  // cut off a working integration. Re-rendering the table disarms every button.
  const button = Object.assign(document.createElement('button'), { type: 'button', textContent: words.revoke });
  button.className = 'revoke';
  button.setAttribute('aria-label', `${words.revoke} ${key.prefix}`);
  button.addEventListener('click', () => {
    if (button.dataset.armed === 'true') {
      button.disabled = true;
      revokeKey(key.id);
      return;
    }
    button.dataset.armed = 'true';
    button.textContent = words.revoke_confirm;
  });
  return button;
}

function renderKeys(answer) {
  const body = $('keys-table').tBodies[0];
  body.replaceChildren();
  const limit = (value) => (value === null ? words.no_limit : value);
  for (const key of answer.keys) {
    const row = body.insertRow();
    row.dataset.id = key.id;
    cell(row, key.name || '—', 'th').scope = 'row';
    const prefix = cell(row, `${key.prefix}…`);
    prefix.className = 'mono';
    cell(row, when(key.created_at));
    cell(row, limit(key.budget)).className = 'num';
    cell(row, key.spent).className = 'num';
    const expires = key.expires_at === null ? words.no_limit : when(key.expires_at);
    cell(row, key.expired ? `${expires} (${words.expired})` : expires);
    cell(row, key.models === null ? words.any_model : key.models.join(', '));
    cell(row, limit(key.per_minute === null ? null : formatNumber(key.per_minute, language))).className = 'num';
    cell(row, formatNumber(key.requests, language)).className = 'num';
    cell(row, when(key.last_used_at));
    cell(row, revokeButton(key));
  }
  if (!answer.keys.length) cell(body.insertRow(), words.no_keys).colSpan = 11;
}

async function revokeKey(keyId) {
  const id = $('user-view').dataset.id;
  const notice = $('user-notice');
  try {
    const answer = await send(`/web/api/admin/users/${id}/keys/${keyId}/revoke`, {});
    renderKeys(answer);
    notice.textContent = answer.notice;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    notice.textContent = error.message;
    renderKeys(await getJSON(`/web/api/admin/users/${id}/keys`)); // what is live now
  }
}

async function showUser(id) {
  $('user-notice').textContent = '';
  $('amount').value = '';
  $('reason').value = '';
  newGrantKey();
  const [page, keys] = await Promise.all([
    getJSON(`/web/api/admin/users/${id}`),
    getJSON(`/web/api/admin/users/${id}/keys`),
  ]);
  renderUser(page);
  renderKeys(keys);
}

async function changeUser(body) {
  const id = $('user-view').dataset.id;
  const notice = $('user-notice');
  try {
    const page = await send(`/web/api/admin/users/${id}`, body);
    renderUser(page);
    notice.textContent = page.notice;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    notice.textContent = error.message;
  }
}

async function grant() {
  const id = $('user-view').dataset.id;
  const notice = $('user-notice');
  const body = { amount: $('amount').value.trim(), reason: $('reason').value.trim(), key: grantKey };
  try {
    const page = await send(`/web/api/admin/users/${id}/grant`, body);
    renderUser(page);
    notice.textContent = page.notice;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    notice.textContent = error.message;
  }
}

// ---- access ---------------------------------------------------------------------------

function renderAccess(state) {
  const view = $('access-view');
  view.dataset.mode = state.mode;
  $('access-mode').textContent = state.mode === 'closed' ? words.mode_closed : words.mode_open;
  $('access-toggle').textContent = state.mode === 'closed' ? words.open_bot : words.close_bot;
  const rules = $('rules-table').tBodies[0];
  rules.replaceChildren();
  for (const rule of state.rules) {
    const row = document.createElement('tr');
    cell(row, rule.subject);
    cell(row, rule.verdict === 'block' ? words.block : words.allow);
    const remove = Object.assign(document.createElement('button'), { type: 'button', textContent: words.remove });
    remove.setAttribute('aria-label', `${words.remove} ${rule.subject}`);
    remove.addEventListener('click', () => changeAccess('rules/remove', { subject: rule.subject }));
    cell(row, remove);
    rules.append(row);
  }
  const invites = $('invites-table').tBodies[0];
  invites.replaceChildren();
  for (const invite of state.invites) {
    const row = document.createElement('tr');
    cell(row, invite.code);
    cell(row, formatNumber(invite.uses_left, language));
    invites.append(row);
  }
}

async function showAccess() {
  $('access-notice').textContent = '';
  renderAccess(await getJSON('/web/api/admin/access'));
}

async function changeAccess(path, body) {
  const notice = $('access-notice');
  try {
    const state = await send(`/web/api/admin/access/${path}`, body);
    renderAccess(state);
    notice.textContent = state.notice;
    return true;
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    notice.textContent = error.message;
    return false;
  }
}

// ---- usage ----------------------------------------------------------------------------

async function showUsage() {
  const usage = await getJSON('/web/api/admin/usage');
  const t = usage.totals;
  facts($('totals'), [
    [words.requests, formatNumber(t.requests, language), 'total-requests'],
    [words.credits, t.credits, 'total-credits'],
    [words.errors, formatNumber(t.errors, language), 'total-errors'],
    [words.error_rate, t.error_rate],
    [words.tokens, formatNumber(t.tokens, language)],
  ]);
  const label = (title, total) => say('chart_label', { title, total });
  const errors = usage.per_day.map((d) => ({ day: d.day, key: words.errors, errors: d.errors }));
  const charts = [
    ['chart-requests-platform', words.requests_by_platform, usage.by_platform, 'requests'],
    ['chart-credits-platform', words.credits_by_platform, usage.by_platform, 'credits'],
    ['chart-requests-model', words.requests_by_model, usage.by_model, 'requests'],
    ['chart-credits-model', words.credits_by_model, usage.by_model, 'credits'],
    ['chart-errors', words.errors_by_day, errors, 'errors'],
  ];
  $('charts').replaceChildren(
    ...charts.map(([id, title, rows, measure]) =>
      stackedChart({ id, title, days: usage.days, rows, measure, language, label }),
    ),
  );
  showTopics(); // not awaited: the charts are shown meanwhile
}

async function showTopics() {
  // Extracted off the request path and cached on the server; may take a moment the
  // first time, so the charts above do not wait for it.
  const list = $('topics');
  try {
    const report = await getJSON('/web/api/admin/topics');
    $('topics-note').textContent = say('topics_from', { count: report.questions });
    list.replaceChildren(
      ...report.topics.map((topic) => {
        const li = document.createElement('li');
        const phrase = document.createElement('span');
        phrase.className = 'phrase';
        phrase.textContent = topic.phrase;
        const count = document.createElement('span');
        count.className = 'hint';
        count.textContent = ` — ${say('topic_count', { count: topic.questions })}`;
        li.append(phrase, count);
        return li;
      }),
    );
    if (!report.topics.length) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: words.nothing }));
  } catch (error) {
    if (error instanceof SignedOut) location.reload();
    else $('topics-note').textContent = words.failed;
  }
}

// ---- system ---------------------------------------------------------------------------

async function showSystem() {
  const system = await getJSON('/web/api/admin/system');
  facts($('system-facts'), [
    [words.database, system.database, 'system-database'],
    [words.redis, system.redis, 'system-redis'],
    [words.open_reservations, system.open_reservations < 0 ? '—' : String(system.open_reservations), 'system-holds'],
    [words.version, system.version, 'system-version'],
  ]);
  const body = $('models-table').tBodies[0];
  body.replaceChildren();
  for (const model of system.models) {
    const row = body.insertRow();
    cell(row, model.name, 'th').scope = 'row';
    cell(row, model.kind);
    cell(row, model.price);
  }
}

// ---- routing --------------------------------------------------------------------------

function show(viewId) {
  for (const id of VIEWS) $(id).hidden = id !== viewId;
  for (const link of document.querySelectorAll('.tabs a')) {
    const current = viewId.startsWith(link.hash.slice(1)) || (viewId === 'user-view' && link.hash === '#users');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function route({ focus = true } = {}) {
  const [name, arg] = location.hash.slice(1).split('/');
  status('');
  try {
    if (name === 'user' && /^\d+$/.test(arg ?? '')) {
      show('user-view');
      await showUser(arg);
    } else if (name === 'usage') {
      show('usage-view');
      await showUsage();
    } else if (name === 'system') {
      show('system-view');
      await showSystem();
    } else if (name === 'access') {
      show('access-view');
      await showAccess();
    } else {
      show('users-view');
      await showUsers();
    }
  } catch (error) {
    if (error instanceof SignedOut) {
      location.reload();
      return;
    }
    status(words.failed);
    throw error;
  }
  const visibleView = VIEWS.map($).find((view) => !view.hidden);
  if (focus) visibleView.querySelector('h2')?.focus();
}

async function start() {
  const session = await getJSON('/web/api/admin/session');
  words = session.words;
  language = session.language;
  document.documentElement.lang = language;
  applyWords();
  $('refusal').hidden = session.allowed;
  $('console').hidden = !session.allowed;
  if (!session.allowed) return; // no admin data is asked for, none is sent
  $('search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    usersOffset = 0;
    showUsers();
  });
  $('previous').addEventListener('click', () => {
    usersOffset = Math.max(0, usersOffset - 25);
    showUsers();
  });
  $('next').addEventListener('click', () => {
    usersOffset += 25;
    showUsers();
  });
  $('role-form').addEventListener('submit', (e) => {
    e.preventDefault();
    changeUser({ role: $('role').value });
  });
  $('ban').addEventListener('click', () => changeUser({ banned: $('user-view').dataset.banned !== 'true' }));
  $('grant-form').addEventListener('submit', (e) => {
    e.preventDefault();
    grant();
  });
  for (const id of ['amount', 'reason']) $(id).addEventListener('input', newGrantKey);
  $('access-toggle').addEventListener('click', () => {
    const closed = $('access-view').dataset.mode === 'closed';
    changeAccess('mode', { mode: closed ? 'open' : 'closed' });
  });
  $('rule-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = { subject: $('rule-subject').value.trim(), verdict: $('rule-verdict').value };
    if (await changeAccess('rules', body)) $('rule-subject').value = '';
  });
  $('invite-form').addEventListener('submit', (e) => {
    e.preventDefault();
    changeAccess('invites', { uses: Number($('invite-uses').value) });
  });
  window.addEventListener('hashchange', () => route());
  await route({ focus: false });
  document.body.dataset.ready = 'true';
}

start();
