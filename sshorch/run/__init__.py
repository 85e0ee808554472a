"""The run layer: what a command does with the cluster, effects at the edge."""
