"""The labels sshorch puts on what it makes (pods, containers, volumes), and reads back
to know what it owns (DESIGN.md section 4). One place for both sides."""

CLUSTER_LABEL = "sshorch.io/cluster"
NAMESPACE_LABEL = "sshorch.io/namespace"
KIND_LABEL = "sshorch.io/kind"
OWNER_LABEL = "sshorch.io/owner"
REVISION_LABEL = "sshorch.io/revision"
POD_LABEL = "sshorch.io/pod"
SLOT_LABEL = "sshorch.io/slot"
CONTAINER_LABEL = "sshorch.io/container"
INFRA_LABEL = "sshorch.io/infra"  # docker: the container that is the pod
INIT_LABEL = "sshorch.io/init"  # on a pod's init containers: kept apart from its app containers
FILES_LABEL = "sshorch.io/files"  # the pod's config/secret dirs, comma-separated
VOLUME_LABEL = "sshorch.io/volume"  # on a named volume: its claim name
