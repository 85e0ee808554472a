from sshorch.run.passes import Outcome
from sshorch.run.apply import outcome_events
from sshorch.plan.nodescript import ActionResult, NodeResult, Report
from sshorch.plan.model import Action, ActionKind


def test_events_name_the_object_each_action_is_about() -> None:
    results = (
        ActionResult(Action(ActionKind.SYNC_RULES, "node1", "3 services", "service rules changed"), True),
        ActionResult(Action(ActionKind.CREATE_POD, "node1", "web-1", "new pod of deployment/default/web"), True),
        ActionResult(Action(ActionKind.REMOVE_FILES, "node1", "2 dirs", "no pod uses them"), True),
        ActionResult(Action(ActionKind.REMOVE_CONTAINER, "node1", "intruder", "labelled ours"), False, "Error: busy"),
    )
    outcome = Outcome(reports=[Report((NodeResult("node1", results), NodeResult("node2", error="timed out")))])
    events = [(e.object, e.reason, e.message) for e in outcome_events(outcome, 0.0)]
    assert events == [
        ("node/node1", "RulesSynced", "3 services: service rules changed"),
        ("pod/web-1", "Created", "new pod of deployment/default/web"),
        ("node/node1", "CleanedFiles", "2 dirs: no pod uses them"),
        ("container/intruder", "Failed", "remove-container intruder: labelled ours: Error: busy"),
        ("node/node2", "Unreachable", "timed out"),
    ]
