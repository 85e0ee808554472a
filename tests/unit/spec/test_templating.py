from __future__ import annotations

import time
from pathlib import Path

import pytest

from sshorch.spec import ManifestError, build_template_context, load_documents, parse_set_values, render_template, render_templates
from sshorch.spec.templating import merge_values, parse_set_value


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("v2", "v2"), ("true", True), ("1.5", 1.5), ("", ""), ("null", None), ("'3'", "3"), ("a,b", "a,b"),
     ("[1, 2]", "[1, 2]"), ("{a: 1}", "{a: 1}"), ("x=y", "x=y"), ("[", "[")],
)  # fmt: skip
def test_set_values_are_yaml_scalars(text: str, value: object) -> None:
    assert parse_set_value(text) == value


def test_set_dotted_keys_nest() -> None:
    assert parse_set_values(["image.tag=v2", "image.name=web", "replicas=3", "a.b.c=x=y"]) == {
        "image": {"tag": "v2", "name": "web"},
        "replicas": 3,
        "a": {"b": {"c": "x=y"}},
    }


@pytest.mark.parametrize("item", ["replicas", "=3", "a..b=1", "a.=1"])
def test_bad_set_values(item: str) -> None:
    with pytest.raises(ManifestError) as raised:
        parse_set_values([item])
    assert str(raised.value) == f"--set: expected key=value (dotted keys for nested values), got {item!r}"


def test_precedence_variables_then_values_files_then_set() -> None:
    context = build_template_context(
        {"cluster": "prod", "image": {"name": "web", "tag": "v0"}, "replicas": 1},
        [{"image": {"tag": "v1"}, "replicas": 2}, {"replicas": 4, "extra": {"a": 1}}],
        ["replicas=5", "extra.b=2"],
    )
    assert context == {"cluster": "prod", "image": {"name": "web", "tag": "v1"}, "replicas": 5, "extra": {"a": 1, "b": 2}}


def test_merge_replaces_non_mappings() -> None:
    assert merge_values({"a": {"b": 1}, "c": [1]}, {"a": 2, "c": [2]}) == {"a": 2, "c": [2]}


def test_rendering_options() -> None:
    text = "items:\n{% for x in xs %}\n- {{ x }}\n{% endfor %}\nsecret: {{ 'hi' | b64encode }}\n"
    assert render_template(text, {"xs": [1, 2]}, file="t.yaml.j2") == "items:\n- 1\n- 2\nsecret: aGk=\n"


def test_undefined_variable_names_file_and_line() -> None:
    with pytest.raises(ManifestError) as raised:
        render_template("a: 1\n\nb: {{ image }}\n", {}, file="web.yaml.j2")
    assert str(raised.value) == "web.yaml.j2: line 3: undefined variable: 'image' is undefined"


def test_undefined_attribute_and_syntax_error() -> None:
    with pytest.raises(ManifestError) as raised:
        render_templates([("a.j2", "x: {{ image.tag }}\n"), ("b.j2", "ok\n{% if %}\n"), ("c.j2", "fine\n")], {"image": {}})
    assert [str(p) for p in raised.value.problems] == [
        "a.j2: line 1: undefined variable: 'dict object' has no attribute 'tag'",
        "b.j2: line 2: template syntax error: Expected an expression, got 'end of statement block'",
    ]


def test_load_renders_j2_with_values_and_set(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml.j2").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ name }}\ndata:\n  replicas: {{ replicas | string | tojson }}\n"
        "  typed: {{ (replicas is integer) | string | tojson }}\n  cluster: {{ cluster }}\n"
    )
    values = tmp_path.parent / f"{tmp_path.name}-values.yaml"
    values.write_text("name: from-values\nreplicas: 2\n")
    ((_, doc),) = load_documents([tmp_path], variables={"cluster": "c1", "name": "from-inventory"}, values_files=[values], set_values=["replicas=3"])
    assert doc["metadata"]["name"] == "from-values"
    assert doc["data"] == {"replicas": "3", "typed": "True", "cluster": "c1"}


