// Herald sandbox viewer: polls /api/viewer every second and renders messages as Discord does.
"use strict";

const ALL = "all-channels";
const state = { since: "", selected: new URLSearchParams(location.search).get("channel") || ALL,
  channels: [], count: 0 };

// ---- markdown: a safe subset of Discord's (bold, italic, underline, strike, code, links) ----
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function markdown(text, allowLinks) {
  // Anything that must not be formatted further is swapped for \u0000<n>\u0000 first.
  const held = [];
  const hold = (html) => "\u0000" + (held.push(html) - 1) + "\u0000";
  let s = String(text);
  s = s.replace(/```(?:[a-z0-9_+-]*\n)?([\s\S]*?)```/gi, (_, code) => hold(`<pre class="codeblock">${escapeHtml(code)}</pre>`));
  s = s.replace(/`([^`]+)`/g, (_, code) => hold(`<code>${escapeHtml(code)}</code>`));
  s = s.replace(/\\([\\*_~`|<>#\[\]()-])/g, (_, ch) => hold(escapeHtml(ch)));  // escaped: shown literally
  s = s.replace(/<@&(\d+)>/g, (_, id) => hold(`<span class="mention" title="role ${id}">@role</span>`));
  s = s.replace(/<@!?(\d+)>/g, (_, id) => hold(`<span class="mention" title="user ${id}">@user</span>`));
  s = s.replace(/<#(\d+)>/g, (_, id) => hold(`<span class="mention">#${escapeHtml(channelName(id))}</span>`));
  if (allowLinks) {
    s = s.replace(/\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g,
      (_, label, url) => hold(`<a href="${escapeHtml(url)}" target="_blank" rel="noreferrer">${escapeHtml(label)}</a>`));
  }
  s = escapeHtml(s);
  s = s.replace(/\*\*\*([^*]+?)\*\*\*/g, "<strong><em>$1</em></strong>")
       .replace(/\*\*([^*]+?)\*\*/g, "<strong>$1</strong>")
       .replace(/__([^_]+?)__/g, "<u>$1</u>")
       .replace(/\*([^*\s][^*]*?)\*/g, "<em>$1</em>")
       .replace(/\b_([^_]+?)_\b/g, "<em>$1</em>")
       .replace(/~~([^~]+?)~~/g, "<s>$1</s>")
       .replace(/\|\|([^|]+?)\|\|/g, '<span class="spoiler">$1</span>');
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => held[Number(i)]);
}

// ---- helpers ----
function el(tag, cls, html) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (html !== undefined) node.innerHTML = html;
  return node;
}

function channelName(id) {
  const found = state.channels.find((c) => c.id === id);
  return found ? found.name : id;
}

function colorHex(color) {
  return "#" + Number(color).toString(16).padStart(6, "0");
}

function formatTime(iso) {
  const when = new Date(iso);
  if (isNaN(when)) return escapeHtml(String(iso));
  const hm = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const today = new Date();
  if (when.toDateString() === today.toDateString()) return `Today at ${hm}`;
  const yesterday = new Date(today - 864e5);
  if (when.toDateString() === yesterday.toDateString()) return `Yesterday at ${hm}`;
  return `${when.toLocaleDateString()} ${hm}`;
}

