// The page's start: ask the server who we are (always 200), then show the sign-in form
// or the chat, in the words the server sent for this person's language.
import { getJSON, post, SignedOut } from './api.js';
import { Chat } from './chat.js';

const $ = (id) => document.getElementById(id);
let session = null;
let chat = null;

function applyWords(words) {
  for (const el of document.querySelectorAll('[data-word]')) el.textContent = words[el.dataset.word];
  for (const el of document.querySelectorAll('[data-word-label]')) {
    el.setAttribute('aria-label', words[el.dataset.wordLabel]);
  }
  document.title = words.title;
}

export async function refresh() {
  session = await getJSON('/web/api/session');
  document.documentElement.lang = session.language;
  applyWords(session.words);
  $('signin').hidden = session.signed_in;
  $('chat').hidden = !session.signed_in;
  $('create-account').hidden = !session.registration;
  $('invite').hidden = $('invite-label').hidden = !session.registration;
  if (!session.signed_in) {
    $('username').focus();
    return;
  }
  if (!chat) chat = new Chat(session, { onSignedOut: showSignIn, onWordsChanged: refresh });
  chat.update(session);
}

function showSignIn() {
  chat = null;
  $('log').replaceChildren();
  refresh();
}

async function signIn(path) {
  const alert = $('signin-alert');
  alert.textContent = '';
  const body = { username: $('username').value.trim(), password: $('password').value };
  const invite = $('invite').value.trim();
  if (path.endsWith('/create-account') && invite) body.invite = invite;
  const answer = await (await post(path, body)).json();
  if (answer.kind === 'error') {
    alert.textContent = answer.text;
    return;
  }
  $('password').value = '';
  await refresh();
  await chat.loadHistory();
  $('message').focus();
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  signIn('/web/api/sign-in');
});
$('create-account').addEventListener('click', () => signIn('/web/api/create-account'));
$('sign-out').addEventListener('click', async () => {
  await post('/web/api/sign-out');
  showSignIn();
});

refresh()
  .then(() => chat && chat.loadHistory())
  .catch((error) => {
    if (!(error instanceof SignedOut)) throw error;
    showSignIn();
  });
