// The conversation: messages in a role="log" region, answers streamed as they are made
// (plain text while streaming, Markdown once done, like the messengers), Stop, commands,
// pictures, speech and audio transcription.
import { events, post, postForm, SignedOut } from './api.js';
import { render } from './markdown.js';

const $ = (id) => document.getElementById(id);

function blobUrl(base64, mime) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return URL.createObjectURL(new Blob([bytes], { type: mime }));
}

export class Chat {
  constructor(session, { onSignedOut, onWordsChanged }) {
    this.onSignedOut = onSignedOut;
    this.onWordsChanged = onWordsChanged;
    this.requestId = null;
    this.busy = false;
    $('composer').addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    $('message').addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.send();
      }
    });
    $('stop').addEventListener('click', () => this.stop());
    $('new-chat').addEventListener('click', () => this.run(() => this.command('/web/api/new-chat', {})));
    $('model').addEventListener('change', (e) =>
      this.run(() => this.command('/web/api/model', { model: e.target.value })),
    );
    $('audio').addEventListener('change', () => this.transcribe());
    this.update(session);
  }

  update(session) {
    this.words = session.words;
    $('balance').textContent = session.balance;
    const select = $('model');
    select.replaceChildren(
      ...session.models.map((m) => {
        const option = new Option(m.label, m.name, m.current, m.current);
        return option;
      }),
    );
  }

  message(role, cls = '') {
    const item = document.createElement('article');
    item.className = `msg ${role} ${cls}`.trim();
    const who = document.createElement('h2');
    who.className = 'who';
    who.textContent = role === 'user' ? this.words.you : this.words.assistant;
    const body = document.createElement('div');
    body.className = 'body';
    item.append(who, body);
    $('log').append(item);
    item.scrollIntoView({ block: 'end' });
    return body;
  }

  say(text, cls = '') {
    const body = this.message('bot', cls);
    body.append(render(text));
    return body;
  }

  async loadHistory() {
    const { items } = await (await fetch('/web/api/history')).json();
    for (const item of items) {
      this.message('user').textContent = item.question;
      this.message('bot').append(render(item.answer));
    }
  }

  streaming(on) {
    this.busy = on;
    $('send').hidden = on;
    $('stop').hidden = !on;
    if (!on) this.requestId = null;
  }

  async run(job) {
    try {
      await job();
    } catch (error) {
      if (error instanceof SignedOut) this.onSignedOut();
      else this.say(this.words.connection_lost, 'error');
    }
  }

  async send() {
    const box = $('message');
    const text = box.value.trim();
    if (!text || this.busy) return;
    box.value = '';
    this.message('user').textContent = text;
    this.streaming(true);
    try {
      await this.run(() => this.exchange(text));
    } finally {
      this.streaming(false);
      box.focus();
    }
  }

  async exchange(text) {
    const response = await post('/web/api/send', { text, model: $('model').value || null });
    if (!response.headers.get('Content-Type').startsWith('text/event-stream')) {
      this.show(await response.json());
      return;
    }
    const body = this.message('bot', 'streaming');
    const live = document.createTextNode('');
    body.append(live);
    let finished = false;
    for await (const { event, data } of events(response)) {
      if (event === 'start') this.requestId = data.request_id;
      else if (event === 'delta') live.appendData(data.text);
      else if (event === 'done') {
        finished = true;
        body.replaceChildren(render(data.text));
        if (data.note) this.note(body, data.note);
        this.note(body, data.charged);
        $('balance').textContent = data.balance;
      } else if (event === 'error') {
        finished = true;
        body.parentElement.classList.add('error');
        body.append(render(data.text));
      } else if (event === 'balance') $('balance').textContent = data.balance;
      body.parentElement.scrollIntoView({ block: 'end' });
    }
    body.parentElement.classList.remove('streaming');
    if (!finished) this.say(this.words.connection_lost, 'error');
  }

  note(body, text) {
    const p = document.createElement('p');
    p.className = 'note';
    p.textContent = text;
    body.append(p);
  }

  show(answer) {
    if (answer.kind === 'error') {
      this.say(answer.text, 'error');
      return;
    }
    const body = this.message('bot');
    if (answer.kind === 'image') {
      const img = document.createElement('img');
      img.src = blobUrl(answer.data, answer.mime);
      img.alt = answer.text || this.words.image_alt;
      body.append(img);
    } else if (answer.kind === 'audio') {
      const audio = document.createElement('audio');
      audio.controls = true;
      audio.src = blobUrl(answer.data, answer.mime);
      audio.setAttribute('aria-label', this.words.speech);
      body.append(audio);
    } else {
      body.append(render(answer.text));
    }
    if (answer.kind === 'image' && answer.text) this.note(body, answer.text);
    if (answer.charged) this.note(body, answer.charged);
    if (answer.balance) $('balance').textContent = answer.balance;
    if (answer.command === 'lang') this.onWordsChanged();
  }

  async command(path, body) {
    this.show(await (await post(path, body)).json());
  }

  async stop() {
    if (this.requestId) await this.run(() => post('/web/api/stop', { request_id: this.requestId }));
  }

  async transcribe() {
    const input = $('audio');
    const file = input.files[0];
    if (!file) return;
    this.message('user').textContent = `🎤 ${file.name}`;
    const form = new FormData();
    form.append('file', file);
    input.value = '';
    await this.run(async () => this.show(await postForm('/web/api/transcribe', form)));
  }
}
