"""Garbage collection: stray containers, config/secret dirs no pod needs, scratch dirs of gone pods."""

from __future__ import annotations

import pytest

from sshorch.nodefiles import cluster_data_dir, cluster_run_dir
from sshorch.plan.model import Step
from sshorch.plan.naming import pod_name
from sshorch.spec.model import Desired
from tests.unit.plan.helpers import CLUSTER

from .helpers import (
    RUN_DIR,
    config_map,
    deployment,
    desired,
    moves,
    name_of,
    observe,
    observed_container,
    observed_pod,
    revision_of,
    run,
    the_action,
)


def with_config(level: str = "info", image: str = "localhost/web:v1") -> Desired:
    return desired(
        config_map("settings", LEVEL=level),
        deployment("web", image=image, volumes=[{"name": "cfg", "configMap": {"name": "settings"}}],
                   volume_mounts=[{"name": "cfg", "mountPath": "/etc/web"}]),
    )


APP = with_config()
(CONFIG_DIR,) = run(APP).actions[0].uses  # the dir the real code names for this ConfigMap volume
WEB0 = name_of(APP, "web", 0)
KEPT = observed_pod(APP, "web", 0, "n1", files=[CONFIG_DIR.removeprefix(RUN_DIR + "/")])


MINE = cluster_run_dir(CLUSTER)  # /run/sshorch/clusters/test
MY_DATA = cluster_data_dir(CLUSTER)


def test_the_config_dir_is_the_clusters_own_and_named_by_content() -> None:
    assert CONFIG_DIR.startswith(f"{MINE}/configs/default/settings-")
    assert CONFIG_DIR != run(with_config("debug")).actions[0].uses[0]


def test_stray_container_is_removed() -> None:
    stray = observed_container("leftover-main", labels={"sshorch.io/cluster": "test"})
    plan = run(APP, observe(KEPT, stray={"n2": [stray]}))
    assert moves(plan) == [("remove-container", "n2", "leftover-main")]
    (action,) = plan.actions
    assert action.steps == (Step(("podman", "rm", "--ignore", "-f", "-t", "0", "leftover-main")),)
    assert action.reason == "labelled ours but in no pod of ours"


def test_unused_dirs_go_and_used_ones_stay() -> None:
    stale = [
        f"{MINE}/configs/default/old-0123456789",
        f"{MINE}/secrets/default/creds-0123456789",
        f"{MINE}/pods/gone-0123456789-bcdfg",
        f"{MY_DATA}/pods/gone-0123456789-bcdfg",
        # Config and secret files of the layout before directories were scoped by cluster.
        f"{RUN_DIR}/configs/default/old-0123456789",
    ]
    kept = [CONFIG_DIR, f"{MY_DATA}/pods/{WEB0}", f"{MINE}/pods/{WEB0}"]
    plan = run(APP, observe(KEPT, file_dirs={"n1": stale + kept}))
    assert moves(plan) == [("remove-files", "n1", "5 dirs")]
    assert plan.actions[0].steps == (Step(("rm", "-rf", "--", *sorted(stale))),)
    assert plan.actions[0].reason == "no pod uses them"


def test_another_clusters_dirs_and_legacy_emptydir_data_are_never_cleaned() -> None:
    theirs = [
        f"{cluster_run_dir('other')}/configs/default/old-0123456789",
        f"{cluster_run_dir('other')}/pods/gone-0123456789-bcdfg",
        f"{cluster_data_dir('other')}/pods/gone-0123456789-bcdfg",
        # emptyDir data from before the scoping: whose it is cannot be told, so it stays.
        "/var/lib/sshorch/pods/gone-0123456789-bcdfg",
        f"{RUN_DIR}/pods/gone-0123456789-bcdfg",
    ]
    assert run(APP, observe(KEPT, file_dirs={"n1": [CONFIG_DIR, *theirs]})).empty


@pytest.mark.parametrize("path", [
    f"{RUN_DIR}/clusters/test/configs/default/..",
    "/etc",
    f"{RUN_DIR}/clusters/test/configs/default/x/../../../../etc",
    "/var/lib/sshorch/pods",
])
def test_a_path_a_node_reports_outside_our_directories_never_reaches_rm(path: str) -> None:
    assert run(APP, observe(KEPT, file_dirs={"n1": [CONFIG_DIR, path]})).empty


def test_nothing_to_clean_is_an_empty_plan() -> None:
    plan = run(APP, observe(KEPT, file_dirs={"n1": [CONFIG_DIR, f"{MY_DATA}/pods/{WEB0}"]}))
    assert plan.empty


def test_a_dir_present_for_a_new_pod_is_kept_and_not_sent_again() -> None:
    plan = run(APP, observe(file_dirs={"n1": [CONFIG_DIR]}))
    assert moves(plan) == [("create-pod", "n1", WEB0)]
    assert plan.actions[0].files == ()
    assert plan.actions[0].uses == (CONFIG_DIR,)


def test_a_new_pod_sends_its_files_when_the_dir_is_missing() -> None:
    (create,) = run(APP).actions
    assert [(f.path, f.data(), f.mode) for f in create.files] == [(f"{CONFIG_DIR}/LEVEL", b"info", 0o644)]


def test_a_changed_config_rolls_and_its_old_dir_goes_with_the_old_pod() -> None:
    debug = with_config("debug")
    (new_dir,) = run(debug).actions[0].uses
    new = observed_pod(debug, "web", 0, "n2", files=[new_dir.removeprefix(RUN_DIR + "/")])
    dirs = {"n1": [CONFIG_DIR], "n2": [new_dir]}
    old_pod = pod_name(CLUSTER, "default", "web", revision_of(APP, "web"), "0")

    starting = observed_pod(debug, "web", 0, "n2", status="Degraded", states=["exited"],
                            files=[new_dir.removeprefix(RUN_DIR + "/")])
    assert run(debug, observe(KEPT, starting, file_dirs=dirs)).empty  # both kept while the new one starts

    plan = run(debug, observe(KEPT, new, file_dirs=dirs))
    assert moves(plan) == [("remove-pod", "n1", old_pod), ("remove-files", "n1", "1 dirs")]
    assert the_action(plan, "remove-files", "1 dirs").steps == (Step(("rm", "-rf", "--", CONFIG_DIR)),)


def test_no_cleanup_on_an_unreachable_node() -> None:
    plan = run(APP, observe(KEPT, unreachable=["n2"], file_dirs={"n1": [CONFIG_DIR]}))
    assert plan.empty and plan.unreachable == ("n2",)
