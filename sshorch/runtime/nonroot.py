"""runAsNonRoot without runAsUser: the image's user decides, and only the node knows it.

As the kubelet does before it starts such a container, a small script reads the image's
user (`image inspect --format {{.Config.User}}`, after pulling as the policy says) and
refuses a root or non-numeric user with the kubelet's own message; else it runs the
create command it wraps. With pull policy Always the image is pulled here and again by
the create command (cheap: the second pull finds every layer).
"""

from __future__ import annotations

from sshorch.runtime.model import ContainerRun

Argv = list[str]

# $1 runtime, $2 image, $3 pull policy, $4 pod, $5 container; then the create command.
CHECK = """rt=$1 img=$2 pull=$3 pod=$4 name=$5; shift 5
case $pull in
  always) "$rt" pull -q "$img" >/dev/null || exit 1 ;;
  missing) "$rt" image inspect "$img" >/dev/null 2>&1 || "$rt" pull -q "$img" >/dev/null || exit 1 ;;
esac
user=$("$rt" image inspect --format '{{.Config.User}}' "$img") || exit 1
user=${user%%:*}
case $user in
  ''|0) echo "container has runAsNonRoot and image will run as root (pod: \\"$pod\\", container: $name)" >&2; exit 1 ;;
  *[!0-9]*) echo "container has runAsNonRoot and image has non-numeric user ($user), cannot verify user is non-root (pod: \\"$pod\\", container: $name)" >&2; exit 1 ;;
esac
exec "$@"
"""


def checked_non_root(runtime: str, create: Argv, container: ContainerRun) -> Argv:
    """`create`, run only when the image's user passes the container's runAsNonRoot check."""
    check = container.security.non_root_check
    if check is None:
        return create
    pod, name = check
    return ["sh", "-c", CHECK, "sshorch-non-root", runtime, container.image, container.pull, pod, name, *create]
