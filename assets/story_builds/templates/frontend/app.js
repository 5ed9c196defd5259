// The frontend: one section per resource (see resources.js), wired to the backend's API.
"use strict";

const API_BASE = String(window.API_BASE || "").replace(/\/$/, "");
const RESOURCE_LIST = window.RESOURCES || [];

async function api(method, path, body) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(API_BASE + path, options);
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : response.statusText;
    throw new Error(`${response.status}: ${detail}`);
  }
  return data;
}

function fillPath(template, id) {
  return template.replace(/\{[^}]+\}/, encodeURIComponent(String(id)));
}

function fieldValue(input, field) {
  if (field.type === "boolean") return input.checked;
  const text = input.value.trim();
  if (text === "") return null;
  if (field.type === "integer" || field.type === "reference") return Number.parseInt(text, 10);
  if (field.type === "number" || field.type === "money") return Number.parseFloat(text);
  if (field.type === "datetime" && text.length === 16) return `${text}:00`;
  if (field.type === "time" && text.length === 5) return `${text}:00`; // RFC 3339 wants the seconds
  return text;
}

function readEditor(form, resource, partial) {
  const body = {};
  for (const field of resource.fields) {
    const input = form.elements.namedItem(field.name);
    if (!input) continue;
    const value = fieldValue(input, field);
    if (value === null && (partial || !field.required)) continue;
    body[field.name] = value;
  }
  return body;
}

function fillEditor(form, resource, item) {
  form.dataset.editing = String(item.id);
  for (const field of resource.fields) {
    const input = form.elements.namedItem(field.name);
    if (!input) continue;
    const value = item[field.name];
    if (field.type === "boolean") input.checked = Boolean(value);
    else if (field.type === "datetime" && value) input.value = String(value).slice(0, 16);
    else if (field.type === "time" && value) input.value = String(value).slice(0, 5); // HH:MM, no offset
    else input.value = value === null || value === undefined ? "" : String(value);
  }
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  return td;
}

