// scimd console: progressive enhancement only. Every page works without this file; it adds
// copy buttons, confirmation dialogs, column toggles and relative times.
"use strict";

(function () {
  // Copy: <button data-copy="#element-id">Copy</button> copies that element's text (or an
  // input's value) to the clipboard.
  function enableCopyButtons(root) {
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var source = document.querySelector(button.getAttribute("data-copy"));
        if (!source) return;
        var text = "value" in source && source.value !== undefined ? source.value : source.textContent;
        var done = function () {
          var label = button.textContent;
          button.textContent = "Copied";
          setTimeout(function () { button.textContent = label; }, 2000);
        };
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text.trim()).then(done, function () { selectText(source); });
        } else {
          selectText(source);
        }
      });
    });
  }

  function selectText(element) {
    if (element.select) { element.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Confirm: <form data-confirm="Revoke 'x'? …" data-confirm-button="Revoke"> asks in a
  // dialog before it is sent. Without JavaScript the form's own page confirms instead; a
  // form's hidden `confirmed` field, if it has one, is set to "yes" once the dialog confirmed,
  // so that the server can skip that page.
  function enableConfirmations(root) {
    root.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.confirmed === "yes") return;
        event.preventDefault();
        askToConfirm(form);
      });
    });
  }

  function askToConfirm(form) {
    var dialog = document.createElement("dialog");
    dialog.setAttribute("aria-labelledby", "confirm-message");
    var message = document.createElement("p");
    message.id = "confirm-message";
    message.textContent = form.getAttribute("data-confirm");
    var actions = document.createElement("div");
    actions.className = "dialog-actions";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "button";
    cancel.textContent = "Cancel";
    var confirm = document.createElement("button");
    confirm.type = "button";
    confirm.className = "button button-danger";
    confirm.textContent = form.getAttribute("data-confirm-button") || "Confirm";
    actions.append(cancel, confirm);
    dialog.append(message, actions);
    document.body.append(dialog);
    cancel.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); });
    confirm.addEventListener("click", function () {
      form.dataset.confirmed = "yes";
      // The server acts only on a confirmed form, and without this script answers the
      // unconfirmed one with its confirmation page: the form either carries a hidden
      // `confirmed` field, or names the field to add in data-confirm-field.
      var existing = form.querySelector("input[name=confirmed]");
      var added = form.getAttribute("data-confirm-field");
      if (existing) {
        existing.value = "yes";
      } else if (added) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = added;
        input.value = "yes";
        form.append(input);
      }
      dialog.close();
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
    dialog.showModal();
    cancel.focus();
  }

  // Columns: a <fieldset data-columns-for="table-id" hidden> of checkboxes with
  // data-column="key" shows or hides the cells with the same data-column; the choice is kept
  // in this browser.
  function enableColumnToggles(root) {
    root.querySelectorAll("[data-columns-for]").forEach(function (panel) {
      var tableId = panel.getAttribute("data-columns-for");
      var table = document.getElementById(tableId);
      if (!table) return;
      var storageKey = "scimd.columns." + tableId;
      var hiddenColumns = [];
      try { hiddenColumns = JSON.parse(localStorage.getItem(storageKey) || "[]"); } catch (e) { hiddenColumns = []; }
      panel.hidden = false;
      var apply = function () {
        table.querySelectorAll("[data-column]").forEach(function (cell) {
          cell.hidden = hiddenColumns.indexOf(cell.getAttribute("data-column")) !== -1;
        });
      };
      panel.querySelectorAll("input[type=checkbox][data-column]").forEach(function (box) {
        var column = box.getAttribute("data-column");
        box.checked = hiddenColumns.indexOf(column) === -1;
        box.addEventListener("change", function () {
          hiddenColumns = hiddenColumns.filter(function (c) { return c !== column; });
          if (!box.checked) hiddenColumns.push(column);
          try { localStorage.setItem(storageKey, JSON.stringify(hiddenColumns)); } catch (e) { /* private mode */ }
          apply();
        });
      });
      apply();
    });
  }

  // Times: <time datetime="…Z" data-relative> reads "5 days ago", with the exact time in the
  // browser's zone on hover.
  var units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  function relativeTimes(root) {
    var format = window.Intl && Intl.RelativeTimeFormat ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }) : null;
    root.querySelectorAll("time[data-relative]").forEach(function (element) {
      var when = new Date(element.getAttribute("datetime"));
      if (isNaN(when.getTime())) return;
      element.title = when.toLocaleString();
      if (!format) return;
      var seconds = Math.round((when.getTime() - Date.now()) / 1000);
      var text = "just now";
      for (var i = 0; i < units.length; i++) {
        if (Math.abs(seconds) >= units[i][1]) {
          text = format.format(Math.round(seconds / units[i][1]), units[i][0]);
          break;
        }
      }
      element.textContent = text;
    });
  }

  // A checkbox with data-enables="#button" enables that button while it is ticked ("I have
  // copied this token to a safe place" → Close). Without this file, the box is `required`.
  function enableGatedButtons(root) {
    root.querySelectorAll("input[type=checkbox][data-enables]").forEach(function (box) {
      var target = document.querySelector(box.getAttribute("data-enables"));
      if (!target) return;
      var sync = function () { target.disabled = !box.checked; };
      box.addEventListener("change", sync);
      sync();
    });
  }

  // A page that shows a secret once (data-history-replace="/url") takes the list's place in
  // the history, so that reloading it or coming back to it never shows the secret again.
  function replaceSecretInHistory(root) {
    var element = root.querySelector("[data-history-replace]");
    if (element && window.history && history.replaceState) {
      history.replaceState(null, "", element.getAttribute("data-history-replace"));
    }
  }

  function enhance() {
    enableCopyButtons(document);
    enableConfirmations(document);
    enableColumnToggles(document);
    relativeTimes(document);
    enableGatedButtons(document);
    replaceSecretInHistory(document);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enhance);
  } else {
    enhance();
  }
})();
