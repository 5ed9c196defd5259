"""The frontend's data (`resources.js`) and page (`index.html`): a section per entity with its list
(or, without a list operation, the records created or opened by id), filters, create/edit form
(inputs by field type, selects for enums and references), transition buttons (drawn per row by
app.js) and summary tables."""

from __future__ import annotations

import json
from collections.abc import Sequence

from assets.architecture.models import Architecture, EntityField
from assets.story_builds.offline.entity_fields import data_fields, initial_state, input_fields, state_fields
from assets.story_builds.offline.names import entity_label, entity_plural, js_name, module_name
from assets.story_builds.offline.specs import ResourceSpec

_INPUT_TYPES = {
    "string": "text",
    "integer": "number",
    "number": "number",
    "money": "number",
    "boolean": "checkbox",
    "date": "date",
    "datetime": "datetime-local",
    "time": "time",
    "email": "email",
    "url": "url",
}


def _label(name: str) -> str:
    return name.replace("_", " ")


def render_resources_js(specs: Sequence[ResourceSpec]) -> str:
    data = []
    for spec in specs:
        if not spec.operations:
            continue
        entity = spec.entity
        transitions = []
        for transition in entity.transitions:
            op = spec.op("transition", transition.name)
            if op is None:
                continue
            state = entity.field(transition.field)
            allowed = transition.from_states or [
                v for v in (state.values if state else []) if v != transition.to_state
            ]
            transitions.append(
                {
                    "name": transition.name,
                    "label": _label(transition.name).capitalize(),
                    "method": op.method,
                    "path": op.path,
                    "field": transition.field,
                    "from": list(allowed),
                    "to": transition.to_state,
                }
            )
        summaries = [
            {
                "name": summary.name,
                "label": _label(summary.name).capitalize(),
                "method": op.method,
                "path": op.path,
                "group_by": summary.group_by,
                "measure": summary.measure,
            }
            for summary in entity.summaries
            if (op := spec.op("summary", summary.name)) is not None
        ]
        data.append(
            {
                "name": entity.name,
                "id": js_name(entity.name),
                "label": entity_label(entity.name),
                "plural": entity_plural(entity.name),
                "collection_path": spec.collection_path,
                "item_path": spec.item_path,
                "fields": [
                    {
                        "name": field.name,
                        "type": field.type,
                        "required": field.required,
                        "values": list(field.values),
                        "references": field.references,
                        "read_only": field.name in state_fields(entity),
                    }
                    for field in data_fields(entity)
                ],
                "operations": {
                    op.kind: op.method
                    for op, _ in spec.operations
                    if op.kind not in ("transition", "summary")
                },
                "transitions": transitions,
                "summaries": summaries,
                "list_parameters": list(spec.list_parameters),
                "stories": spec.stories,
            }
        )
    return "window.RESOURCES = " + json.dumps(data, indent=2) + ";\n"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _options(values: Sequence[str], selected: str | None, blank: bool) -> str:
    out = '<option value=""></option>' if blank else ""
    for value in values:
        mark = " selected" if value == selected else ""
        out += f'<option value="{_esc(value)}"{mark}>{_esc(value)}</option>'
    return out


def _input(spec: ResourceSpec, field: EntityField, required: bool) -> str:
    name = _esc(field.name)
    need = " required" if required and field.required and field.type != "boolean" else ""
    label = _esc(_label(field.name))
    if field.type == "enum":
        default = initial_state(spec.entity, field)
        options = _options(field.values, default, blank=not field.required or default is None)
        return f'<label>{label} <select name="{name}"{need}>{options}</select></label>'
    if field.type == "reference":
        target = _esc(field.references or "")
        return (
            f'<label>{label} <select name="{name}" data-references="{target}"{need}>'
            '<option value=""></option></select></label>'
        )
    if field.type == "text":
        limit = f' maxlength="{field.max_length}"' if field.max_length else ""
        return f'<label>{label} <textarea name="{name}"{limit}{need}></textarea></label>'
    attributes = f'name="{name}" type="{_INPUT_TYPES.get(field.type, "text")}"'
    if field.type == "integer":
        attributes += ' step="1"'
    elif field.type == "number":
        attributes += ' step="any"'
    elif field.type == "money":
        attributes += ' step="0.01"'
    minimum = field.minimum if field.minimum is not None else (0 if field.type == "money" else None)
    if minimum is not None and field.type in ("integer", "number", "money"):
        attributes += f' min="{minimum:g}"'
    if field.maximum is not None and field.type in ("integer", "number", "money"):
        attributes += f' max="{field.maximum:g}"'
    if field.max_length:
        attributes += f' maxlength="{field.max_length}"'
    return f"<label>{label} <input {attributes}{need}></label>"