def test_load_reports_template_problems_with_line(tmp_path: Path) -> None:
    (tmp_path / "web.yaml.j2").write_text("kind: ConfigMap\nmetadata:\n  name: {{ nmae }}\n")
    with pytest.raises(ManifestError) as raised:
        load_documents([tmp_path / "web.yaml.j2"], variables={"name": "web"})
    assert str(raised.value) == f"{tmp_path}/web.yaml.j2: line 3: undefined variable: 'nmae' is undefined"


def test_yaml_errors_of_rendered_templates_say_so(tmp_path: Path) -> None:
    (tmp_path / "web.yaml.j2").write_text("a: 1\nb: {{ value }}\n")
    with pytest.raises(ManifestError) as raised:
        load_documents([tmp_path], set_values=["value=[x"])
    (problem,) = raised.value.problems
    assert str(problem).startswith(f"{tmp_path}/web.yaml.j2: line 3 of the rendered template: invalid YAML: ")


def test_bad_values_files_stop_rendering(tmp_path: Path) -> None:
    (tmp_path / "web.yaml.j2").write_text("a: {{ name }}\n")
    values = tmp_path / "values.yml"
    values.write_text("- a\n- b\n")
    with pytest.raises(ManifestError) as raised:
        load_documents([tmp_path / "web.yaml.j2"], values_files=[values, tmp_path / "missing.yaml"], set_values=["oops"])
    assert [str(p) for p in raised.value.problems] == [
        "--set: expected key=value (dotted keys for nested values), got 'oops'",
        f"{tmp_path}/missing.yaml: cannot be read: No such file or directory",
        f"{values}: must be a mapping of values, got a list",
    ]


# --- the sandbox: a template is a manifest, not a program ---------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: {{ cycler.__init__.__globals__.os.popen('id').read() }}\n",
         "line 2: not allowed in a template: access to attribute '__init__' of 'type' object is unsafe."),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}",
         "line 1: not allowed in a template: access to attribute '__class__' of 'str' object is unsafe."),
        ("{{ joiner.__init__.__globals__ }}", "line 1: not allowed in a template: access to attribute '__init__' of 'type' object is unsafe."),
        ("{% set xs = [] %}\n{{ xs.append(1) }}", "line 2: not allowed in a template: access to attribute 'append' of 'list' object is unsafe."),
        ("x\n{% for i in range(10**12) %}x{% endfor %}",
         "line 2: too big: range() of 1000000000000 items; a template may use at most 10000"),
        ("{{ 'a' * 10**9 }}",
         "line 1: too big: '*' would make 1000000000 items or characters; a template renders at most 4194304"),
        ("{{ [0] * 10**8 }}", "line 1: too big: '*' would make 100000000 items or characters; a template renders at most 4194304"),
        ("{{ 7 ** (10 ** 6) }}", "line 1: too big: '**' would make a number of about 3000000 bits; refused"),
        ("a:\n{% for i in range(10000) %}{% for j in range(10000) %}\n  - xxxxxxxxxx{% endfor %}{% endfor %}",
         "line 2: too big: the output passes 4 MiB, the most a manifest may be"),
        ("{{ lipsum(10**6) }}", "line 1: undefined variable: 'lipsum' is undefined"),
    ],
)  # fmt: skip
def test_the_sandbox_refuses_python_and_huge_output_with_one_line(text: str, expected: str) -> None:
    started = time.monotonic()
    with pytest.raises(ManifestError) as raised:
        render_template(text, {}, file="evil.yaml.j2")
    assert str(raised.value) == f"evil.yaml.j2: {expected}"
    assert time.monotonic() - started < 1.0


def test_what_manifests_use_still_renders() -> None:
    text = (
        "{% for i in range(3) %}{{ i }}{% endfor %} {{ dict(a=1) | to_json }} {{ [1, 2] * 2 }} {{ 2 ** 10 }} "
        "{{ 'ab' * 3 }} {{ items | map(attribute='n') | join(',') }} {{ cfg.items() | list }} {{ 'x' | b64encode }}"
    )
    rendered = render_template(text, {"items": [{"n": "a"}, {"n": "b"}], "cfg": {"k": "v"}}, file="ok.j2")
    assert rendered == '012 {"a": 1} [1, 2, 1, 2] 1024 ababab a,b [(\'k\', \'v\')] eA=='
