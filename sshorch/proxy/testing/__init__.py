"""A model of netfilter for tests and benchmarks: restore text read back into chains
(restore), one rule's matches (match) and where a packet lands (walk).

Nothing in a run imports this package; it lives beside the renderer, as Kubernetes
keeps pkg/util/iptables/testing, so tests and bench/ check the rendered rules
against the same model.
"""
