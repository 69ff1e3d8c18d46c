"""The arguments' and outputs' docstrings where ``help()`` shows them.

Each field of an argument TypedDict, and each declared output of the component, is documented by
the bare string after it: Pulumi's analyzer reads those from the source for the multi-language
schema, but Python drops them at runtime, so ``help(StreamAggregatorArgs)`` showed none. Here the
same strings are read from the same source (as the analyzer does) and appended to a ``__doc__``,
so the docstrings stay the one place each argument is described.

Only docs the schema does not read are extended: ``StreamAggregatorArgs.__doc__`` (its fields are
inlined as the component's inputs) and the constructor's; the nested types' and the component's own
``__doc__`` are the schema's descriptions and stay as written. Without the source (a build that
ships only bytecode) the docs stay as they are.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from .argument_keys import declared_fields


def field_docs(cls: type) -> list[tuple[str, str, str]]:
    """(name, annotation as written, docstring) of each annotated field of ``cls``, in source order."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return []
    definition = ast.parse(source).body[0]
    if not isinstance(definition, ast.ClassDef):
        return []
    fields = []
    body = definition.body
    for statement, following in zip(body, [*body[1:], None], strict=True):
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            doc = following.value.value if _is_docstring(following) else ""  # type: ignore[union-attr]
            fields.append((statement.target.id, ast.unparse(statement.annotation), inspect.cleandoc(doc)))
    return fields


def _is_docstring(node: ast.stmt | None) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def described(cls: type, heading: str) -> str:
    """``heading`` and each field of ``cls``: its name and annotation, then its docstring indented."""
    lines = [heading]
    for name, annotation, doc in field_docs(cls):
        lines.append(f"{name}: {annotation}")
        lines.extend(f"    {line}" if line else "" for line in doc.splitlines())
    return "\n".join(lines)


def document_arguments(args: type) -> None:
    """Append to ``args.__doc__`` its fields, then those of each TypedDict they hold."""
    if not field_docs(args):
        return
    required = ", ".join(sorted(args.__required_keys__))  # type: ignore[attr-defined]
    sections = [inspect.cleandoc(args.__doc__ or ""), described(args, f"Fields (required: {required}):")]
    # The TypedDicts the fields hold, each once, as the key check finds them.
    for nested in dict.fromkeys(typed for typed in declared_fields(args).values() if typed is not None):
        sections.append(described(nested, f"{nested.__name__}: {inspect.cleandoc(nested.__doc__ or '')}"))
    args.__doc__ = "\n\n".join(sections)


def document_outputs(component: type) -> None:
    """Append the component's declared outputs, with their docstrings, to its constructor's docstring."""
    if not field_docs(component):
        return
    init = component.__init__  # type: ignore[misc]
    init.__doc__ = "\n\n".join([inspect.cleandoc(init.__doc__ or ""), described(component, "Outputs (attributes):")])
