"""Upper bounds on manifest input, each with why it is what it is.

Kubernetes' own bound is used where it has one. Where it has none, or where
its bound would let one manifest hold up or swamp a whole pass (sshorch runs
probes, stops and plans inside its passes, on one controller), the bound
chosen is stated here with its reason.
"""

from __future__ import annotations

# Kubernetes' integer fields are int32 (a few are int64): any integer field
# without a tighter bound takes no more than this, so no later arithmetic or
# record overflows.
INT32_MAX = 2**31 - 1

# Replicas of one workload (and a Job's parallelism, an autoscaler's
# maxReplicas). Kubernetes' tested limits are 110 pods a node and 5000 nodes;
# sshorch clusters are a few hundred nodes, so 5000 pods of one workload is
# beyond any real use while a typo (replicas: 1000000) is refused at load
# instead of planning a million pods.
MAX_REPLICAS = 5000

# A probe's timeoutSeconds: probes run inside the pass (side by side), which
# waits for the slowest; Kubernetes' int32 bound would let one probe hold
# every pass of the cluster for decades. One minute is far above any
# health check's real need.
MAX_PROBE_TIMEOUT_SECONDS = 60

# terminationGracePeriodSeconds: a stop waits this long inside the node's
# action exec, which is given 600 s in all (execute.EXEC_TIMEOUT); half of it
# leaves room for the node's other actions. Kubernetes has no bound (int64).
MAX_GRACE_PERIOD_SECONDS = 300

# A manifest or values file, before templates render: far above any real
# manifest (the biggest Kubernetes objects, CRDs, are about 1 MiB), small
# enough that reading and parsing it stays quick.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

# What a template may render to: the same as a manifest file.
MAX_RENDERED_BYTES = MAX_MANIFEST_BYTES

# The nodes (mappings, lists and scalars) one YAML document may expand to,
# each alias counted as a copy of what it names. A large Kubernetes object
# has a few thousand; ten levels of ten-fold aliases ("billion laughs")
# expand to ten billion. Walking 200000 values takes the controller about
# half a second.
MAX_YAML_NODES = 200_000

# How deeply mappings and lists may nest in a document: Kubernetes objects
# nest a dozen levels; every walk of a document is recursive somewhere.
MAX_YAML_DEPTH = 100

# An integer's characters in YAML or JSON: int64 has 19 digits; Python
# refuses to read more than 4300 and takes long on far fewer.
MAX_NUMBER_CHARACTERS = 100

# range() in templates: Jinja2's sandbox allows 100000 items; a manifest
# template needs a few hundred at most.
MAX_TEMPLATE_RANGE = 10_000