function avatarColor(id) {
  const palette = ["#5865f2", "#3ba55c", "#faa61a", "#ed4245", "#eb459e", "#747f8d"];
  let h = 0;
  for (const ch of String(id)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return palette[h % palette.length];
}

// ---- embeds: Discord's inline field grid (up to 3 per row; a non-inline field takes a row) ----
const SPANS = { 1: ["1 / 13"], 2: ["1 / 7", "7 / 13"], 3: ["1 / 5", "5 / 9", "9 / 13"] };

function fieldRows(fields) {
  const rows = [];
  let row = [];
  for (const field of fields) {
    if (field.inline && row.length < 3) { row.push(field); continue; }
    if (row.length) rows.push(row);
    row = [field];
    if (!field.inline) { rows.push(row); row = []; }
  }
  if (row.length) rows.push(row);
  return rows;
}

// ---- images: an embed's image and a message's attachments (uploaded files) ----
function isHttp(url) {
  return typeof url === "string" && /^https?:\/\//.test(url);
}

function image(source, cls) {
  const img = document.createElement("img");  // src set as a property: never parsed as HTML
  img.className = cls;
  img.src = source.url;
  img.alt = source.description || source.filename || "image";
  img.loading = "lazy";
  if (source.width && source.height) {
    img.width = Math.min(source.width, 400);
    img.height = Math.round(img.width * source.height / source.width);
  }
  return img;
}

function renderAttachment(file) {
  if ((file.content_type || "").startsWith("image/") && isHttp(file.url)) {
    return image(file, "attachment-image");
  }
  const link = document.createElement("a");
  link.className = "attachment-file";
  link.href = isHttp(file.url) ? file.url : "#";
  link.textContent = `${file.filename} (${file.size} bytes)`;
  return link;
}

function renderEmbed(embed) {
  const box = el("article", "embed");
  box.style.borderLeftColor = embed.color !== undefined && embed.color !== null ? colorHex(embed.color) : "#1e1f22";
  box.dataset.color = box.style.borderLeftColor;
  if (embed.author && embed.author.name) box.append(el("div", "embed-author", escapeHtml(embed.author.name)));
  if (embed.title) {
    const title = markdown(embed.title, false);
    box.append(el("div", "embed-title", embed.url ? `<a href="${escapeHtml(embed.url)}">${title}</a>` : title));
  }
  if (embed.description) box.append(el("div", "embed-description", markdown(embed.description, true)));
  if (embed.fields && embed.fields.length) {
    const grid = el("div", "embed-fields");
    for (const row of fieldRows(embed.fields)) {
      row.forEach((field, i) => {
        const cell = el("div", "embed-field");
        cell.style.gridColumn = SPANS[row.length][i];
        cell.append(el("div", "embed-field-name", markdown(field.name, false)));
        cell.append(el("div", "embed-field-value", markdown(field.value, true)));
        grid.append(cell);
      });
    }
    box.append(grid);
  }
  if (embed.image && isHttp(embed.image.url)) box.append(image(embed.image, "embed-image"));
  const footer = [];
  if (embed.footer && embed.footer.text) footer.push(escapeHtml(embed.footer.text));
  if (embed.timestamp) footer.push(formatTime(embed.timestamp));
  if (footer.length) box.append(el("div", "embed-footer", footer.join('<span class="sep">•</span>')));
  return box;
}

function renderMessage(message) {
  const pinged = message.mention_everyone || (message.mention_roles || []).length > 0;
  const node = el("div", "message" + (pinged ? " pinged" : ""));
  node.dataset.channel = message.channel_name;
  node.dataset.id = message.id;
  const name = message.author && message.author.username ? message.author.username : "Webhook";
  const avatar = el("div", "avatar", escapeHtml(name.slice(0, 1).toUpperCase()));
  avatar.style.background = avatarColor(message.webhook_id);
  const header = el("div", "msg-header");
  header.append(el("span", "username", escapeHtml(name)), el("span", "app-tag", "APP"),
    el("span", "time", formatTime(message.timestamp)),
    el("span", "in-channel", "#" + escapeHtml(message.channel_name)));
  node.append(avatar, header);
  if (message.content) node.append(el("div", "content", markdown(message.content, true)));
  for (const embed of message.embeds || []) node.append(renderEmbed(embed));
  for (const file of message.attachments || []) node.append(renderAttachment(file));
  return node;
}

// ---- channel list, counters, polling ----
function renderChannels() {
  const list = document.getElementById("channels");
  list.textContent = "";
  const entries = [{ name: ALL, messages: state.count }, ...state.channels];
  for (const channel of entries) {
    const item = el("li", "channel" + (channel.name === state.selected ? " selected" : ""));
    item.dataset.channel = channel.name;
    item.append(el("span", "hash", "#"), el("span", "name", escapeHtml(channel.name)),
      el("span", "badge" + (channel.messages ? "" : " zero"), String(channel.messages)));
    item.addEventListener("click", () => select(channel.name));
    list.append(item);
  }
}

function select(name) {
  state.selected = name;
  document.getElementById("channel-title").textContent = name;
  document.getElementById("channel-topic").textContent =
    name === ALL ? "Every message Herald sent to this sandbox" : `Messages posted by this channel's webhook(s)`;
  for (const node of document.querySelectorAll(".message")) {
    node.classList.toggle("hidden", name !== ALL && node.dataset.channel !== name);
  }
  renderChannels();
  const params = new URLSearchParams(location.search);
  if (name === ALL) params.delete("channel"); else params.set("channel", name);
  history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
}

function renderCounters(stats) {
  const items = [
    ["messages", stats.messages, ""],
    ["429s", stats.rate_limited + stats.storm_429, stats.rate_limited + stats.storm_429 ? "warn" : ""],
    ["400s", stats.bad_request + stats.empty_message, stats.bad_request + stats.empty_message ? "bad" : ""],
    ["413s", stats.too_large || 0, stats.too_large ? "bad" : ""],
    ["401/404", stats.unauthorized + stats.unknown_webhook, stats.unauthorized + stats.unknown_webhook ? "bad" : ""],
    ["faults", stats.faults_injected, stats.faults_injected ? "warn" : ""],
  ];
  const box = document.getElementById("counters");
  box.textContent = "";
  for (const [label, value, level] of items) {
    const pill = el("span", "counter " + level, `${label} <b>${value}</b>`);
    pill.dataset.counter = label;
    box.append(pill);
  }
}

async function poll() {
  try {
    const response = await fetch(`/api/viewer?since=${state.since}`, { cache: "no-store" });
    const data = await response.json();
    state.channels = data.channels;  // already in listing order (sandbox/state.py)
    state.count = data.stats.messages;
    const box = document.getElementById("messages");
    if (!state.since && data.messages.length === 0 && !box.querySelector(".message")) {
      box.innerHTML = '<div class="empty">No messages yet. POST to a webhook URL printed at start-up.</div>';
    }
    if (data.messages.length) {
      const empty = box.querySelector(".empty");
      if (empty) empty.remove();
      const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
      for (const message of data.messages) {
        const node = renderMessage(message);
        if (state.selected !== ALL && message.channel_name !== state.selected) node.classList.add("hidden");
        box.append(node);
      }
      state.since = data.messages[data.messages.length - 1].id;
      if (atBottom) box.scrollTop = box.scrollHeight;
    }
    renderChannels();
    renderCounters(data.stats);
    document.body.dataset.loaded = "true";
  } catch (err) {
    document.getElementById("channel-topic").textContent = "sandbox not reachable: " + err;
  }
}

select(state.selected);
poll();
setInterval(poll, 1000);