def _filter(spec: ResourceSpec, parameter: str) -> str:
    name = _esc(parameter)
    if parameter == "q":
        return '<label>search <input name="q" type="search"></label>'
    if parameter == "sort":
        options = '<option value=""></option>'
        for field in data_fields(spec.entity):
            for prefix, word in (("", "ascending"), ("-", "descending")):
                options += (
                    f'<option value="{prefix}{_esc(field.name)}">{_esc(_label(field.name))} ({word})</option>'
                )
        return f'<label>sort <select name="sort">{options}</select></label>'
    field = spec.entity.field(parameter)
    if field is not None and field.type == "enum":
        options = _options(field.values, None, True)
        return f'<label>{_esc(_label(parameter))} <select name="{name}">{options}</select></label>'
    if field is not None and field.type == "boolean":
        options = _options(["true", "false"], None, True)
        return f'<label>{_esc(_label(parameter))} <select name="{name}">{options}</select></label>'
    if field is not None and field.type == "reference":
        target = _esc(field.references or "")
        return (
            f'<label>{_esc(_label(parameter))} <select name="{name}" data-references="{target}">'
            '<option value=""></option></select></label>'
        )
    kind = _INPUT_TYPES.get(field.type, "text") if field is not None else "search"
    kind = "search" if kind in ("text", "checkbox") else kind
    return f'<label>{_esc(_label(parameter))} <input name="{name}" type="{kind}"></label>'


def render_index_html(architecture: Architecture, specs: Sequence[ResourceSpec]) -> str:
    sections = []
    for spec in specs:
        if not spec.operations:
            continue
        name = spec.entity.name
        lines = [
            f'    <section class="resource" id="resource-{module_name(name)}" data-resource="{_esc(name)}" '
            f'data-stories="{" ".join(spec.stories)}">',
            f"      <h2>{_esc(entity_plural(name).capitalize())}</h2>",
        ]
        for summary in spec.entity.summaries:
            if spec.has("summary", summary.name):
                group = _esc(_label(summary.group_by)) if summary.group_by else "all"
                lines.append(f'      <table class="summary" data-summary="{_esc(summary.name)}">')
                lines.append(f"        <caption>{_esc(_label(summary.name).capitalize())}</caption>")
                lines.append(
                    f"        <thead><tr><th>{group}</th><th>{_esc(summary.measure)}</th></tr></thead>"
                )
                lines.append("        <tbody></tbody>")
                lines.append("      </table>")
        if spec.has("list") and spec.list_parameters:
            lines.append('      <form class="filters" data-role="filters">')
            for parameter in spec.list_parameters:
                lines.append("        " + _filter(spec, parameter))
            lines.append('        <button type="submit">Filter</button>')
            lines.append("      </form>")
        if spec.has("read") and not spec.has("list"):  # rows opened by id: their buttons and edits
            lines.append('      <form class="lookup" data-role="lookup">')
            lines.append(
                '        <label>id <input name="id" type="number" min="1" step="1" required></label>'
            )
            lines.append('        <button type="submit">Open</button>')
            lines.append("      </form>")
        if spec.has("list") or spec.has("read"):
            headers = "".join(f"<th>{_esc(_label(f.name))}</th>" for f in data_fields(spec.entity))
            lines.append('      <table data-role="items">')
            lines.append(f"        <thead><tr><th>id</th>{headers}<th></th></tr></thead>")
            lines.append("        <tbody></tbody>")
            lines.append("      </table>")
        if spec.has("create") or spec.has("update"):
            lines.append('      <form class="editor" data-role="editor">')
            for field in input_fields(spec.entity):
                lines.append("        " + _input(spec, field, required=spec.has("create")))
            lines.append('        <button type="submit">Save</button>')
            lines.append('        <button type="reset">Clear</button>')
            lines.append("      </form>")
        lines.append('      <p class="status" data-role="status" role="status"></p>')
        lines.append("    </section>")
        sections.append("\n".join(lines))
    body = "\n".join(sections) or "    <p>Nothing is built yet.</p>"
    title = _esc(architecture.project)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title}</title>
    <link rel="stylesheet" href="style.css">
  </head>
  <body>
    <header>
      <h1>{title}</h1>
      <p>{_esc(architecture.summary)}</p>
    </header>
    <main>
{body}
    </main>
    <script src="config.js"></script>
    <script src="resources.js"></script>
    <script src="app.js"></script>
  </body>
</html>
"""