function button(label, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

// Labels of referenced records (resource name -> id -> label), shown instead of bare ids.
const LABELS = {};

function shown(field, value) {
  if (field && field.type === "reference" && LABELS[field.references] && value !== null) {
    return LABELS[field.references].get(value) || value;
  }
  return value;
}

// Reference fields offer the records of the resource they point to.
async function loadChoices(section) {
  for (const select of section.querySelectorAll("select[data-references]")) {
    const target = RESOURCE_LIST.find((resource) => resource.name === select.dataset.references);
    if (!target || !target.operations.list) continue;
    try {
      const items = await api(target.operations.list, target.collection_path);
      const keep = select.value;
      const labels = new Map();
      select.replaceChildren(new Option("", ""));
      for (const item of items) {
        const label = target.fields.length ? item[target.fields[0].name] : item.id;
        labels.set(item.id, `${label} (#${item.id})`);
        select.append(new Option(`${item.id}: ${label}`, String(item.id)));
      }
      LABELS[target.name] = labels;
      select.value = keep;
    } catch (error) {
      select.title = error.message;
    }
  }
}

function setup(section, resource) {
  const ops = resource.operations;
  const status = section.querySelector("[data-role=status]");
  const table = section.querySelector("[data-role=items] tbody");
  const filters = section.querySelector("[data-role=filters]");
  const editor = section.querySelector("[data-role=editor]");
  const lookup = section.querySelector("[data-role=lookup]");
  // Without a list operation the rows are the records created or opened here, each read by its id.
  const known = [];
  const remember = (id) => {
    if (!ops.list && !known.includes(id)) known.push(id);
  };
  const say = (text, failed = false) => {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("error", failed);
  };

  async function refreshSummaries() {
    for (const summary of resource.summaries) {
      const body = section.querySelector(`[data-summary="${summary.name}"] tbody`);
      if (!body) continue;
      try {
        const rows = await api(summary.method, summary.path);
        body.replaceChildren();
        for (const row of rows) {
          const tr = document.createElement("tr");
          const field = resource.fields.find((item) => item.name === summary.group_by);
          tr.append(cell(row.group === null ? "all" : shown(field, row.group)), cell(row.value));
          body.append(tr);
        }
      } catch (error) {
        say(error.message, true);
      }
    }
  }

  async function load() {
    if (!ops.list) {
      const items = [];
      for (const id of [...known]) {
        try {
          items.push(await api(ops.read, fillPath(resource.item_path, id)));
        } catch (error) {
          if (!error.message.startsWith("404")) throw error;
          known.splice(known.indexOf(id), 1); // deleted meanwhile
        }
      }
      return items;
    }
    const query = new URLSearchParams();
    if (filters) {
      for (const input of filters.querySelectorAll("input, select")) {
        if (input.value.trim() !== "") query.set(input.name, input.value.trim());
      }
    }
    const suffix = query.toString() ? `?${query}` : "";
    return api(ops.list, resource.collection_path + suffix);
  }

  async function refresh() {
    await refreshSummaries();
    if ((!ops.list && !ops.read) || !table) return;
    try {
      const items = await load();
      table.replaceChildren();
      for (const item of items) {
        const row = document.createElement("tr");
        row.dataset.id = String(item.id);
        row.append(cell(item.id), ...resource.fields.map((field) => cell(shown(field, item[field.name]))));
        const actions = document.createElement("td");
        for (const transition of resource.transitions) {
          const action = button(transition.label, () => act(transition, item));
          action.disabled = !transition.from.includes(item[transition.field]);
          actions.append(action);
        }
        if (ops.update && editor) actions.append(button("Edit", () => fillEditor(editor, resource, item)));
        if (ops.delete) actions.append(button("Delete", () => remove(item)));
        row.append(actions);
        table.append(row);
      }
    } catch (error) {
      say(error.message, true);
    }
  }

  async function act(transition, item) {
    try {
      await api(transition.method, fillPath(transition.path, item.id));
      say(`${transition.label}: ${resource.label} ${item.id} is now ${transition.to}.`);
      await refresh();
      changed(resource);
    } catch (error) {
      say(error.message, true);
    }
  }

  async function remove(item) {
    try {
      await api(ops.delete, fillPath(resource.item_path, item.id));
      say(`Deleted ${resource.label} ${item.id}.`);
      await refresh();
      changed(resource);
    } catch (error) {
      say(error.message, true);
    }
  }

  if (editor) {
    editor.addEventListener("submit", async (event) => {
      event.preventDefault();
      const editing = editor.dataset.editing;
      try {
        if (editing && ops.update) {
          const partial = ops.update !== "PUT"; // PUT replaces the item, so it sends every field
          const body = readEditor(editor, resource, partial);
          const item = await api(ops.update, fillPath(resource.item_path, editing), body);
          say(`Saved ${resource.label} ${item.id}.`);
        } else if (ops.create) {
          const item = await api(ops.create, resource.collection_path, readEditor(editor, resource, false));
          remember(item.id);
          say(`Created ${resource.label} ${item.id}.`);
        }
        delete editor.dataset.editing;
        editor.reset();
        await refresh();
        changed(resource);
      } catch (error) {
        say(error.message, true);
      }
    });
    editor.addEventListener("reset", () => delete editor.dataset.editing);
  }
  if (lookup && ops.read) {
    lookup.addEventListener("submit", async (event) => {
      event.preventDefault();
      const id = Number.parseInt(lookup.elements.namedItem("id").value, 10);
      try {
        await api(ops.read, fillPath(resource.item_path, id)); // refused (404) if there is none
        remember(id);
        lookup.reset();
        await refresh();
      } catch (error) {
        say(error.message, true);
      }
    });
  }
  if (filters) {
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      refresh();
    });
  }
  // Another section's records changed: its choices (and labels) here may have too.
  document.addEventListener("records-changed", (event) => {
    if (event.detail !== resource.name) loadChoices(section).then(refresh);
  });
  loadChoices(section).then(refresh);
}

function changed(resource) {
  document.dispatchEvent(new CustomEvent("records-changed", { detail: resource.name }));
}

document.addEventListener("DOMContentLoaded", () => {
  for (const resource of RESOURCE_LIST) {
    const section = document.querySelector(`[data-resource="${resource.name}"]`);
    if (section) setup(section, resource);
  }
});
