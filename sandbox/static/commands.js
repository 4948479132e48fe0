// Herald sandbox: the slash-command box. Type `/status` as any member with any roles;
// the sandbox signs the interaction and sends it to the bot (POST /api/interactions/command),
// shows the answer and every later edit of it, and turns its buttons into real clicks.
// Loaded after viewer.js, whose renderEmbed/markdown/escapeHtml/el it reuses.
"use strict";

const desk = { exchanges: [], shown: "" };

function commandPanel() {
  const panel = el("aside", "commands");
  panel.id = "commands";
  panel.innerHTML = `
    <header class="commands-header">Slash commands <span class="sandbox-tag">bot</span></header>
    <div id="cmd-status" class="cmd-status">asking the sandbox…</div>
    <div id="cmd-log" class="cmd-log" aria-live="polite"></div>
    <form id="cmd-form" class="cmd-form" autocomplete="off">
      <div class="cmd-who">
        <label>member <input id="cmd-user" value="100000000000000009" size="20"></label>
        <label>roles <input id="cmd-roles" placeholder="role ids, comma-separated" size="22"></label>
      </div>
      <input id="cmd-text" class="cmd-text" placeholder="/status  ·  /restart demo-service  ·  /alerts list">
      <button id="cmd-send" type="submit">Send</button>
    </form>`;
  document.querySelector(".app").append(panel);
  panel.querySelector("#cmd-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sendCommand(panel.querySelector("#cmd-text").value);
  });
}

function who() {
  const roles = document.getElementById("cmd-roles").value.split(/[\s,]+/).filter(Boolean);
  return { user: document.getElementById("cmd-user").value.trim(), roles };
}

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body) });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.message || `HTTP ${response.status}`);
  return answer;
}

async function sendCommand(text) {
  try {
    await post("/api/interactions/command", { text, ...who() });
    document.getElementById("cmd-text").value = "";
  } catch (error) {
    showError(error.message);
  }
  await pollCommands();
}

async function clickButton(exchange, customId) {
  try {
    await post("/api/interactions/click", { exchange, custom_id: customId, ...who() });
  } catch (error) {
    showError(error.message);
  }
  await pollCommands();
}

function showError(text) {
  const box = el("div", "cmd-error", escapeHtml(text));
  document.getElementById("cmd-log").append(box);
}

function renderButtons(exchange, components) {
  const rows = el("div", "cmd-components");
  for (const row of components || []) {
    for (const button of row.components || []) {
      const node = el("button", `cmd-button style-${button.style}`, escapeHtml(button.label || "?"));
      node.type = "button";
      node.dataset.customId = button.custom_id;
      node.disabled = Boolean(button.disabled);
      node.addEventListener("click", () => clickButton(exchange.id, button.custom_id));
      rows.append(node);
    }
  }
  return rows;
}

function renderExchange(exchange) {
  const node = el("div", "cmd-exchange");
  node.dataset.id = exchange.id;
  const roles = exchange.roles.length ? exchange.roles.join(", ") : "no roles";
  node.append(el("div", "cmd-asked",
    `<b>${escapeHtml(exchange.text)}</b> <span class="cmd-who-line">member ${escapeHtml(exchange.user)} · ${escapeHtml(roles)}</span>`));
  const message = exchange.message;
  if (exchange.status !== 200) {
    const said = exchange.response && (exchange.response.error || exchange.response.message);
    node.append(el("div", "cmd-error", `HTTP ${exchange.status}: ${escapeHtml(String(said || ""))}`));
    return node;
  }
  if (!message) return node;  // a click answered with a silent update
  const answer = el("div", "cmd-answer" + (message.flags & 64 ? " ephemeral" : ""));
  answer.dataset.edits = exchange.edits;
  if (message.thinking) answer.append(el("div", "cmd-thinking", "Herald is thinking…"));
  if (message.content) answer.append(el("div", "content", markdown(message.content, true)));
  for (const embed of message.embeds || []) {
    const shown = { ...embed };
    if (embed.image && String(embed.image.url).startsWith("attachment://")) {
      const name = embed.image.url.slice("attachment://".length);
      shown.image = { url: `${location.origin}/api/interactions/files/${exchange.id}/${name}` };
    }
    answer.append(renderEmbed(shown));
  }
  answer.append(renderButtons(exchange, message.components));
  if (message.flags & 64) answer.append(el("div", "cmd-only-you", "Only you can see this"));
  node.append(answer);
  return node;
}

async function pollCommands() {
  try {
    const response = await fetch("/api/interactions", { cache: "no-store" });
    const data = await response.json();
    const status = document.getElementById("cmd-status");
    status.textContent = data.bot_url ? `bot: ${data.bot_url} · ${data.commands.length} commands registered`
      : "no bot connected (herald up --demo starts one)";
    const fingerprint = JSON.stringify(data.exchanges);
    if (fingerprint === desk.shown) return;
    desk.shown = fingerprint;
    const log = document.getElementById("cmd-log");
    // A click that updates its message shows there; one answered with a new message
    // (a refusal to someone else's button, say) shows as its own entry.
    const shown = data.exchanges.filter((e) => !e.parent || (e.response && e.response.type === 4));
    log.replaceChildren(...shown.map(renderExchange));
    log.scrollTop = log.scrollHeight;
  } catch (error) {
    document.getElementById("cmd-status").textContent = "sandbox unreachable";
  }
}

commandPanel();
pollCommands();
setInterval(pollCommands, 1000);
