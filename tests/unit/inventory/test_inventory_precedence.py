"""Variable precedence: all < parent < child < host, group_vars/ and host_vars/ files."""

from __future__ import annotations

from sshorch.inventory import load_inventory

from .conftest import WriteTree

NESTED = """
    [all:vars]
    v=all
    [parent:children]
    child
    [parent:vars]
    v=parent
    [child]
    h1
    h2 v=host
    [child:vars]
    v=child
"""


def test_all_then_parent_then_child_then_host(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": NESTED})
    inventory = load_inventory(root / "inv.ini")
    assert inventory.host("h1").vars["v"] == "child"
    assert inventory.host("h2").vars["v"] == "host"


def test_equal_depth_groups_merge_by_name(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[b]\nh1\n[a]\nh1\n[c]\nh1\n[a:vars]\nv=a\n[b:vars]\nv=b\n[c:vars]\nw=c\n"})
    assert load_inventory(root / "inv.ini").host("h1").vars == {"v": "b", "w": "c"}


def test_a_deeper_group_wins_whatever_its_name(write_tree: WriteTree) -> None:
    root = write_tree({"inv.ini": "[zzz]\nh1\n[top:children]\naaa\n[aaa]\nh1\n[zzz:vars]\nv=zzz\n[aaa:vars]\nv=aaa\n"})
    assert load_inventory(root / "inv.ini").host("h1").vars["v"] == "aaa"


def test_depth_is_the_longest_path_from_all(write_tree: WriteTree) -> None:
    # 'leaf' is at depth 2 via 'short' but depth 3 via 'long1/long2', so it beats 'mid' (depth 2).
    root = write_tree(
        {
            "inv.ini": """
                [short:children]
                leaf
                [long1:children]
                long2
                [long2:children]
                leaf
                [mid:children]
                m
                [m]
                h1
                [leaf]
                h1
                [leaf:vars]
                v=leaf
                [m:vars]
                v=m
            """
        }
    )
    assert load_inventory(root / "inv.ini").host("h1").vars["v"] == "leaf"


def test_group_priority_reorders_groups_of_equal_depth(write_tree: WriteTree) -> None:
    root = write_tree(
        {"inv.ini": "[a]\nh1\n[b]\nh1\n[a:vars]\nv=a\nansible_group_priority=5\n[b:vars]\nv=b\n"}
    )
    inventory = load_inventory(root / "inv.ini")
    assert inventory.host("h1").vars == {"v": "a"}  # the priority itself is not a variable
    assert inventory.groups["a"].priority == 5
    assert "ansible_group_priority" not in inventory.groups["a"].vars


def test_group_priority_does_not_beat_depth(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.yml": """
                top:
                  vars: {v: top, ansible_group_priority: 100}
                  children:
                    low:
                      vars: {v: low}
                      hosts: {h1: }
            """
        }
    )
    assert load_inventory(root / "inv.yml").host("h1").vars["v"] == "low"


def test_group_vars_files_beat_inline_group_vars(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.ini": "[web]\nw1\n[web:vars]\na=inline\nb=inline\nc=inline\n",
            "group_vars/web.yml": "a: file\n",
            "group_vars/all.yml": "b: all-file\n",
        }
    )
    inventory = load_inventory(root / "inv.ini")
    # Ansible applies every group_vars/ file after every inline group variable,
    # so even group_vars/all.yml beats [web:vars].
    assert inventory.host("w1").vars == {"a": "file", "b": "all-file", "c": "inline"}
    assert inventory.groups["web"].vars == {"a": "file", "b": "inline", "c": "inline"}
    assert inventory.cluster_vars == {"b": "all-file"}


def test_host_vars_files_beat_inline_host_vars(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.ini": "[web]\nw1 a=inline b=inline\n",
            "group_vars/web.yml": "c: group\n",
            "host_vars/w1.yml": "a: file\nc: host-file\n",
        }
    )
    assert load_inventory(root / "inv.ini").host("w1").vars == {"a": "file", "b": "inline", "c": "host-file"}


def test_dicts_are_replaced_not_merged(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.yml": "web:\n  vars:\n    d: {x: 1, y: 2}\n  hosts:\n    w1:\n      d: {z: 3}\n    w2:\n",
            "group_vars/all.yml": "d: {all: 0}\n",
        }
    )
    inventory = load_inventory(root / "inv.yml")
    assert inventory.host("w1").vars["d"] == {"z": 3}
    assert inventory.host("w2").vars["d"] == {"all": 0}


def test_vars_directory_files_merge_in_sorted_order(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.ini": "[web]\nw1\n",
            "group_vars/web/b.yml": "v: b\n",
            "group_vars/web/a.yml": "v: a\nonly_a: 1\n",
            "group_vars/web/c/inner.yml": "v: c-inner\n",
            "group_vars/web/.hidden.yml": "v: hidden\n",
            "group_vars/web/d.yml~": "v: backup\n",
            "group_vars/web/e.txt": "v: text\n",
            "group_vars/web.yml": "v: ignored because web/ exists\n",
        }
    )
    assert load_inventory(root / "inv.ini").host("w1").vars == {"v": "c-inner", "only_a": 1}


def test_first_existing_vars_file_name_wins(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv.ini": "[web]\nw1\n[db]\nd1\n",
            "group_vars/web.yml": "v: yml\n",
            "group_vars/web.yaml": "v: yaml\n",
            "group_vars/db": "v: bare\n",
            "group_vars/db.json": '{"v": "json"}',
        }
    )
    inventory = load_inventory(root / "inv.ini")
    assert inventory.host("w1").vars["v"] == "yml"
    assert inventory.host("d1").vars["v"] == "bare"


def test_later_sources_win_and_each_has_its_own_vars_dirs(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "one/inv.ini": "[web]\nw1\n[web:vars]\nv=one\n",
            "one/group_vars/all.yml": "f: one\n",
            "two/inv.ini": "[web]\nw2\n[web:vars]\nv=two\n",
            "two/group_vars/all.yml": "f: two\n",
            "two/host_vars/w1.yml": "h: two\n",
        }
    )
    inventory = load_inventory([root / "one" / "inv.ini", root / "two" / "inv.ini"])
    assert inventory.sources == (str(root / "one" / "inv.ini"), str(root / "two" / "inv.ini"))
    assert inventory.host("w1").vars == {"v": "two", "f": "two", "h": "two"}


def test_directory_source_reads_vars_dirs_inside_it(write_tree: WriteTree) -> None:
    root = write_tree(
        {
            "inv/a.ini": "[web]\nw1\n",
            "inv/b.yml": "web:\n  hosts:\n    w2:\n",
            "inv/README.md": "not an inventory [\n",
            "inv/x.retry": "junk\n",
            "inv/group_vars/web.yml": "v: dir\n",
            "inv/sub/c.ini": "[web]\nw3\n",
            "inv/sub/group_vars/web.yml": "v: never read\n",
        }
    )
    inventory = load_inventory(root / "inv")
    assert [host.name for host in inventory.hosts] == ["w1", "w2", "w3"]
    assert {host.vars["v"] for host in inventory.hosts} == {"dir"}
