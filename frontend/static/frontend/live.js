/* Live updates of the dashboard: one websocket per page, reconnect with backoff, refetch on (re)connect.
 *
 * The server sends {"type": "object.changed", object, view} and {"type": "object.event", kind, id, event}.
 * `view` is computed server-side (frontend/display.py), so this file only copies text into elements:
 *   [data-object="<kind>-<id>"]    an object's row or status panel
 *     [data-field="state"]         its badge (class tone-*, symbol, word)
 *     [data-field="<name>"]        version, progress, specStatus, generation, observedGeneration
 *   ol[data-timeline="<kind>-<id>"] its event timeline
 */
(function () {
  "use strict";
  var body = document.body;
  var streamPath = body.dataset.stream;
  if (!streamPath || !("WebSocket" in window)) return;

  var MIN_DELAY = 500, MAX_DELAY = 30000;
  var delay = MIN_DELAY;
  var indicator = document.getElementById("connection");
  var wasLive = false;

  function say(state, text) {
    if (!indicator) return;
    indicator.hidden = false;
    indicator.dataset.state = state;
    indicator.textContent = text;
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + streamPath);
    socket.onmessage = function (message) { handle(JSON.parse(message.data)); };
    socket.onclose = function (closed) {
      if (closed.code === 4401) {
        say("signed-out", "Signed out: live updates stopped. Sign in again to resume.");
        return;
      }
      if (closed.code === 4403) {
        // The object is gone (or no longer ours): show what the server says about it, then stop.
        say("stopped", "Live updates stopped: this object no longer exists or is not visible to you.");
        refetch();
        return;
      }
      if (closed.code === 4409) {
        // Your teams changed: reconnect now, with what you may see now (a 4403 if this object is no longer yours).
        say("reconnecting", "Your team membership changed; reconnecting…");
        delay = MIN_DELAY;
        window.setTimeout(connect, 0);
        return;
      }
      var wait = delay + Math.round(Math.random() * delay / 2);
      say("reconnecting", "Live updates interrupted; reconnecting in " + Math.ceil(wait / 1000) + " s…");
      delay = Math.min(delay * 2, MAX_DELAY);
      window.setTimeout(connect, wait);
    };
  }

  function handle(message) {
    if (message.type === "subscribed") {
      delay = MIN_DELAY;
      say("live", wasLive ? "Live updates reconnected." : "Live updates on.");
      wasLive = true;
      refetch();
    } else if (message.type === "object.changed") {
      applyObject(message.object, message.view);
    } else if (message.type === "object.event") {
      addEvent(message.kind + "-" + message.id, message.event);
    }
  }

  /* -- objects ------------------------------------------------------------------------------- */
  function applyObject(object, view) {
    var elements = document.querySelectorAll('[data-object="' + view.key + '"]');
    if (!elements.length) {
      if (body.dataset.list === object.kind) showListChanged();
      return;
    }
    elements.forEach(function (element) {
      element.dataset.state = view.state;
      element.classList.toggle("removed", view.deleted);
      element.querySelectorAll("[data-field]").forEach(function (field) { fill(field, view); });
    });
  }

  function fill(field, view) {
    var name = field.dataset.field;
    if (name === "state") {
      var gone = view.deleted;
      field.className = "badge tone-" + (gone ? "gone" : view.tone);
      field.querySelector(".badge-symbol").textContent = gone ? "–" : view.symbol;
      field.querySelector(".badge-text").textContent = gone ? "Removed" : view.state;
    } else if (name === "progress-block") {
      field.hidden = !view.progress;
    } else if (name === "progress-bar") {
      field.hidden = !view.progressTotal;
      if (view.progressTotal) { field.max = view.progressTotal; field.value = view.progressDone; }
    } else if (name === "deleting-note") {
      field.hidden = !view.deleting;
    } else if (name in view) {
      field.textContent = view[name];
    }
  }

  function showListChanged() {
    var notice = document.getElementById("list-changed");
    if (notice) notice.hidden = false;
  }

  /* -- timeline ------------------------------------------------------------------------------ */
  function addEvent(key, event) {
    var list = document.querySelector('ol[data-timeline="' + key + '"]');
    if (!list || list.querySelector('[data-event-id="' + event.id + '"]')) return;
    var empty = list.querySelector("[data-empty]");
    if (empty) empty.remove();
    var item = document.createElement("li");
    item.className = "event event-" + event.type.toLowerCase();
    item.dataset.eventId = event.id;
    var time = document.createElement("time");
    time.dateTime = event.time;
    time.textContent = event.time.replace("T", " ").slice(0, 19);
    item.append(time, " ", span("event-type", event.type === "Warning" ? "⚠ Warning" : "Normal"), " ",
                strong("event-reason", event.reason), " ", span("event-message", event.message), " ",
                span("event-actor", "by " + event.actor));
    var after = Array.prototype.find.call(list.children, function (other) {
      return Number(other.dataset.eventId) < Number(event.id);
    });
    list.insertBefore(item, after || null);
  }

  function span(cls, text) { var e = document.createElement("span"); e.className = cls; e.textContent = text; return e; }
  function strong(cls, text) { var e = document.createElement("strong"); e.className = cls; e.textContent = text; return e; }

  /* -- refetch after (re)connecting, so nothing sent while the socket was down is missed ---------- */
  function refetch() {
    var params = new URLSearchParams();
    var keys = {};
    document.querySelectorAll("[data-object]").forEach(function (e) { keys[e.dataset.object] = true; });
    Object.keys(keys).forEach(function (key) { params.append("o", key); });
    document.querySelectorAll("ol[data-timeline]").forEach(function (e) { params.append("events", e.dataset.timeline); });
    if (!params.toString()) return;
    fetch(body.dataset.stateUrl + "?" + params.toString(), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) return;
        state.objects.forEach(function (entry) { applyObject(entry.object, entry.view); });
        state.missing.forEach(function (key) {
          var kind = key.split("-")[0];
          applyObject({kind: kind}, {key: key, state: "Removed", deleted: true, tone: "gone", symbol: "–", progress: "Removed."});
        });
        Object.keys(state.events).forEach(function (key) {
          state.events[key].slice().reverse().forEach(function (event) { addEvent(key, event); });
        });
      })
      .catch(function () { /* the next reconnect refetches again */ });
  }

  connect();
})();
