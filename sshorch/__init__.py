"""sshorch: agentless container orchestration over SSH."""

__version__ = "0.1.0"
