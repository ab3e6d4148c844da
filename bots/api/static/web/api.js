// The page's calls to its server: same origin, cookies sent by the browser (HttpOnly:
// this code never sees a token), JSON in and out, Server-Sent Events read from a POST.

export class SignedOut extends Error {}

async function checked(response) {
  if (response.status === 401) throw new SignedOut();
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response;
}

export async function getJSON(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  return (await checked(response)).json();
}

export async function post(path, body, signal) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream, application/json' },
    body: JSON.stringify(body ?? {}),
    signal,
  });
  return checked(response);
}

export async function postForm(path, form) {
  const response = await fetch(path, { method: 'POST', body: form });
  return (await checked(response)).json();
}

// Yields {event, data} for each Server-Sent Event of a streamed response.
export async function* events(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      yield { event: name, data: JSON.parse(data.join('\n')) };
    }
  }
}
