// A small Markdown renderer that builds DOM nodes and never parses HTML: every piece of
// the model's text reaches the page through textContent or createTextNode, so an answer
// containing <script> or <img onerror=...> shows those characters and runs nothing.
// Covers what chat answers use: fenced code, inline code, headings, lists, bold, italic,
// links (http and https only). A library (marked + DOMPurify) would hand us HTML strings
// to sanitize instead; building nodes leaves nothing to sanitize.

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*|__[^_\n]+__)|(\[[^\]\n]+\]\([^)\s]+\))|(https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"])|(\*[^*\s][^*\n]*\*|_[^_\s][^_\n]*_)/;

function link(href, text) {
  if (!/^https?:\/\//i.test(href)) return document.createTextNode(text);
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

function inline(parent, text) {
  while (text) {
    const m = INLINE.exec(text);
    if (!m) {
      parent.append(text);
      return;
    }
    if (m.index) parent.append(text.slice(0, m.index));
    const [whole, code, strong, anchor, bare, em] = m;
    if (code) {
      const el = document.createElement('code');
      el.textContent = code.slice(1, -1);
      parent.append(el);
    } else if (strong) {
      const el = document.createElement('strong');
      inline(el, strong.slice(2, -2));
      parent.append(el);
    } else if (anchor) {
      const split = anchor.indexOf('](');
      parent.append(link(anchor.slice(split + 2, -1), anchor.slice(1, split)));
    } else if (bare) {
      parent.append(link(bare, bare));
    } else if (em) {
      const el = document.createElement('em');
      inline(el, em.slice(1, -1));
      parent.append(el);
    }
    text = text.slice(m.index + whole.length);
  }
}

function paragraph(lines) {
  const p = document.createElement('p');
  lines.forEach((line, i) => {
    if (i) p.append(document.createElement('br'));
    inline(p, line);
  });
  return p;
}

const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBER = /^\s*\d+[.)]\s+(.*)$/;
const HEADING = /^(#{1,6})\s+(.*)$/;

export function render(text) {
  const out = document.createDocumentFragment();
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let para = [];
  const flush = () => {
    if (para.length) out.append(paragraph(para));
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^\s*```/.test(line)) {
      flush();
      const body = [];
      for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i]);
      const pre = document.createElement('pre');
      const code = document.createElement('code');
      code.textContent = body.join('\n');
      pre.append(code);
      out.append(pre);
    } else if (HEADING.test(line)) {
      flush();
      const h = document.createElement('h3');
      inline(h, HEADING.exec(line)[2]);
      out.append(h);
    } else if (BULLET.test(line) || NUMBER.test(line)) {
      flush();
      const ordered = !BULLET.test(line);
      const pattern = ordered ? NUMBER : BULLET;
      const list = document.createElement(ordered ? 'ol' : 'ul');
      for (; i < lines.length && pattern.test(lines[i]); i++) {
        const li = document.createElement('li');
        inline(li, pattern.exec(lines[i])[1]);
        list.append(li);
      }
      i--;
      out.append(list);
    } else if (!line.trim()) {
      flush();
    } else {
      para.push(line);
    }
  }
  flush();
  return out;
}
