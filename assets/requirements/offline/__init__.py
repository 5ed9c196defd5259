"""The offline extraction rules: requirement statements in every common style, without a model.

`spoken` cleans conversational text; `sections` classifies headings and the lines that are about
the document itself; `phrasing` writes titles, roles and criteria; `statements` tells the form of
one sentence and hands it to `product`, `modal` (with `limits` and `wanted`), `present` or
`possession`; `actions` turns its action clauses into stories; `reader` walks a document's
segments with the context (heading, priority, speaker) they need.
"""
